"""Servers that misbehave on purpose: every reply becomes a typed error in bounded memory and time.

Bomb rows (a 1 GiB gzip body, an endless SSE line) run the client in a child process
(``bomb_probe.py``) and assert its peak RSS; the other rows run in process on ``tharness`` (sync,
async and the aiohttp transport) against a ``RawPeer`` that answers with the hostile bytes.
"""

from __future__ import annotations

import pickle
import time
import zlib
from functools import cache
from typing import Any, Dict, List, Tuple

import pytest

import meshapi
from tests.conftest import close
from tests.faults.bomb_probe import run_probe
from tests.faults.conftest import TOKEN, TRANSPORTS, Harness, assert_pool_idle
from tests.faults.helpers import MESSAGES, chunk_frame, create, drain, text_of
from tests.faults.peers import RawPeer, respond, scripted_stream

MiB = 1024 * 1024
JSON = {"Content-Type": "application/json", "X-Request-Id": "req_hostile"}
SSE = {"Content-Type": "text/event-stream", "X-Request-Id": "req_hostile"}
MODES = ["sync", "async"] + (["aiohttp"] if "aiohttp" in TRANSPORTS else [])


@cache
def gzip_bomb(prefix: bytes = b"", gib: int = 1) -> bytes:
    """``prefix`` then ``gib`` GiB of zeros, gzip-compressed to about 1 MB (built in milliseconds).

    After a full flush a deflate segment stands alone, so one compressed MiB of zeros is repeated;
    the body has no gzip trailer, which a client never reaches when it stops at its cap.
    """
    block = b"\0" * MiB
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = deflate.compress(prefix + block) + deflate.flush(zlib.Z_FULL_FLUSH)
    segment = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    return head + segment * (1024 * gib - 1)


def bomb_peer(status: int, content_type: str, prefix: bytes = b"") -> RawPeer:
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip", "X-Request-Id": "req_bomb"}
    return RawPeer(respond(status, headers, gzip_bomb(prefix)))


def assert_bounded(result: Dict[str, Any], *, seconds: float = 20.0) -> None:
    grown = result["peak"] - result["peak_before"]
    assert result["peak"] < 512 * MiB, f"peak RSS {result['peak'] / MiB:.0f} MiB"
    assert grown < 320 * MiB, f"peak RSS grew {grown / MiB:.0f} MiB"
    assert result["seconds"] < seconds


# --- bombs, measured in a child process -----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("call", ["create", "models"])
def test_gzip_bomb_reply_is_refused_at_the_cap(mode: str, call: str) -> None:
    with bomb_peer(200, "application/json", b'{"id":"') as peer:
        result = run_probe(peer.base_url, mode, call)
    assert result["error"] == "ResponseTooLargeError", result
    assert result["limit"] == 64 * MiB and result["request_id"] == "req_bomb"
    assert "gzip" in result["message"] and "max_response_bytes" in result["message"]
    assert_bounded(result)


@pytest.mark.parametrize("mode", MODES)
def test_gzip_bomb_error_body_still_gives_the_status_error(mode: str) -> None:
    with bomb_peer(500, "application/json", b'{"error":{"message":"') as peer:
        result = run_probe(peer.base_url, mode, "create")
    assert result["error"] == "InternalServerError" and result["status"] == 500, result
    assert result["request_id"] == "req_bomb"
    assert_bounded(result)


@pytest.mark.parametrize("mode", MODES)
def test_gzip_bomb_stream_is_refused(mode: str) -> None:
    with bomb_peer(200, "text/event-stream", b"data: ") as peer:
        result = run_probe(peer.base_url, mode, "stream")
    assert result["error"] == "ResponseTooLargeError", result
    assert result["request_id"] == "req_bomb"
    assert_bounded(result)


@pytest.fixture(scope="module")
def endless_line() -> bytes:
    return b"data: " + b"x" * (80 * MiB)  # no line end: 80 MiB past the 64 MiB cap


@pytest.mark.parametrize("mode", MODES)
def test_an_sse_line_without_end_is_refused_at_the_cap(mode: str, endless_line: bytes) -> None:
    with RawPeer(respond(200, SSE, endless_line)) as peer:
        result = run_probe(peer.base_url, mode, "stream")
    assert result["error"] == "ResponseTooLargeError", result
    assert result["limit"] == 64 * MiB and "one line" in result["message"]
    assert result["request_id"] == "req_hostile"
    assert_bounded(result)


