"""Structured outputs: a validated pydantic object back from parse(), a pydantic tool, and stream events.

Run against the local gateway: MESHAPI_BASE_URL=http://127.0.0.1:<port> MESHAPI_TOKEN=rsk_... python
examples/structured_outputs.py (``meshapi gateway`` starts one).
"""

from typing import List

from pydantic import BaseModel

from meshapi import MeshAPI, pydantic_function_tool


class Recipe(BaseModel):
    title: str
    servings: int
    ingredients: List[str]


class SetTimer(BaseModel):
    """Start a kitchen timer."""

    minutes: int
    label: str


def main() -> None:
    with MeshAPI() as client:
        recipe = client.chat.completions.parse(
            messages=[{"role": "user", "content": "A pancake recipe for 4 people."}],
            response_format=Recipe,
            max_retries=1,
        )
        print("parsed:", recipe)

        reply = client.chat.completions.create(
            messages=[{"role": "user", "content": "Set a timer for 12 minutes for the pasta."}],
            tools=[pydantic_function_tool(SetTimer)],
            tool_choice="required",
        )
        for call in reply.choices[0].message.tool_calls or []:
            print("tool call:", call.function.name, call.function.parsed_arguments)

        with client.chat.completions.stream(
            messages=[{"role": "user", "content": "A soup recipe for 2."}], response_format=Recipe
        ) as stream:
            for event in stream.events():
                if event.type == "content.delta":
                    print("partial:", event.parsed)
                elif event.type == "content.done":
                    print("done:", event.parsed)


if __name__ == "__main__":
    main()
