"""Several chat completions concurrently with the async client."""

import asyncio

from meshapi import AsyncMeshAPI


async def main() -> None:
    async with AsyncMeshAPI() as client:
        questions = ["What is a CRDT?", "What is a B-tree?", "What is a bloom filter?"]
        replies = await asyncio.gather(
            *(
                client.chat.completions.create(
                    model="openai/gpt-4o-mini", messages=[{"role": "user", "content": q}], max_tokens=40
                )
                for q in questions
            )
        )
        for question, reply in zip(questions, replies):
            print(question, "->", reply.choices[0].message.content)
        async for text in client.chat.completions.stream(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Count to three."}]
        ).text_stream:
            print(text, end="")
        print()


asyncio.run(main())