@pytest.mark.parametrize("mode", MODES)
def test_a_smaller_cap_is_honoured(mode: str) -> None:
    body = b'{"id":"' + b"a" * 20_000 + b'"}'
    with RawPeer(respond(200, JSON, body)) as peer:
        result = run_probe(peer.base_url, mode, "create", limit=4096)
    assert result["error"] == "ResponseTooLargeError" and result["limit"] == 4096, result


# --- deep JSON, huge numbers, echoed tokens (in process, every transport) --------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


async def _raises(
    harness: Harness, peer_body: bytes, headers: Dict[str, str], call: Any, status: int = 200
) -> Any:
    with RawPeer(respond(status, headers, peer_body)) as peer:
        client = harness.client(peer.base_url, max_retries=0)
        started = time.monotonic()
        with pytest.raises(meshapi.MeshAPIError) as info:
            await call(client)
        assert time.monotonic() - started < 5
    await harness.assert_released(client)
    return info.value


async def _models(client: Any) -> Any:
    from tests.conftest import resolve

    return await resolve(client.models.list())


@pytest.mark.parametrize(
    "where,body,status",
    [
        ("reply", DEEP, 200),
        ("object reply", b'{"id":' + DEEP + b"}", 200),
        ("error body", b'{"error":' + DEEP + b"}", 400),
        ("error details", b'{"error":{"code":"x","message":"m","details":' + DEEP + b"}}", 422),
    ],
)
async def test_deep_json_replies_are_typed(tharness: Harness, where: str, body: bytes, status: int) -> None:
    error = await _raises(tharness, body, JSON, create, status)
    if status == 200:
        assert isinstance(error, meshapi.APIResponseValidationError)
    else:
        assert isinstance(error, meshapi.APIStatusError) and error.status == status
    assert error.request_id == "req_hostile"


async def test_deep_json_list_reply_is_typed(tharness: Harness) -> None:
    error = await _raises(tharness, DEEP, JSON, _models)
    assert isinstance(error, meshapi.APIResponseValidationError) and "nested" in str(error)


@pytest.mark.parametrize("frame", ["error frame", "chunk"])
@pytest.mark.parametrize("text_only", [False, True])
async def test_deep_json_in_stream_frames_is_typed(tharness: Harness, frame: str, text_only: bool) -> None:
    payload = b'{"error":' + DEEP + b"}" if frame == "error frame" else DEEP
    body = b"data: " + payload + b"\n\ndata: [DONE]\n\n"

    async def consume(client: Any) -> Any:
        stream = client.chat.completions.stream(model="m", messages=[{"role": "user", "content": "x"}])
        await drain(stream.text_stream if text_only else stream, [])

    error = await _raises(tharness, body, SSE, consume)
    assert isinstance(error, meshapi.APIResponseValidationError), repr(error)
    assert error.request_id == "req_hostile"


@pytest.mark.parametrize(
    "headers,body",
    [
        ({"Retry-After": "9" * 5000}, b""),
        ({"Retry-After": "1e400"}, b""),
        ({"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"}, b""),
        ({"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"}, b""),
        ({}, b'{"error":{"code":"rate_limit_exceeded","message":"slow","retry_after_seconds":1e308}}'),
        (
            {},
            b'{"error":{"code":"rate_limit_exceeded","message":"slow","retry_after_seconds":'
            + b"9" * 4000
            + b"}}",
        ),
    ],
)
async def test_huge_retry_hints_are_typed_and_not_waited(
    tharness: Harness, headers: Dict[str, str], body: bytes
) -> None:
    with RawPeer(respond(429, {**JSON, **headers}, body)) as peer:
        client = tharness.client(peer.base_url, max_retries=2)
        with pytest.raises(meshapi.RateLimitError) as info:
            await create(client)
    assert info.value.status == 429 and info.value.request_id == "req_hostile"
    assert all(delay <= 60 for delay in tharness.sleeps), tharness.sleeps
    hint = info.value.retry_after_seconds
    assert hint is None or hint < 10**12
    await tharness.assert_released(client)


