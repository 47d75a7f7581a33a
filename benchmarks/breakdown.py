"""Where the time of one stream chunk and one completion goes: ``python -m benchmarks.breakdown``.

No sockets: the bytes a server would send are replayed from memory (``httpx.MockTransport``), so each
line is the client's CPU cost alone, in microseconds per chunk (or per request), as the median of a few
timed loops. ``--profile`` adds a cProfile summary of the SDK reading one stream.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import time
from typing import Any, Callable, Dict, List, Optional

import httpx
from pydantic import BaseModel, ConfigDict

from meshapi import MeshAPI
from meshapi._core.sse import SSEDecoder
from meshapi.lib.chat import ChatChunkDecoder, ChatCompletionAccumulator
from meshapi.types.chat import ChatCompletionChunk, ChatCompletionResponse

from .server import _COMPLETION_BODY, _TAIL, build_event

__all__ = ["main"]

CHUNKS = 20_000
TOKEN = "rsk_benchmark_token_0000"


def _per_item(function: Callable[[], Any], items: int, repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) / items * 1e6


class _Plain(BaseModel):  # what the chunk models cost without MeshModel's private attributes
    model_config = ConfigDict(extra="ignore")


class _PlainDelta(_Plain):
    role: Optional[str] = None
    content: Optional[str] = None
    tool_calls: Optional[List[Dict[str, Any]]] = None
    audio: Optional[Dict[str, Any]] = None


class _PlainChoice(_Plain):
    index: int
    delta: Optional[_PlainDelta] = None
    finish_reason: Optional[str] = None


class _PlainChunk(_Plain):
    id: str
    object: str
    created: int
    model: str
    choices: List[_PlainChoice]
    usage: Optional[Dict[str, Any]] = None
    cost: Optional[str] = None


def stream_rows() -> List[tuple[str, float]]:
    events = [build_event(i) for i in range(CHUNKS)]
    payload = b"".join(events)
    reads = [payload[i : i + 65536] for i in range(0, len(payload), 65536)]
    datas = [event[6:-2].decode() for event in events]
    chunk = ChatCompletionChunk.model_validate_json(datas[0])

    def sse_only() -> None:
        decoder = SSEDecoder()
        for read in reads:
            decoder.feed(read)

    def sse_and_chat_decoder() -> None:
        sse, chat = SSEDecoder(), ChatChunkDecoder()
        for read in reads:
            for event in sse.feed(read):
                chat.decode(event)

    def validate() -> None:
        for data in datas:
            ChatCompletionChunk.model_validate_json(data)

    def validate_plain() -> None:
        for data in datas:
            _PlainChunk.model_validate_json(data)

    def loads() -> None:
        for data in datas:
            json.loads(data)

    def accumulate() -> None:
        accumulator = ChatCompletionAccumulator()
        for _ in range(CHUNKS):
            accumulator.add(chunk)

    body = payload + _TAIL

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=[body[i : i + 65536] for i in range(0, len(body), 65536)])

    def raw_httpx() -> None:
        client = httpx.Client(transport=httpx.MockTransport(handler))
        try:
            with client.stream("POST", "http://bench.test/v1/chat/completions") as response:
                for line in response.iter_lines():
                    if line.startswith("data:") and line != "data: [DONE]":
                        for choice in json.loads(line[5:])["choices"]:
                            choice["delta"].get("content")
        finally:
            client.close()

    mesh = MeshAPI(
        base_url="http://bench.test",
        token=TOKEN,
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )

    def sdk_chunks() -> None:
        with mesh.chat.completions.stream(model="m", messages=[{"role": "user", "content": "x"}]) as stream:
            for _ in stream:
                pass

    def sdk_text() -> None:
        with mesh.chat.completions.stream(model="m", messages=[{"role": "user", "content": "x"}]) as stream:
            for _ in stream.text_stream:
                pass

    rows = [
        ("raw httpx: iter_lines + json.loads (whole stream)", _per_item(raw_httpx, CHUNKS)),
        ("SDK: typed chunks (whole stream)", _per_item(sdk_chunks, CHUNKS)),
        ("SDK: text_stream (whole stream)", _per_item(sdk_text, CHUNKS)),
        ("  SSEDecoder.feed alone", _per_item(sse_only, CHUNKS)),
        ("  SSEDecoder + ChatChunkDecoder.decode", _per_item(sse_and_chat_decoder, CHUNKS)),
        ("  ChatCompletionChunk.model_validate_json", _per_item(validate, CHUNKS)),
        ("  same fields, models without private attributes", _per_item(validate_plain, CHUNKS)),
        ("  json.loads of the same data", _per_item(loads, CHUNKS)),
        ("  ChatCompletionAccumulator.add", _per_item(accumulate, CHUNKS)),
    ]
    mesh.close()
    return rows


def request_rows() -> List[tuple[str, float]]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_COMPLETION_BODY, headers={"content-type": "application/json"})

    count = 3000
    messages = [{"role": "user", "content": "Say hello."}]
    raw = httpx.Client(transport=httpx.MockTransport(handler))
    mesh = MeshAPI(
        base_url="http://bench.test",
        token=TOKEN,
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )

    def raw_calls() -> None:
        for _ in range(count):
            response = raw.post(
                "http://bench.test/v1/chat/completions", json={"model": "m", "messages": messages}
            )
            json.loads(response.content)

    def sdk_calls() -> None:
        for _ in range(count):
            mesh.chat.completions.create(model="m", messages=messages)

    def validate() -> None:
        for _ in range(count):
            ChatCompletionResponse.model_validate_json(_COMPLETION_BODY)

    rows = [
        ("raw httpx: post + json.loads", _per_item(raw_calls, count)),
        ("SDK: chat.completions.create", _per_item(sdk_calls, count)),
        ("  ChatCompletionResponse.model_validate_json", _per_item(validate, count)),
    ]
    raw.close()
    mesh.close()
    return rows


def profile_stream() -> str:
    body = b"".join(build_event(i) for i in range(CHUNKS)) + _TAIL

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=[body[i : i + 65536] for i in range(0, len(body), 65536)])

    mesh = MeshAPI(
        base_url="http://bench.test",
        token=TOKEN,
        httpx_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    profiler = cProfile.Profile()
    profiler.enable()
    with mesh.chat.completions.stream(model="m", messages=[{"role": "user", "content": "x"}]) as stream:
        for _ in stream:
            pass
    profiler.disable()
    mesh.close()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown")
    parser.add_argument("--profile", action="store_true", help="add a cProfile summary of one SDK stream")
    args = parser.parse_args(argv)
    print("| per stream chunk | us |\n| --- | ---: |")
    for name, micros in stream_rows():
        print(f"| {name} | {micros:.2f} |")
    print("\n| per completion (no socket) | us |\n| --- | ---: |")
    for name, micros in request_rows():
        print(f"| {name} | {micros:.1f} |")
    if args.profile:
        print("\n" + profile_stream())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
