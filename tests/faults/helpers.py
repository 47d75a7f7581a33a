"""Small shared pieces of the fault suite: the call under test, stream draining, backoff bounds."""

from __future__ import annotations

import json
from typing import Any, List, Sequence, Tuple

from tests.conftest import resolve

MODEL = "openai/gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
CHAT = "/v1/chat/completions"

# The default policy (initial 0.5 s, doubling, +/-20 % jitter): the window of each retry's delay.
BACKOFF = [(0.4, 0.6), (0.8, 1.2), (1.6, 2.4), (3.2, 4.8)]


def assert_backoff(sleeps: Sequence[float], count: int) -> None:
    assert len(sleeps) == count, sleeps
    for delay, (low, high) in zip(sleeps, BACKOFF):
        assert low <= delay <= high, (sleeps, BACKOFF[:count])


def assert_hinted(sleeps: Sequence[float], hint: float, count: int) -> None:
    """Each delay honours the server's hint as a floor; jitter adds at most 20 %."""
    assert len(sleeps) == count, sleeps
    for delay in sleeps:
        assert hint <= delay <= hint * 1.2 + 1e-9, (sleeps, hint)


async def create(client: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", MESSAGES)
    return await resolve(client.chat.completions.create(**kwargs))


async def drain(stream: Any, got: List[Any]) -> None:
    """Iterate ``stream`` (sync or async) into ``got``, so the caller sees what arrived before a failure."""
    if hasattr(stream, "__aiter__"):
        async for item in stream:
            got.append(item)
    else:
        for item in stream:
            got.append(item)


async def stream_chat(client: Any, **kwargs: Any) -> Tuple[Any, List[Any]]:
    """Open a chat stream and read it to the end; returns ``(stream, items)``."""
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", MESSAGES)
    stream = client.chat.completions.stream(**kwargs)
    got: List[Any] = []
    await drain(stream, got)
    return stream, got


def text_of(chunks: Sequence[Any]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices and c.choices[0].delta)


def chunk_frame(i: int, content: str) -> bytes:
    """One well-formed chat chunk SSE event."""
    payload = {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": MODEL,
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"