@pytest.mark.parametrize("status", [400, 401, 500])
async def test_a_token_echoed_by_the_server_is_scrubbed_from_the_error(
    tharness: Harness, status: int
) -> None:
    body = (
        b'{"error":{"code":"echo","message":"got Authorization: Bearer ' + TOKEN.encode() + b'",'
        b'"details":[{"msg":"' + TOKEN.encode() + b'"}],"provider_error":{"echo":"' + TOKEN.encode() + b'"}}}'
    )
    error = await _raises(tharness, body, JSON, create, status)
    for text in (
        str(error),
        repr(error),
        repr(vars(error)),
        repr(error.args),
        pickle.dumps(error).decode("latin-1"),
    ):
        assert TOKEN not in text
    assert "[redacted]" in str(error) and error.status == status
    plain = await _raises(
        tharness, b"proxy says: " + TOKEN.encode(), {"Content-Type": "text/plain"}, create, 502
    )
    assert TOKEN not in str(plain) and TOKEN not in repr(pickle.loads(pickle.dumps(plain)).message)


# --- caller mistakes: refused before anything is sent ----------------------------------------------


def _deep_dict(levels: int) -> Dict[str, Any]:
    root: Dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


@pytest.mark.parametrize(
    "mistake",
    [
        "1 MiB batch id",
        "Content-Length",
        "Transfer-Encoding",
        "Host",
        "Connection",
        "deep extra_body",
        "deep variables",
    ],
)
async def test_caller_mistakes_are_invalid_params_before_sending(tharness: Harness, mistake: str) -> None:
    from tests.conftest import resolve

    with RawPeer(respond(200, JSON, b"{}")) as peer:
        client = tharness.client(peer.base_url, max_retries=0)
        base = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        with pytest.raises(meshapi.InvalidParamsError) as info:
            if mistake == "1 MiB batch id":
                await resolve(client.batches.get("b" * MiB))
            elif mistake == "deep extra_body":
                await resolve(client.chat.completions.create(**base, extra_body={"x": _deep_dict(5000)}))
            elif mistake == "deep variables":
                await resolve(
                    client.chat.completions.create(**base, template="t", variables=_deep_dict(5000))
                )
            else:
                headers = {mistake: "5" if mistake == "Content-Length" else "x"}
                await resolve(client.chat.completions.create(**base, extra_headers=headers))
        assert peer.requests == [] and peer.connections == 0
    assert len(str(info.value)) < 400
    await tharness.assert_released(client)


# --- keep-alives are not events: timeout is the longest gap between events ----------------------------


@pytest.mark.parametrize(
    "keepalive", [b": ping\n\n", b"\n", b":\r\n"], ids=["comment", "blank", "empty-comment"]
)
async def test_a_stream_fed_only_keepalives_times_out(tharness: Harness, keepalive: bytes) -> None:
    """A keep-alive every 0.2 s (for up to 8 s) holds no stream past its ``timeout=1``."""
    with RawPeer(scripted_stream([(0.2, keepalive)] * 40, SSE)) as peer:
        client = tharness.client(peer.base_url, timeout=1, max_retries=0)
        started = time.monotonic()
        stream = client.chat.completions.stream(model="m", messages=MESSAGES)
        got: List[Any] = []
        with pytest.raises(meshapi.StreamInterruptedError) as info:
            await drain(stream, got)
        elapsed = time.monotonic() - started
        assert 1.0 < elapsed < 1.6, elapsed
        assert got == [] and stream.closed
        assert "no event arrived within the 1 s read timeout (only comments or keep-alives)" in str(
            info.value
        )
        assert info.value.request_id == "req_hostile" and len(peer.requests) == 1
        assert_pool_idle(client)
        await close(client)  # inside: the event loop must run to close an asyncio socket
    await tharness.assert_released()


