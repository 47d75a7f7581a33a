"""batches.wait / iter_batches, templates edge cases, base64 embeddings."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi import BatchObject, EmbeddingItem, InvalidParamsError
from meshapi.lib.polling import WaitTimeoutError
from tests.conftest import collect, resolve
from tests.unit import _payloads as P


def batch_handler(statuses: List[str], seen: List[httpx.Request]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return httpx.Response(200, json={**P.BATCH, "status": status})

    return handler


async def test_wait_returns_the_terminal_batch(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(batch_handler(["validating", "in_progress", "finalizing", "completed"], seen))
    batch = await resolve(client.batches.wait("batch_68c2f1e9a0b4", poll_interval=0))
    assert isinstance(batch, BatchObject) and batch.status == "completed" and len(seen) == 4
    assert all(r.method == "GET" and r.url.path == "/v1/batches/batch_68c2f1e9a0b4" for r in seen)


@pytest.mark.parametrize("terminal", ["failed", "cancelled", "expired"])
async def test_wait_returns_failed_batches_too(make_client: Any, terminal: str) -> None:
    client = make_client(batch_handler(["cancelling", terminal], []))
    assert (await resolve(client.batches.wait("b", poll_interval=0))).status == terminal


async def test_wait_deadline(make_client: Any) -> None:
    client = make_client(batch_handler(["in_progress"], []))
    with pytest.raises(WaitTimeoutError) as info:
        await resolve(client.batches.wait("b", timeout=0.05, poll_interval=0.01))
    assert isinstance(info.value, meshapi.APITimeoutError) and info.value.last.status == "in_progress"
    assert info.value.resource_id == "b"


async def test_iter_batches_follows_the_after_cursor(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    pages: Dict[Any, Any] = {
        None: {"object": "list", "data": [{"id": "b1"}, {"id": "b2"}], "has_more": True, "last_id": "b2"},
        "b2": {"object": "list", "data": [{"id": "b3"}], "has_more": True, "last_id": None},
        "b3": {"object": "list", "data": [], "has_more": False},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[request.url.params.get("after")])

    client = make_client(handler)
    got = await collect(client.batches.iter_batches(page_size=2))
    assert [b.id for b in got] == ["b1", "b2", "b3"]
    assert [dict(r.url.params) for r in seen] == [
        {"limit": "2"},
        {"after": "b2", "limit": "2"},
        {"after": "b3", "limit": "2"},
    ]
    with pytest.raises(InvalidParamsError):
        client.batches.iter_batches(page_size=101)


# --- templates -------------------------------------------------------------------------------------------


async def test_template_create_accepts_the_params_model_and_a_params_dict(make_client: Any) -> None:
    bodies: List[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(201, json=P.TEMPLATE)

    client = make_client(handler)
    model = meshapi.CreateTemplateParams(name="t", params={"temperature": 0.1})
    await resolve(client.templates.create(model))
    await resolve(client.templates.create(model, description="d"))
    assert json.loads(bodies[0]) == {"name": "t", "params": {"temperature": 0.1}}
    assert json.loads(bodies[1]) == {"name": "t", "params": {"temperature": 0.1}, "description": "d"}


async def test_template_update_accepts_update_params(make_client: Any) -> None:
    bodies: List[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json=P.TEMPLATE)

    client = make_client(handler)
    await resolve(client.templates.update("t1", meshapi.UpdateTemplateParams(name="renamed")))
    assert bodies == [b'{"name":"renamed"}']
    with pytest.raises(InvalidParamsError):
        await resolve(client.templates.update("t1", meshapi.UpdateTemplateParams()))


# --- embeddings ------------------------------------------------------------------------------------------


def _b64(values: List[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


async def test_base64_embeddings_are_decoded_and_the_raw_string_kept(make_client: Any) -> None:
    raw = _b64([1.0, -2.5, 0.25])
    payload = {
        "object": "list",
        "model": "m",
        "data": [
            {"object": "embedding", "index": 0, "embedding": raw},
            {"object": "embedding", "index": 1, "embedding": [0.5]},
        ],
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }
    client = make_client(lambda request: httpx.Response(200, json=payload, headers={"x-request-id": "req_e"}))
    result = await resolve(client.embeddings.create(input=["a", "b"], encoding_format="base64"))
    first, second = result.data
    assert isinstance(first, EmbeddingItem) and first.embedding == [1.0, -2.5, 0.25]
    assert first.raw_base64 == raw and first.floats() == [1.0, -2.5, 0.25]
    assert second.embedding == [0.5]
    assert result._request_id == "req_e"


async def test_undecodable_base64_is_a_validation_error(make_client: Any) -> None:
    payload = {
        "object": "list",
        "model": "m",
        "data": [{"object": "embedding", "index": 0, "embedding": "abc"}],
    }
    client = make_client(lambda request: httpx.Response(200, json=payload))
    with pytest.raises(meshapi.APIResponseValidationError):
        await resolve(client.embeddings.create(input="a", encoding_format="base64"))


def test_deadline_polls_start_fast_and_back_off_to_the_interval() -> None:
    from meshapi.lib.polling import Deadline

    now = [0.0]
    deadline = Deadline(10.0, 2.0, clock=lambda: now[0])
    sleeps = []
    for _ in range(6):
        step = deadline.next_sleep()
        assert step is not None
        sleeps.append(step)
        now[0] += step
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    now[0] = 9.5
    assert deadline.next_sleep() == 0.5  # never past the deadline
    now[0] = 10.0
    assert deadline.next_sleep() is None


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_poll_loop_fetches_checks_sleeps_and_gives_up_with_the_last(mode: str) -> None:
    from meshapi.lib.polling import Deadline, async_poll_until, poll_until

    now = [0.0]
    fetched: List[int] = []
    seen: List[int] = []
    slept: List[float] = []

    def fetch() -> int:
        fetched.append(len(fetched))
        return fetched[-1]

    def sleep(delay: float) -> None:
        slept.append(delay)
        now[0] += delay

    async def afetch() -> int:
        return fetch()

    async def asleep(delay: float) -> None:
        sleep(delay)

    def run(done: Any) -> Any:
        now[0] = 0.0
        for kept in (fetched, seen, slept):
            kept.clear()
        deadline = Deadline(1.0, 0.5, clock=lambda: now[0])
        give_up = lambda last: WaitTimeoutError(f"gave up at {last}", last=last, resource_id="r")  # noqa: E731
        if mode == "sync":
            return poll_until(fetch, done, deadline, sleep, give_up, seen.append)
        return async_poll_until(afetch, done, deadline, asleep, give_up, seen.append)

    assert await resolve(run(lambda last: last == 2)) == 2
    assert (fetched, seen, slept) == ([0, 1, 2], [0, 1, 2], [0.25, 0.5])
    with pytest.raises(WaitTimeoutError) as info:
        await resolve(run(lambda last: False))
    assert (info.value.last, slept) == (3, [0.25, 0.5, 0.25])  # the last sleep cut to the deadline
    assert seen == [0, 1, 2, 3]


def test_resources_wait_through_the_one_poll_loop() -> None:
    """Every resource ``wait`` is ``lib.polling.poll_until`` / ``async_poll_until``: none sleeps itself
    (passing ``self._http._sleep`` along is how they wait)."""
    import ast
    import pathlib

    resources = pathlib.Path(meshapi.__file__).parent / "resources"
    sleeping = sorted(
        f"{path.name}:{node.lineno}"
        for path in resources.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("_sleep", "next_sleep", "sleep")
    )
    assert sleeping == []
