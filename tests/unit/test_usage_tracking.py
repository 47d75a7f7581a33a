"""``client.track_usage()`` on httpx.MockTransport, sync and async: every answered call made in the
tracker's context is recorded once (JSON replies, streams at their end, retries, fallback hops, compare's
models, embeddings, images, speech), in threads started with the context and in asyncio tasks (a bare
thread is not covered), nested trackers, and the exact costs looked up from the usage events on exit."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

import httpx
import pytest

from meshapi import AsyncMeshAPI, UsageRecord
from meshapi._core.usage import StreamUsage, usage_entries
from tests.conftest import resolve

MODEL = "p/m"
CATALOG = {
    "id": MODEL,
    "name": "M",
    "is_free": False,
    "pricing": {"prompt_usd_per_1m": "1", "completion_usd_per_1m": "2"},
}


def completion(
    model: str = MODEL, prompt: int = 10, completion_tokens: int = 5, cached: int = 0
) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion_tokens,
                  "total_tokens": prompt + completion_tokens, "prompt_tokens_details": {"cached_tokens": cached}},
    }  # fmt: skip


def sse(*payloads: Any) -> bytes:
    return b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in payloads) + b"data: [DONE]\n\n"


def chunk(content: Optional[str], usage: Any = None, cost: Any = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
                            "choices": [] if content is None else [{"index": 0, "delta": {"content": content}}]}  # fmt: skip
    if usage is not None:
        body["usage"] = usage
    if cost is not None:
        body["cost"] = cost
    return body


class Gateway:
    """A scripted gateway: ``replies[path]`` is a list of responses (the last one repeats); every
    request is kept; ``/v1/usage/events`` answers from ``events``."""

    def __init__(self) -> None:
        self.seen: List[httpx.Request] = []
        self.replies: Dict[str, List[Callable[[httpx.Request], httpx.Response]]] = {}
        self.events: List[Dict[str, Any]] = []
        self.ids = 0
        self.lock = threading.Lock()

    def reply(self, path: str, *makers: Callable[[httpx.Request], httpx.Response]) -> None:
        self.replies[path] = list(makers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.seen.append(request)
            self.ids += 1
            rid = f"req_{self.ids}"
        path = request.url.path
        if path == "/v1/usage/events":
            return httpx.Response(
                200, json={"events": self.events, "total": len(self.events), "limit": 200, "offset": 0}
            )
        if path.startswith("/v1/models/"):
            return httpx.Response(200, json=CATALOG)
        makers = self.replies[path]
        with self.lock:
            maker = makers.pop(0) if len(makers) > 1 else makers[0]
        response = maker(request)
        response.headers["x-request-id"] = rid
        return response

    def posts(self, path: str) -> List[Any]:
        return [json.loads(r.content) for r in self.seen if r.url.path == path]


def ok(body: Any) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, json=body)


def status(code: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json={"error": {"code": "x", "message": "no"}})


def stream(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


@contextlib.asynccontextmanager
async def tracking(client: Any, **kwargs: Any) -> AsyncIterator[Any]:
    tracker = client.track_usage(**kwargs)
    if isinstance(client, AsyncMeshAPI):
        async with tracker as usage:
            yield usage
    else:
        with tracker as usage:
            yield usage


def chat(client: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("model", MODEL)
    kwargs.setdefault("messages", [{"role": "user", "content": "hello"}])
    return resolve(client.chat.completions.create(**kwargs))


def shape(records: List[UsageRecord]) -> List[Any]:
    return [(r.request_id, r.model, r.path, r.prompt_tokens, r.completion_tokens, r.cached_tokens,
             r.cost_usd, r.cost_source, r.attempts, r.stream) for r in records]  # fmt: skip


async def test_json_and_stream_replies_are_recorded_and_exact_costs_looked_up(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion(cached=4)),
             stream(sse(chunk("a"), chunk("b"), chunk(None, {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}, "0.000013"))))  # fmt: skip
    gw.events = [{"id": "e1", "request_id": "req_1", "model": MODEL, "cost_usd": "0.000020",
                  "status": "success", "prompt_tokens": 10, "completion_tokens": 5}]  # fmt: skip
    client = make_client(gw)
    async with tracking(client) as usage:
        await chat(client)
        if isinstance(client, AsyncMeshAPI):
            async for _ in await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
            ):
                pass
        else:
            for _ in client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
            ):
                pass
        assert usage.records[0].cost_usd is None and usage.estimated  # not looked up before the block ends
    assert shape(usage.records) == [
        ("req_1", MODEL, "/v1/chat/completions", 10, 5, 4, Decimal("0.000020"), "usage_event", 1, False),
        ("req_2", MODEL, "/v1/chat/completions", 7, 3, 0, Decimal("0.000013"), "reply", 1, True),
    ]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (17, 8, 4)
    assert usage.cost_usd == Decimal("0.000033") and not usage.estimated and usage.requests == 2
    assert gw.posts("/v1/usage/events") == [{"org_id": "", "limit": 200, "offset": 0}]  # one lookup, on exit
    by_model = usage.by_model[MODEL]
    assert (by_model.requests, by_model.total_tokens, by_model.cost_usd) == (2, 25, Decimal("0.000033"))
    assert list(usage.by_request) == ["req_1", "req_2"]


async def test_raw_and_streaming_response_views_are_recorded(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion()),
             stream(sse(chunk("a"), chunk(None, {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}))))  # fmt: skip
    client = make_client(gw)
    messages = [{"role": "user", "content": "x"}]
    async with tracking(client, lookup=False) as usage:
        raw = await resolve(client.chat.completions.with_raw_response.create(model=MODEL, messages=messages))
        assert raw.parse().usage.prompt_tokens == 10
        view = client.chat.completions.with_streaming_response.create(
            model=MODEL, messages=messages, stream=True
        )
        if isinstance(client, AsyncMeshAPI):
            async with view as response:
                [line async for line in response.iter_lines()]
        else:
            with view as response:
                list(response.iter_lines())
    assert [(r.request_id, r.prompt_tokens, r.stream) for r in usage.records] == [
        ("req_1", 10, False),
        ("req_2", 7, True),
    ]


async def test_a_retried_call_is_one_record_with_its_attempts(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", status(503), status(503), ok(completion()))
    client = make_client(gw, max_retries=3)
    async with tracking(client, lookup=False) as usage:
        await chat(client)
    assert shape(usage.records) == [("req_3", MODEL, "/v1/chat/completions", 10, 5, 0, None, None, 3, False)]
    assert usage.estimated and usage.cost_usd == 0 and gw.posts("/v1/usage/events") == []


async def test_a_fallback_hop_is_recorded_under_the_model_that_answered(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", status(503), ok(completion(model="q/other")))
    client = make_client(gw, max_retries=0)
    async with tracking(client, lookup=False) as usage:
        await chat(client, fallback_models=["q/other"])
    assert [b["model"] for b in gw.posts("/v1/chat/completions")] == [MODEL, "q/other"]
    assert shape(usage.records) == [
        ("req_2", "q/other", "/v1/chat/completions", 10, 5, 0, None, None, 1, False)
    ]


async def test_compare_embeddings_images_and_speech(make_client: Any) -> None:
    gw = Gateway()
    results = [{"model": m, "content": "x", "latency_ms": 1, "error": None, "request_id": f"req_1::{m}",
                "usage": {"prompt_tokens": 3, "completion_tokens": n, "total_tokens": 3 + n}} for m, n in ((MODEL, 4), ("q/o", 6))]  # fmt: skip
    gw.reply("/v1/chat/compare", ok({"comparison_id": "cmp_1", "object": "chat.compare", "created": 1, "total_latency_ms": 2, "models": [MODEL, "q/o"], "results": results,
                                      "comparison": "c", "comparison_model": "s/y",
                                      "comparison_usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}}))  # fmt: skip
    gw.reply("/v1/embeddings", ok({"object": "list", "model": "e/m", "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
                                    "usage": {"prompt_tokens": 2, "total_tokens": 2}}))  # fmt: skip
    gw.reply("/v1/images/generations", ok({"created": 1, "data": [{"b64_json": "AA=="}],
                                            "usage": {"prompt_tokens": 5, "completion_tokens": 4160, "total_tokens": 4165}}))  # fmt: skip
    gw.reply(
        "/v1/audio/speech",
        lambda r: httpx.Response(200, content=b"RIFF....", headers={"content-type": "audio/wav"}),
    )
    client = make_client(gw)
    async with tracking(client, lookup=False) as usage:
        await resolve(
            client.compare.create(models=[MODEL, "q/o"], messages=[{"role": "user", "content": "q"}])
        )
        await resolve(client.embeddings.create(model="e/m", input="two words"))
        await resolve(client.images.generate(model="i/m", prompt="a cat"))
        await resolve(client.audio.synthesize(model="t/s", input="say this", voice="alloy"))
    assert [(r.request_id, r.model, r.prompt_tokens, r.completion_tokens) for r in usage.records] == [
        ("req_1::p/m", MODEL, 3, 4), ("req_1::q/o", "q/o", 3, 6), ("req_1::s/y", "s/y", 20, 2),
        ("req_2", "e/m", 2, 0), ("req_3", "i/m", 5, 4160), ("req_4", "t/s", 0, 0),
    ]  # fmt: skip
    assert usage.requests == 4  # compare's models belong to one call


async def test_threads_started_with_the_context_and_tasks_are_recorded(make_client: Any, mode: str) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion()))
    client = make_client(gw)
    async with tracking(client, lookup=False) as usage:
        if mode == "sync":

            def call() -> Any:
                return client.chat.completions.create(
                    model=MODEL, messages=[{"role": "user", "content": "x"}]
                )

            with ThreadPoolExecutor(4) as pool:
                calls = [pool.submit(contextvars.copy_context().run, call) for _ in range(8)]
                [c.result() for c in calls]
                pool.submit(call).result()  # a pool worker without the context: not recorded
            bare = threading.Thread(target=call)
            bare.start()
            bare.join()
        else:
            await asyncio.gather(*(asyncio.ensure_future(chat(client)) for _ in range(8)))
    assert len(usage.records) == 8 and usage.prompt_tokens == 80
    assert len(gw.posts("/v1/chat/completions")) == (10 if mode == "sync" else 8)
    assert len({r.request_id for r in usage.records}) == 8


async def test_nested_trackers_both_record_and_a_call_after_the_block_is_not(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion()))
    client = make_client(gw)
    async with tracking(client, lookup=False) as outer:
        await chat(client)
        async with tracking(client, lookup=False) as inner:
            await chat(client)
    await chat(client)
    assert [r.request_id for r in outer.records] == ["req_1", "req_2"]
    assert [r.request_id for r in inner.records] == ["req_2"]


async def test_a_failed_lookup_on_exit_leaves_the_catalog_estimate(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion()))

    def refusing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/usage/events":
            return httpx.Response(500, json={"error": {"code": "x", "message": "down"}})
        return gw(request)

    client = make_client(refusing, max_retries=0)
    async with tracking(client) as usage:
        await chat(client)
    assert usage.records[0].cost_usd is None and usage.estimated
    await resolve(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}]))
    assert len(usage.records) == 1


async def test_refresh_prices_ids_not_found_from_the_catalog(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion(prompt=1000, completion_tokens=500)))
    client = make_client(gw)
    async with tracking(client) as usage:
        await chat(client)
    # not among the usage events: 1000 * $1/1M + 500 * $2/1M from the catalog, marked estimated
    assert (usage.cost_usd, usage.estimated, usage.records[0].cost_source) == (
        Decimal("0.002"),
        True,
        "catalog",
    )


async def test_refresh_inside_the_block_leaves_nothing_for_the_exit(make_client: Any) -> None:
    gw = Gateway()
    gw.reply("/v1/chat/completions", ok(completion()))
    gw.events = [{"id": "e1", "request_id": "req_1", "model": MODEL, "cost_usd": "0.5", "status": "success"}]
    client = make_client(gw)
    async with tracking(client) as usage:
        await chat(client)
        await resolve(usage.refresh())
        assert (usage.cost_usd, usage.estimated) == (Decimal("0.5"), False)
    assert len(gw.posts("/v1/usage/events")) == 1  # the exit had nothing left to look up


def test_usage_entries_read_every_reply_shape() -> None:
    responses = {
        "model": "r/m",
        "usage": {"input_tokens": 4, "output_tokens": 2, "input_tokens_details": {"cached_tokens": 1}},
    }
    assert [(e.model, e.prompt_tokens, e.completion_tokens, e.cached_tokens) for e in
            usage_entries({"type": "response.completed", "response": responses}, "/v1/responses", None, "r")] == [("r/m", 4, 2, 1)]  # fmt: skip
    assert usage_entries({"choices": []}, "/v1/chat/completions", MODEL, "r") == []
    assert usage_entries("text", "/v1/chat/completions", MODEL, "r") == []
    bad = usage_entries(
        {"usage": {"prompt_tokens": -3, "completion_tokens": True}, "cost": "nan"}, "/x", "m", "r"
    )
    assert [(e.prompt_tokens, e.completion_tokens, e.cost_usd) for e in bad] == [(0, 0, None)]


@pytest.mark.parametrize("cut", range(1, 60))
def test_stream_usage_survives_every_chunk_boundary(cut: int) -> None:
    body = sse(chunk("a"), chunk(None, {"prompt_tokens": 7, "completion_tokens": 3}, "0.5"))
    reader = StreamUsage("/v1/chat/completions", MODEL, "")
    step = max(1, len(body) // cut)
    for i in range(0, len(body), step):
        reader.feed(body[i : i + step])
    assert [(e.prompt_tokens, e.completion_tokens, e.cost_usd) for e in reader.entries()] == [
        (7, 3, Decimal("0.5"))
    ]


def test_a_compare_stream_counts_each_model_once() -> None:
    events = [{"model": MODEL, "delta": "a", "usage": {"prompt_tokens": 3, "completion_tokens": 1}},
              {"model": MODEL, "delta": "b", "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
              {"results": [{"model": MODEL, "request_id": "r::p/m", "usage": {"prompt_tokens": 3, "completion_tokens": 2}}]}]  # fmt: skip
    reader = StreamUsage("/v1/chat/compare", None, "r")
    reader.feed(sse(*events))
    assert [(e.request_id, e.model, e.completion_tokens) for e in reader.entries()] == [("r::p/m", MODEL, 2)]
