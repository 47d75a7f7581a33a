"""The API token never leaks: not in a repr, str, log record, exception, pickle, traceback or URL.

Each test sets a recognisable token, drives one family of paths (success, 401, 429 retries, 500,
connection refused, timeouts, stream cuts, configuration errors, realtime when importable), and scans
everything it captured: every log record of every logger at DEBUG (message, args, exception text),
and for every error its ``str``, ``repr``, ``args``, ``vars``, ``traceback.format_exception`` text and
pickled bytes. Redirects: the SDK does not follow them, and an injected client that does never sends
the Authorization header to another origin.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from typing import Any, Iterator, List

import httpx
import pytest

import meshapi
from tests.conftest import close, resolve
from tests.faults.conftest import TOKEN, Harness
from tests.faults.helpers import CHAT, MESSAGES, MODEL, create, drain, stream_chat
from tests.faults.peers import RawPeer, closed_port, redirect_to, respond

WRONG_TOKEN = "rsk_WRONGKEY_5T9X_SECRET_must_not_leak"
# Distinctive cores of both tokens: a partial leak (e.g. a redaction that shows too much) is caught too.
NEEDLES = [TOKEN, WRONG_TOKEN, "FAULTSUITE_7Q2Z", "WRONGKEY_5T9X"]
COMPLETION = (
    b'{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":'
    b'[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}'
)


class Capture(logging.Handler):
    """Every record of every logger, rendered the ways a log pipeline might render it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: List[str] = []
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.texts.append(record.getMessage())
        self.texts.append(repr(record.args))
        self.texts.append(repr(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append("".join(traceback.format_exception(*record.exc_info)))


@pytest.fixture
def captured() -> Iterator[Capture]:
    handler = Capture()
    names = ["", "meshapi", "httpx", "httpcore", "websockets", "uvicorn", "uvicorn.error", "uvicorn.access"]
    loggers = [logging.getLogger(n) for n in names]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)
        for lg, level, propagate in saved:
            lg.setLevel(level)
            lg.propagate = propagate


def assert_clean(*texts: Any) -> None:
    for text in texts:
        rendered = text if isinstance(text, (str, bytes)) else repr(text)
        for needle in NEEDLES:
            probe: Any = needle.encode() if isinstance(rendered, bytes) else needle
            assert probe not in rendered, f"token material {needle!r} found in: {rendered[:300]!r}"


def assert_error_clean(error: BaseException) -> None:
    assert_clean(
        str(error),
        repr(error),
        repr(error.args),
        repr(vars(error)),
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        pickle.dumps(error),
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    response = getattr(error, "response", None)
    if response is not None:
        assert_clean(
            repr(response), repr(response.request), repr(response.request.headers), str(response.url)
        )


async def expect_error(call: Any) -> meshapi.MeshAPIError:
    """``call`` is a coroutine, or a zero-argument callable (a sync client raises as it is called)."""
    with pytest.raises(meshapi.MeshAPIError) as info:
        await resolve(call() if callable(call) else call)
    assert_error_clean(info.value)
    return info.value


def assert_logs_clean(captured: Capture, *, expect_records: bool = True) -> None:
    if expect_records:
        assert captured.count > 0, "nothing was logged: the scan would prove nothing"
    assert_clean(*captured.texts)


# --- objects ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["token", "api_key"])
async def test_reprs_and_strs_hide_the_token(
    harness: Harness, gateway: Any, captured: Capture, spelling: str
) -> None:
    client = harness.client(
        gateway.base_url, **({"token": None, "api_key": TOKEN} if spelling == "api_key" else {})
    )
    reply = await create(client)
    stream, chunks = await stream_chat(client)
    models = await resolve(client.models.list())
    http = client._http
    assert_clean(
        repr(client),
        str(client),
        repr(client.config),
        str(client.config),
        repr(http),
        repr(http._client),
        repr(client.chat.completions),
        repr(stream),
        repr(reply),
        str(reply),
        reply.model_dump_json(),
        pickle.dumps(reply),
        repr(chunks),
        repr(models),
        pickle.dumps(models[0]),
        repr(vars(client.config)),
        str(stream.response.request.url) if stream.response else "",
        repr(stream.headers),
    )
    # the token is only where it must be: the header of the outgoing request (masked in its repr)
    sent = gateway.requests.filter(path=CHAT)[-1]
    assert sent.bearer_is(TOKEN) and sent.headers["authorization"] == "Bearer rsk_…redacted"
    assert_logs_clean(captured)
    await harness.assert_released(client)


# --- failure paths ----------------------------------------------------------------------------------


async def test_401_with_a_wrong_token(harness: Harness, gateway: Any, captured: Capture) -> None:
    client = harness.client(gateway.base_url, token=WRONG_TOKEN)
    error = await expect_error(lambda: client.chat.completions.create(model=MODEL, messages=MESSAGES))
    assert isinstance(error, meshapi.AuthenticationError) and error.status == 401
    error = await expect_error(lambda: client.models.list())
    assert isinstance(error, meshapi.AuthenticationError)
    stream = client.chat.completions.stream(model=MODEL, messages=MESSAGES)
    error = await expect_error(drain(stream, []))
    assert isinstance(error, meshapi.AuthenticationError)
    assert_clean(repr(stream))
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_429_retries_500_and_exhaustion(harness: Harness, gateway: Any, captured: Capture) -> None:
    client = harness.client(gateway.base_url)
    gateway.faults.add(CHAT, status=429, retry_after="0", times=2)
    assert (await create(client)).choices
    gateway.faults.add(CHAT, status=429, retry_after="0", times=10)
    error = await expect_error(create(client))
    assert isinstance(error, meshapi.RateLimitError)
    gateway.faults.clear()
    gateway.faults.add(CHAT, status=500, times=1)
    error = await expect_error(create(client))
    assert isinstance(error, meshapi.InternalServerError)
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_connection_refused_and_configuration(harness: Harness, captured: Capture) -> None:
    client = harness.client(f"http://127.0.0.1:{closed_port()}", max_retries=1)
    error = await expect_error(create(client))
    assert isinstance(error, meshapi.APIConnectionError)
    error = await expect_error(stream_chat(client))
    assert isinstance(error, meshapi.APIConnectionError)
    for bad in (TOKEN + "é", TOKEN + " x", TOKEN + "\n"):
        for spelling in ("token", "api_key"):  # api_key=: openai-python's name for it
            with pytest.raises(meshapi.ConfigurationError) as info:
                meshapi.MeshAPI(base_url="http://127.0.0.1:9", **{spelling: bad})
            assert_error_clean(info.value)
    for cls in (meshapi.MeshAPI, meshapi.AsyncMeshAPI):  # the two names disagree: neither value is shown
        with pytest.raises(meshapi.ConfigurationError) as info:
            cls(base_url="http://127.0.0.1:9", token=TOKEN, api_key=WRONG_TOKEN)
        assert_error_clean(info.value)
    with pytest.raises(meshapi.ConfigurationError) as info:
        client.with_options(token=TOKEN, api_key=WRONG_TOKEN)
    assert_error_clean(info.value)
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_timeouts(harness: Harness, gateway: Any, captured: Capture) -> None:
    client = harness.client(gateway.base_url, timeout=0.2, max_retries=1)
    gateway.faults.add(CHAT, delay_first_byte=0.6, times=1)  # a timed-out POST is not re-sent
    error = await expect_error(create(client))
    assert isinstance(error, meshapi.APITimeoutError)
    gateway.faults.add(CHAT, stall_after_events=1, stall_seconds=0.6)
    error = await expect_error(stream_chat(client))
    assert isinstance(error, meshapi.StreamInterruptedError)
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_stream_cuts_and_error_events(harness: Harness, gateway: Any, captured: Capture) -> None:
    client = harness.client(gateway.base_url)
    gateway.faults.add(CHAT, drop_after_events=2)
    error = await expect_error(stream_chat(client))
    assert isinstance(error, meshapi.StreamInterruptedError)
    gateway.faults.add(CHAT, error_event_after=1)
    error = await expect_error(stream_chat(client))
    assert isinstance(error, meshapi.StreamEventError)
    gateway.faults.add(CHAT, malformed_after_events=1)
    error = await expect_error(stream_chat(client))
    assert isinstance(error, meshapi.APIResponseValidationError)
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_realtime_paths(harness: Harness, gateway: Any, captured: Capture) -> None:
    pytest.importorskip("websockets")
    from tests.faults.realtime_probe import exercise_realtime

    errors, texts = await exercise_realtime(harness, gateway, good_token=TOKEN, wrong_token=WRONG_TOKEN)
    assert errors, "the wrong token and the forced close must raise"
    for error in errors:
        assert isinstance(error, meshapi.MeshAPIError), f"untyped realtime error: {error!r}"
        assert_error_clean(error)
    assert_clean(*texts)
    assert_logs_clean(captured)


async def test_the_gateway_log_keeps_no_realtime_key(harness: Harness, gateway: Any) -> None:
    """The SDK's default handshake offers the key as a ``Bearer.<key>`` subprotocol (and a header):
    neither the gateway's records, their dicts, nor the admin API (the inspector's source) hold it."""
    pytest.importorskip("websockets")
    from tests.faults.realtime_probe import MODEL

    client = harness.client(gateway.base_url)
    session = await resolve(client.realtime.connect(model=MODEL, timeout=5.0))
    try:
        assert (await resolve(session.receive())).type == "session.created"
    finally:
        await close(session)
    (record,) = gateway.requests.filter(path="/v1/realtime")
    assert "Bearer.rsk_…redacted" in record.headers["sec-websocket-protocol"]
    assert record.bearer_is(TOKEN) and record.sent_secret(TOKEN) and not record.bearer_is(WRONG_TOKEN)
    admin = {"Authorization": f"Bearer {gateway.admin_token}"}
    async with httpx.AsyncClient(base_url=gateway.base_url, headers=admin) as c:
        shown = (await c.get("/_admin/requests")).text + (await c.get(f"/_admin/requests/{record.id}")).text
    assert_clean(repr(record), repr(record.as_dict()), json.dumps(record.as_dict()), shown)
    await harness.assert_released(client)


# --- redirects --------------------------------------------------------------------------------------


async def test_redirect_to_another_origin_is_not_followed(harness: Harness, captured: Capture) -> None:
    other = RawPeer(respond(200, {"Content-Type": "application/json"}, COMPLETION))
    with other, RawPeer(redirect_to(other.base_url + CHAT)) as origin:
        client = harness.client(origin.base_url)
        error = await expect_error(create(client))
        assert isinstance(error, meshapi.APIStatusError) and error.status == 307
        assert "redirect" in str(error) and "base_url" in str(error)
        assert len(origin.requests) == 1 and origin.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert other.requests == [] and other.connections == 0
    assert_logs_clean(captured)
    await harness.assert_released(client)


async def test_injected_client_following_redirects_drops_authorization(
    harness: Harness, captured: Capture
) -> None:
    """An injected client set to follow redirects still does not: the default headers (here a
    secret one) and the body never reach another origin; the caller gets the redirect error."""
    other = RawPeer(respond(200, {"Content-Type": "application/json"}, COMPLETION))
    secret_header = {"X-Team-Secret": "TEAMSECRET_must_stay_home"}
    with other, RawPeer(redirect_to(other.base_url + CHAT)) as origin:
        if harness.is_async:
            inner: Any = httpx.AsyncClient(follow_redirects=True)
            client = harness.client(origin.base_url, async_httpx_client=inner, default_headers=secret_header)
        else:
            inner = httpx.Client(follow_redirects=True)
            client = harness.client(origin.base_url, httpx_client=inner, default_headers=secret_header)
        error = await expect_error(create(client, messages=[{"role": "user", "content": "BODYMARK"}]))
        assert isinstance(error, meshapi.APIStatusError) and error.status == 307
        assert "does not follow redirects" in str(error)
        assert origin.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
        assert origin.requests[0].headers["x-team-secret"] == "TEAMSECRET_must_stay_home"
        assert other.requests == [] and other.connections == 0
    if harness.is_async:
        await inner.aclose()
    else:
        inner.close()
    assert_logs_clean(captured)
