"""``client.tokens.estimate`` against the local gateway's own prompt-token counts, over real sockets: the
heuristic's error on a corpus of conversations (prose, code, numbers, URLs, other languages, tool calls,
tools, response formats) stays within the bound the README states; the async twin counts the same."""

# ruff: noqa: RUF001 - the corpus has text in other scripts on purpose

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._core.tokens import count_text

MODEL = "openai/gpt-4o-mini"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}  # fmt: skip


def user(text: str) -> Dict[str, Any]:
    return {"role": "user", "content": text}


#: (messages, extra arguments) of each conversation in the corpus.
CORPUS: List[Tuple[List[Dict[str, Any]], Dict[str, Any]]] = [
    ([user("Hello!")], {}),
    ([user("What is the capital of France?")], {}),
    ([user("Summarize the plot of Hamlet in two sentences, please.")], {}),
    (
        [
            {"role": "system", "content": "You are a terse assistant. Answer in one word."},
            user("Is water wet?"),
        ],
        {},
    ),
    ([user("Explain how a hash table handles collisions, with an example in Python.")], {}),
    (
        [user("def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nWhat is wrong with this?")],
        {},
    ),
    ([user("SELECT name, COUNT(*) FROM orders GROUP BY name HAVING COUNT(*) > 10 ORDER BY 2 DESC;")], {}),
    ([user("Convert 3.14159 radians to degrees and round to 2 decimals: 180/pi * x = ?")], {}),
    (
        [user("My order #A-20391 from 2026-03-14 arrived damaged; the tracking id was 1Z999AA10123456784.")],
        {},
    ),
    (
        [
            user(
                "Visit https://example.com/docs/v2/getting-started?lang=en#install for the installation guide."
            )
        ],
        {},
    ),
    ([user("Internationalization, localization and accessibility are frequently abbreviated.")], {}),
    ([user("Pneumonoultramicroscopicsilicovolcanoconiosis is a notoriously long word.")], {}),
    ([user("¿Dónde está la biblioteca? Necesito devolver tres libros antes del viernes.")], {}),
    ([user("Wie spät ist es in Berlin, wenn es in New York 9 Uhr morgens ist?")], {}),
    ([user("Écris un poème court sur l'automne et les feuilles qui tombent.")], {}),
    ([user("東京の天気はどうですか？明日は雨が降りますか？")], {}),
    ([user("Привет! Как дела? Расскажи мне о погоде в Москве.")], {}),
    ([user('JSON please: {"name": "Ada", "born": 1815, "languages": ["English", "French"]}')], {}),
    (
        [
            user("List five prime numbers greater than 100."),
            {"role": "assistant", "content": "101, 103, 107, 109, 113."},
            user("Now five more after those."),
        ],
        {},
    ),
    (
        [
            user("Tell me a joke."),
            {
                "role": "assistant",
                "content": "Why did the scarecrow win an award? Because he was outstanding in his field.",
            },
            user("Another one, about programmers."),
        ],
        {},
    ),
    ([user("What is the weather in Paris?")], {"tools": [WEATHER]}),
    ([user("What is the weather in Paris and in Rome?")], {"tools": [WEATHER]}),
    (
        [
            user("What is the weather in Paris?"),
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "Paris: rain, 9 celsius"},
        ],
        {"tools": [WEATHER]},
    ),
    ([user("Give me a recipe for pancakes with the ingredients as a list.")], {}),
    ([user("The quick brown fox jumps over the lazy dog. " * 8)], {}),
    (
        [
            user(
                "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
                "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris."
            )
        ],
        {},
    ),
    ([user("Translate to English: 'Je pense, donc je suis.'")], {}),
    ([user("A train leaves at 14:35 and arrives at 18:05. How long is the journey in minutes?")], {}),
    ([user("Write a haiku about continuous integration pipelines failing at 3 a.m.")], {}),
    ([user("Compare PostgreSQL, MySQL and SQLite for a small read-heavy web application.")], {}),
    (
        [
            user(
                "Email: jane.doe+newsletter@example.org, phone: +1 (555) 010-2030. Update my contact details."
            )
        ],
        {},
    ),
    (
        [user("Classify the sentiment of: 'The battery life is disappointing but the screen is gorgeous.'")],
        {},
    ),
    (
        [user("Extract the city from: 'I moved to Lisbon last spring.'")],
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "place",
                    "schema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                },
            }
        },
    ),
    ([user("Return a JSON object with keys a and b.")], {"response_format": {"type": "json_object"}}),
    (
        [
            {
                "role": "system",
                "content": "You translate user messages into formal German. Keep the meaning exact.",
            },
            user("Hey, can you send me the report by tomorrow? Thanks a lot!"),
        ],
        {},
    ),
    (
        [
            user(
                "README.md, setup.cfg, pyproject.toml and tox.ini: which of these does a modern project need?"
            )
        ],
        {},
    ),
    ([user("x = [i ** 2 for i in range(10) if i % 3 == 0]; print(sum(x))  # what does this print?")], {}),
    (
        [
            user(
                "Name three counterintuitive results in probability theory and explain one of them thoroughly."
            )
        ],
        {},
    ),
    ([user("ok")], {}),
    ([user("Why is the sky blue? Keep it under fifty words, suitable for a curious eight-year-old.")], {}),
]


@pytest.fixture(autouse=True)
def _no_tiktoken_cache(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TIKTOKEN_CACHE_DIR", str(tmp_path)
    )  # the heuristic is measured, even where tiktoken could count


def measure(client: MeshAPI, with_format: bool) -> List[Tuple[int, int, Dict[str, Any]]]:
    rows = []
    for messages, extra in CORPUS:
        if ("response_format" in extra) != with_format:
            continue
        served = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=5, **extra)
        estimate = client.tokens.estimate(model=MODEL, messages=messages, **extra)
        assert not estimate.exact and estimate.encoding == "heuristic"
        assert served.usage is not None
        rows.append((estimate.prompt_tokens, served.usage.prompt_tokens, extra))
    return rows


def test_the_heuristic_error_on_the_corpus_stays_within_the_stated_bound(client: MeshAPI) -> None:
    rows = measure(client, with_format=False)
    errors = [(estimate - served) / served for estimate, served, _ in rows]
    mean, worst = sum(errors) / len(errors), max(errors)
    print(f"{len(rows)} conversations: mean {mean:+.1%}, worst {worst:+.1%}, least {min(errors):+.1%}")
    assert len(rows) == 38
    # README "Token estimates": 13 % more than the gateway on average, at most 62 %, never fewer
    assert min(errors) >= 0 and mean <= 0.14 and worst <= 0.62


def test_a_response_format_is_counted_though_the_gateway_does_not(client: MeshAPI) -> None:
    rows = measure(client, with_format=True)
    assert len(rows) == 2
    for estimate, served, extra in rows:  # the format's JSON on top (providers put it in the prompt)
        messages = next(m for m, e in CORPUS if e is extra)
        without = client.tokens.estimate(model=MODEL, messages=messages).prompt_tokens
        assert estimate - without == count_text(json.dumps(extra["response_format"])) and served <= without


async def test_the_async_twin_counts_the_same(async_client: AsyncMeshAPI, client: MeshAPI) -> None:
    for messages, extra in CORPUS[:5]:
        mine = await async_client.tokens.estimate(model=MODEL, messages=messages, **extra)
        assert mine == client.tokens.estimate(model=MODEL, messages=messages, **extra)
