"""Agent frameworks pointed at the local gateway as an OpenAI-compatible endpoint: pydantic-ai and the
OpenAI Agents SDK run real agent loops over real sockets, one test per agent pattern.

1. a tool call, then a typed answer through a strict ``json_schema`` (structured output after a tool result);
2. typed output through an output tool offered beside the real tools under ``tool_choice: "required"``;
3. prompted output: JSON mode with the schema in the prompt;
4. chained Responses (``previous_response_id``);
and a scripted agent run (the gateway's scripted replies: tool calls, then the answer, turn by turn).

The frameworks are optional test dependencies (the ``dev`` extra installs them where they support the
Python version); each test skips, saying why, where its framework cannot be installed. Every run is
bounded: a request limit or ``max_turns``, no client retries, a 10 s timeout per request.
"""

from __future__ import annotations

import os
from typing import Any, AsyncIterator, Dict, List

import httpx
import pytest
from pydantic import BaseModel

pytest.importorskip("starlette")

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")  # the Agents SDK would export traces upstream

PROMPT = "What is the weather in Paris?"


class Weather:
    """The app's tool (``weather``): records each call, answers from a fixed table."""

    def __init__(self) -> None:
        self.cities: List[str] = []

        def weather(city: str) -> str:
            """Current weather for a city."""
            self.cities.append(city)
            return f"{city}: 21 C, sunny"

        self.tool = weather


@pytest.fixture
def weather() -> Weather:
    return Weather()


@pytest.fixture
async def openai_client(meshapi_gateway: Any) -> AsyncIterator[Any]:
    """The openai package's client on the local gateway (closed after the test, on its event loop)."""
    openai = pytest.importorskip(
        "openai", reason="the openai package (Python 3.10+) comes with the frameworks"
    )
    base_url = meshapi_gateway.base_url + "/v1"
    client = openai.AsyncOpenAI(base_url=base_url, api_key=meshapi_gateway.token, max_retries=0, timeout=10)
    yield client
    await client.close()


class City(BaseModel):
    city: str
    temperature_c: int


