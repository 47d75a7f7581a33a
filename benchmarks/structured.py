"""Structured outputs beside plain calls: ``events()`` next to plain iteration, ``parse()`` next to ``create()``.

No sockets (an ``httpx.MockTransport`` serves a recorded answer), so the figures are the SDK's own cost:

* ``structured_stream`` variants, each over the same stream of a JSON answer cut into ``size`` chunks,
  in chunks/s: ``iterate`` (plain iteration, the 0.1.4 way), ``events`` (``events()`` with a
  ``response_format`` model, reading every delta's ``parsed``), ``events_unread`` (``events()``
  without reading ``parsed``) and ``parsing_alone`` (the partial-JSON parsing and final validation
  that ``events`` does, without any stream). The claim: ``events`` costs about ``iterate`` plus
  ``parsing_alone``, i.e. the events machinery itself adds little (``overhead_us_per_chunk``).
* ``structured_call``: ``create`` (plain) and ``parse`` (the same reply validated into a model), calls/s.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List

import httpx

_MODEL_KW = {"model": "bench/echo-1", "messages": [{"role": "user", "content": "Give me the records."}]}


def _answer(chunks: int) -> str:
    records = [{"name": f"item {i}", "score": i, "tags": ["a", "b"]} for i in range(max(1, chunks // 8))]
    return json.dumps({"records": records, "total": len(records)})


def _pieces(text: str, chunks: int) -> List[str]:
    size = max(1, -(-len(text) // chunks))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _sse(pieces: List[str]) -> bytes:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "bench/echo-1"}
    frames = [
        {**head, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces
    ]
    frames.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + json.dumps(f).encode() + b"\n\n" for f in frames) + b"data: [DONE]\n\n"


def _models() -> Any:
    from typing import List as ListT

    from pydantic import BaseModel

    class Record(BaseModel):
        name: str
        score: int
        tags: ListT[str]

    class Records(BaseModel):
        records: ListT[Record]
        total: int

    return Records


def structured_stream(variant: str, base: str, size: int) -> Dict[str, Any]:
    from meshapi import MeshAPI
    from meshapi.lib._text import TextBuffer
    from meshapi.lib.chat_events import PartialReader

    records = _models()
    text = _answer(size)
    pieces = _pieces(text, size)
    raw = _sse(pieces)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})

    def once() -> int:
        if variant == "parsing_alone":
            buffer = TextBuffer()
            reader = PartialReader(buffer)
            for piece in pieces:
                buffer.add(piece)
                reader.at(buffer.length)
            records.model_validate_json(buffer.value())
            return len(pieces)
        stream = mesh.chat.completions.stream(response_format=records, **_MODEL_KW)
        count = 0
        with stream:
            if variant == "iterate":
                for _chunk in stream:
                    count += 1
            else:
                for event in stream.events():
                    if event.type == "content.delta":
                        count += 1
                        if variant == "events":
                            event.parsed  # noqa: B018 - reading it is the work measured
                    elif event.type == "content.done":
                        assert event.parsed.total == len(event.parsed.records)
        return count

    with MeshAPI(
        base_url="http://bench.test",
        token="rsk_bench",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    ) as mesh:
        once()  # warm-up
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            counted = once()
            timings.append(time.perf_counter() - start)
    elapsed = sorted(timings)[1]
    return {
        "chunks": len(pieces),
        "counted": counted,
        "seconds": elapsed,
        "value": len(pieces) / elapsed,
        "us_per_chunk": elapsed * 1e6 / len(pieces),
        "answer_kb": len(text) / 1e3,
    }


def structured_call(variant: str, base: str, size: int) -> Dict[str, Any]:
    from meshapi import MeshAPI

    records = _models()
    content = _answer(64)
    body = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "bench/echo-1",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }
    payload = json.dumps(body).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=payload, headers={"content-type": "application/json"})

    with MeshAPI(
        base_url="http://bench.test",
        token="rsk_bench",
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    ) as mesh:
        calls = mesh.chat.completions

        def one() -> None:
            if variant == "parse":
                calls.parse(response_format=records, **_MODEL_KW)
            else:
                calls.create(**_MODEL_KW)

        for _ in range(20):
            one()
        start = time.perf_counter()
        for _ in range(size):
            one()
        elapsed = time.perf_counter() - start
    return {"calls": size, "seconds": elapsed, "value": size / elapsed, "us_per_call": elapsed * 1e6 / size}