async def test_events_reset_the_clock_and_a_slow_event_is_not_a_gap(tharness: Harness) -> None:
    """2.6 s of stream with ``timeout=1``: comments between events that come every 0.6 s, and one event
    dribbled in 5 pieces over 1.5 s; nothing times out, every chunk arrives."""
    slow = chunk_frame(9, "slow")
    pieces: List[Tuple[float, bytes]] = []
    for i in range(2):
        pieces += [(0.2, b": ping\n\n"), (0.2, b": ping\n\n"), (0.2, chunk_frame(i, f"w{i} "))]
    pieces += [(0.3, slow[k : k + len(slow) // 5 + 1]) for k in range(0, len(slow), len(slow) // 5 + 1)]
    pieces += [(0.0, b"data: [DONE]\n\n")]
    with RawPeer(scripted_stream(pieces, SSE)) as peer:
        client = tharness.client(peer.base_url, timeout=1, max_retries=0)
        stream = client.chat.completions.stream(model="m", messages=MESSAGES)
        got: List[Any] = []
        await drain(stream, got)
        assert text_of(got) == "w0 w1 slow" and len(peer.requests) == 1
        assert_pool_idle(client)
        await close(client)
    await tharness.assert_released()


def _gzip_pieces(pieces: List[Tuple[float, bytes]]) -> List[Tuple[float, bytes]]:
    """Each piece gzip-compressed as the next part of one body (a sync flush after each, so each chunk
    inflates to exactly its piece)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, 31)
    return [(delay, deflate.compress(data) + deflate.flush(zlib.Z_SYNC_FLUSH)) for delay, data in pieces]


GZIP_SSE = {**SSE, "Content-Encoding": "gzip"}
CLOSING_GZIP_SSE = {**GZIP_SSE, "Connection": "close"}  # the peer closes each connection after its answer


async def test_a_gzip_stream_fed_only_keepalives_times_out_at_its_idle_gap(tharness: Harness) -> None:
    """The gap between events is judged on the inflated events: compressed keep-alives are still
    keep-alives (a ``: ping`` every 0.2 s for up to 8 s holds no stream past ``stream_idle_timeout=1``)."""
    with RawPeer(scripted_stream(_gzip_pieces([(0.2, b": ping\n\n")] * 40), GZIP_SSE)) as peer:
        client = tharness.client(peer.base_url, timeout=10, max_retries=0)
        started = time.monotonic()
        stream = client.chat.completions.stream(model="m", messages=MESSAGES, stream_idle_timeout=1)
        got: List[Any] = []
        with pytest.raises(meshapi.StreamIdleTimeoutError) as info:
            await drain(stream, got)
        elapsed = time.monotonic() - started
        assert 1.0 < elapsed < 1.6, elapsed
        assert got == [] and stream.closed
        assert "no event arrived within the 1 s stream_idle_timeout (only comments or keep-alives)" in str(
            info.value
        )
        assert info.value.request_id == "req_hostile" and len(peer.requests) == 1
        assert_pool_idle(client)
        await close(client)
    await tharness.assert_released()


async def test_a_gzip_stream_is_read_inflated_with_keepalives_between_events(tharness: Harness) -> None:
    pieces = [(0.0, b": ping\n\n"), (0.05, chunk_frame(0, "Hello ")), (0.05, b": ping\n\n")]
    pieces += [(0.05, chunk_frame(1, "world")), (0.0, b"data: [DONE]\n\n")]
    with RawPeer(scripted_stream(_gzip_pieces(pieces), GZIP_SSE)) as peer:
        client = tharness.client(peer.base_url, timeout=10, max_retries=0)
        got: List[Any] = []
        await drain(client.chat.completions.stream(model="m", messages=MESSAGES, stream_idle_timeout=1), got)
        assert text_of(got) == "Hello world" and len(peer.requests) == 1
        assert_pool_idle(client)
        await close(client)
    await tharness.assert_released()


async def test_a_gzip_stream_whose_first_event_is_an_error_frame_is_retried(tharness: Harness) -> None:
    """The first-event retry looks at a compressed stream inflated: a retryable error frame first is
    retried (one key), and the caller reads the second answer."""
    frame = b'data: {"error": {"code": "provider_overloaded"}}\n\n'
    first = scripted_stream(_gzip_pieces([(0.0, frame), (0.5, b": ping\n\n")]), CLOSING_GZIP_SSE)
    done = [(0.0, chunk_frame(0, "after")), (0.0, b"data: [DONE]\n\n")]
    second = scripted_stream(_gzip_pieces(done), CLOSING_GZIP_SSE)
    answers = [first, second]

    def behaviour(conn: Any, request: Any) -> None:
        answers.pop(0)(conn, request)

    with RawPeer(behaviour) as peer:
        client = tharness.client(peer.base_url, timeout=10, max_retries=1)
        got: List[Any] = []
        await drain(client.chat.completions.stream(model="m", messages=MESSAGES), got)
        assert text_of(got) == "after" and len(peer.requests) == 2
        keys = {r.headers.get("idempotency-key") for r in peer.requests}
        assert len(keys) == 1 and None not in keys
        assert len(tharness.sleeps) == 1  # one backoff wait before the retry
        assert_pool_idle(client)
        await close(client)
    await tharness.assert_released()