def whole_conversation_tokens(gateway: Any, turns: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The same conversation sent whole to ``/v1/responses`` (what a chained turn must equal)."""
    headers = {"Authorization": f"Bearer {gateway.token}"}
    body = {"model": "openai/gpt-4o-mini", "input": turns}
    response = httpx.post(gateway.base_url + "/v1/responses", json=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    return dict(response.json())


def output_text(response: Dict[str, Any]) -> str:
    return str(next(i for i in response["output"] if i["type"] == "message")["content"][0]["text"])


# -- pydantic-ai ----------------------------------------------------------------------------------------


@pytest.fixture
def pydantic_ai() -> Any:
    reason = "pydantic-ai is not installed (the dev extra installs it on Python 3.11+)"
    return pytest.importorskip("pydantic_ai", reason=reason)


def pai_chat_agent(openai_client: Any, output_type: Any, weather: Weather) -> Any:
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIChatModel("gpt-4o-mini", provider=OpenAIProvider(openai_client=openai_client))
    return Agent(model, output_type=output_type, tools=[weather.tool])


async def pai_run(agent: Any, prompt: str = PROMPT) -> Any:
    from pydantic_ai import UsageLimits

    return await agent.run(prompt, usage_limits=UsageLimits(request_limit=4))


async def test_pydantic_ai_tool_then_typed_answer_through_json_schema(
    pydantic_ai: Any, openai_client: Any, weather: Weather
) -> None:
    result = await pai_run(pai_chat_agent(openai_client, pydantic_ai.NativeOutput(City), weather))
    assert weather.cities == ["Paris"]
    assert result.output.city == "Paris"
    assert result.usage.requests == 2


async def test_pydantic_ai_output_tool_with_required_tool_choice(
    pydantic_ai: Any, openai_client: Any, weather: Weather, meshapi_gateway: Any
) -> None:
    result = await pai_run(pai_chat_agent(openai_client, City, weather))
    assert weather.cities == ["Paris"]
    assert result.output.city == "Paris"
    assert [r.json["tool_choice"] for r in meshapi_gateway.requests] == ["required", "required"]


async def test_pydantic_ai_prompted_json_output(
    pydantic_ai: Any, openai_client: Any, weather: Weather
) -> None:
    result = await pai_run(pai_chat_agent(openai_client, pydantic_ai.PromptedOutput(City), weather))
    assert weather.cities == ["Paris"]
    assert result.output.city == "Paris"
    assert result.usage.requests == 2


async def test_pydantic_ai_chains_responses(
    pydantic_ai: Any, openai_client: Any, meshapi_gateway: Any
) -> None:
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    model = OpenAIResponsesModel("gpt-4o-mini", provider=OpenAIProvider(openai_client=openai_client))
    agent = pydantic_ai.Agent(model, model_settings={"openai_previous_response_id": "auto"})
    first = await agent.run("Remember the code word: pelican.")
    second = await agent.run("Which code word did I give you?", message_history=first.all_messages())
    sent = [r.json for r in meshapi_gateway.requests]
    assert sent[1]["previous_response_id"] == first.all_messages()[-1].provider_response_id
    assert [i.get("role") for i in sent[1]["input"]] == ["user"]  # the history stayed on the gateway
    whole = whole_conversation_tokens(
        meshapi_gateway,
        [
            {"role": "user", "content": "Remember the code word: pelican."},
            {"role": "assistant", "content": first.output},
            {"role": "user", "content": "Which code word did I give you?"},
        ],
    )
    assert second.usage.input_tokens == whole["usage"]["input_tokens"]
    assert second.output == output_text(whole)


SCRIPT = [
    {
        "match": "weather in Oslo",
        "turns": [
            {"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]},
            {"tool_calls": [{"name": "final_result", "arguments": {"city": "Oslo", "temperature_c": 9}}]},
        ],
    }
]


@pytest.mark.parametrize("streamed", [False, True], ids=["run", "run_stream"])
async def test_pydantic_ai_scripted_agent_run(
    pydantic_ai: Any, openai_client: Any, weather: Weather, meshapi_replies: Any, streamed: bool
) -> None:
    meshapi_replies.add(SCRIPT)
    agent = pai_chat_agent(openai_client, City, weather)
    if streamed:
        async with agent.run_stream("What is the weather in Oslo?") as run:
            output = await run.get_output()
    else:
        output = (await pai_run(agent, "What is the weather in Oslo?")).output
    assert output == City(city="Oslo", temperature_c=9)
    assert weather.cities == ["Oslo"]


# -- OpenAI Agents SDK ----------------------------------------------------------------------------------


@pytest.fixture
def agents() -> Any:
    reason = "the OpenAI Agents SDK is not installed (the dev extra installs it on Python 3.10+)"
    module = pytest.importorskip("agents", reason=reason)
    module.set_tracing_disabled(True)
    return module


def sdk_chat_agent(agents: Any, openai_client: Any, weather: Weather, **options: Any) -> Any:
    model = agents.OpenAIChatCompletionsModel("gpt-4o-mini", openai_client)
    return agents.Agent(name="forecaster", model=model, tools=[agents.function_tool(weather.tool)], **options)


async def test_agents_sdk_tool_then_typed_answer_through_json_schema(
    agents: Any, openai_client: Any, weather: Weather
) -> None:
    agent = sdk_chat_agent(agents, openai_client, weather, output_type=City)
    result = await agents.Runner.run(agent, PROMPT, max_turns=4)
    assert weather.cities == ["Paris"]
    assert result.final_output.city == "Paris"


async def test_agents_sdk_required_tool_choice_ends_with_the_answer_tool(
    agents: Any, openai_client: Any, weather: Weather
) -> None:
    answers: List[Dict[str, Any]] = []

    def final_answer(city: str, temperature_c: int) -> str:
        """Give the final answer: the city and its temperature."""
        answers.append({"city": city, "temperature_c": temperature_c})
        return f"{city}: {temperature_c} C"

    agent = sdk_chat_agent(
        agents,
        openai_client,
        weather,
        model_settings=agents.ModelSettings(tool_choice="required"),
        reset_tool_choice=False,
        tool_use_behavior=agents.StopAtTools(stop_at_tool_names=["final_answer"]),
    )
    agent.tools.append(agents.function_tool(final_answer))
    result = await agents.Runner.run(agent, PROMPT, max_turns=4)
    assert weather.cities == ["Paris"]
    assert [a["city"] for a in answers] == ["Paris"]
    assert result.final_output == f"Paris: {answers[0]['temperature_c']} C"


async def test_agents_sdk_chains_responses(agents: Any, openai_client: Any, meshapi_gateway: Any) -> None:
    agent = agents.Agent(name="memory", model=agents.OpenAIResponsesModel("gpt-4o-mini", openai_client))
    first = await agents.Runner.run(agent, "Remember the code word: pelican.", max_turns=2)
    second = await agents.Runner.run(
        agent, "Which code word did I give you?", previous_response_id=first.last_response_id, max_turns=2
    )
    streamed = agents.Runner.run_streamed(
        agent, "Which code word did I give you?", previous_response_id=first.last_response_id, max_turns=2
    )
    async for _ in streamed.stream_events():
        pass
    sent = [r.json for r in meshapi_gateway.requests]
    assert [s.get("previous_response_id") for s in sent] == [
        None,
        first.last_response_id,
        first.last_response_id,
    ]
    whole = whole_conversation_tokens(
        meshapi_gateway,
        [
            {"role": "user", "content": "Remember the code word: pelican."},
            {"role": "assistant", "content": first.final_output},
            {"role": "user", "content": "Which code word did I give you?"},
        ],
    )
    assert second.context_wrapper.usage.input_tokens == whole["usage"]["input_tokens"]
    assert second.final_output == streamed.final_output == output_text(whole)
    with pytest.raises(pytest.importorskip("openai").NotFoundError, match="Previous response 'resp_gone'"):
        await agents.Runner.run(agent, "Which?", previous_response_id="resp_gone", max_turns=2)


async def test_agents_sdk_scripted_agent_run(
    agents: Any, openai_client: Any, weather: Weather, meshapi_replies: Any
) -> None:
    meshapi_replies.add(
        [
            {
                "match": "weather in Oslo",
                "turns": [
                    {"tool_calls": [{"name": "weather", "arguments": {"city": "Oslo"}}]},
                    {"json": {"city": "Oslo", "temperature_c": 9}},
                ],
            }
        ]
    )
    agent = sdk_chat_agent(agents, openai_client, weather, output_type=City)
    result = await agents.Runner.run(agent, "What is the weather in Oslo?", max_turns=4)
    assert result.final_output == City(city="Oslo", temperature_c=9)
    assert weather.cities == ["Oslo"]
