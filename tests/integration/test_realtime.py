"""Realtime sessions over real sockets against the local gateway, sync and async (one body for both).

Every wait is bounded: sessions receive with a timeout, handshakes have one, and the gateway closes the
socket in the fault tests.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any, AsyncIterator, Callable, Dict, List

import pytest

pytest.importorskip("websockets")

from meshapi import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncMeshAPI,
    AuthenticationError,
    BadRequestError,
    MeshAPI,
    NotFoundError,
    RealtimeError,
)
from meshapi.resources.realtime import AsyncRealtimeSession, RealtimeMessage, RealtimeSession
from tests.conftest import resolve

MODEL = "openai/gpt-realtime"
WAIT = 5.0
FAST: Dict[str, Any] = {"retry_initial_delay": 0.0, "retry_max_delay": 0.0, "timeout": 10.0}
REALTIME = "/v1/realtime"


# --- helpers: one test body for both flavours -------------------------------------------------------


@pytest.fixture
async def rt_client(mode: str, gateway: Any) -> AsyncIterator[Any]:
    if mode == "sync":
        with MeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c
    else:
        async with AsyncMeshAPI(base_url=gateway.base_url, token=gateway.token, **FAST) as c:
            yield c


def make_client(mode: str, base_url: str, token: str, **kwargs: Any) -> Any:
    cls = MeshAPI if mode == "sync" else AsyncMeshAPI
    return cls(base_url=base_url, token=token, **{**FAST, **kwargs})


async def close_client(client: Any) -> None:
    if isinstance(client, MeshAPI):
        client.close()
    else:
        await client.aclose()


async def connect(client: Any, model: str = MODEL, **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", WAIT)
    return await resolve(client.realtime.connect(model=model, **kwargs))


async def receive(session: Any, timeout: float = WAIT) -> RealtimeMessage:
    return await resolve(session.receive(timeout=timeout))  # type: ignore[no-any-return]


async def send(session: Any, event: Any) -> None:
    await resolve(session.send(event))


async def opened(client: Any, **kwargs: Any) -> Any:
    """A connected session whose ``session.created`` has been received."""
    session = await connect(client, **kwargs)
    first = await receive(session)
    assert first.type == "session.created"
    return session


async def drain(session: Any) -> List[RealtimeMessage]:
    """Iterate the session to its end (the gateway closes it in the tests that call this)."""
    out: List[RealtimeMessage] = []
    if isinstance(session, AsyncRealtimeSession):
        async for message in session:
            out.append(message)
    else:
        for message in session:
            out.append(message)
    return out


async def expect_realtime_error(call: Callable[[], Any]) -> RealtimeError:
    """Run ``call()`` (awaiting its result for the async flavour) and return the RealtimeError it raised."""
    with pytest.raises(RealtimeError) as info:
        await resolve(call())
    return info.value


async def collect_audio(session: Any) -> bytes:
    if isinstance(session, AsyncRealtimeSession):
        return b"".join([chunk async for chunk in session.iter_audio(timeout=WAIT)])
    return b"".join(session.iter_audio(timeout=WAIT))


async def first_of(session: Any, kind: str) -> RealtimeMessage:
    iterator = session.events(kind, timeout=WAIT)
    if isinstance(session, AsyncRealtimeSession):
        async for message in iterator:
            await iterator.aclose()
            return message  # type: ignore[no-any-return]
    else:
        for message in iterator:
            iterator.close()
            return message  # type: ignore[no-any-return]
    raise AssertionError(f"the session ended before {kind}")


def realtime_records(gateway: Any) -> List[Any]:
    return [r for r in gateway.requests if r.path == REALTIME]


# --- the session ------------------------------------------------------------------------------------


async def test_session_created_comes_first_and_update_is_answered(rt_client: Any) -> None:
    session = await connect(rt_client)
    assert isinstance(session, (RealtimeSession, AsyncRealtimeSession))
    first = await receive(session)
    assert first.type == "session.created" and first.event is not None
    assert session.session_id is not None and session.session_id.startswith("sess_")
    assert session.session_id == first.event["session"]["id"]
    assert session.model == MODEL
    await resolve(session.update_session(instructions="Be brief.", output_modalities=["text"]))
    updated = await receive(session)
    assert updated.type == "session.updated"
    assert updated.event is not None and updated.event["session"]["instructions"] == "Be brief."
    assert updated.event["session"]["output_modalities"] == ["text"]
    await resolve(session.close())
    assert session.closed and session.close_code == 1000


async def test_beta_session_update_is_an_in_band_error_and_the_session_stays_open(rt_client: Any) -> None:
    session = await opened(rt_client)
    await send(session, {"type": "session.update", "session": {"modalities": ["text"], "voice": "alloy"}})
    error = await expect_realtime_error(lambda: session.receive(timeout=WAIT))
    assert error.code == "invalid_value" and error.param == "session.type"
    assert error.request_id.startswith("req_") and error.status == 0 and error.close_code is None
    assert not session.closed
    await resolve(session.update_session(instructions="GA shape"))
    assert (await receive(session)).type == "session.updated"
    await resolve(session.close())


async def test_text_turn_returns_the_deltas_and_is_deterministic(rt_client: Any) -> None:
    replies = []
    for _ in range(2):
        session = await opened(rt_client)
        await resolve(session.update_session(output_modalities=["text"]))
        assert (await receive(session)).type == "session.updated"
        replies.append(await resolve(session.send_text("Say hello in three words.", timeout=WAIT)))
        response = session.last_response
        assert response is not None and response["status"] == "completed"
        assert response["output"][0]["content"][0]["text"] == replies[-1]
        assert response["usage"]["output_tokens"] > 0
        await resolve(session.close())
    assert replies[0] and replies[0] == replies[1]


async def test_spoken_turn_gives_transcript_and_decoded_audio(rt_client: Any) -> None:
    from meshapi_gateway.fakes import engine
    from meshapi_gateway.realtime.parts import pcm_for

    session = await opened(rt_client)  # default output modality: audio
    for event in [
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me about rivers."}],
            },
        },
        {"type": "response.create"},
    ]:
        await send(session, event)
    audio = await collect_audio(session)
    transcript = session.last_response["output"][0]["content"][0]["transcript"]
    assert transcript and audio == b"".join(pcm_for(c) for c in engine.stream_chunks(transcript))
    assert len(audio) % 2 == 0  # PCM16
    again = await resolve(session.send_text("Tell me about rivers.", timeout=WAIT))
    assert again == transcript  # send_text falls back to the audio transcript
    await resolve(session.close())


async def test_audio_in_as_base64_events_and_binary_frames(rt_client: Any) -> None:
    session = await opened(rt_client)
    await resolve(session.send_audio(b"\x01\x00" * 480))  # GA base64 append (default)
    await resolve(session.send_audio(b"\x02\x00" * 240, binary=True))  # 0.1.4 binary frame
    await resolve(session.stream_audio([b"\x00" * 100, bytearray(100)], commit=True))
    committed = await first_of(session, "conversation.item.done")
    assert committed.event is not None
    assert committed.event["item"]["content"][0]["transcript"] == "(1640 bytes of audio)"
    await send(session, {"type": "response.create"})
    assert await collect_audio(session)
    await resolve(session.close())


async def test_async_stream_audio_accepts_an_async_iterable(async_client: AsyncMeshAPI) -> None:
    session = await opened(async_client)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"\x05\x00" * 10

    await session.stream_audio(chunks(), commit=True)
    done = await first_of(session, "conversation.item.done")
    assert done.event is not None and done.event["item"]["content"][0]["transcript"] == "(60 bytes of audio)"
    await session.close()


async def test_malformed_client_frames_are_answered_by_error_events(rt_client: Any) -> None:
    session = await opened(rt_client)
    for raw, code in [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_event"),
        ('{"type": "bogus"}', "unknown_event_type"),
    ]:
        await resolve(session._ws.send(raw))  # what a buggy client could put on the wire
        error = await expect_realtime_error(lambda: session.receive(timeout=WAIT))
        assert error.code == code and error.request_id.startswith("req_")
    await send(session, {"type": "input_audio_buffer.commit"})  # nothing appended
    assert (
        await expect_realtime_error(lambda: session.receive(timeout=WAIT))
    ).code == "input_audio_buffer_commit_empty"
    await resolve(session.update_session(instructions="still here"))
    assert (await receive(session)).type == "session.updated"
    await resolve(session.close())


async def test_iteration_stops_at_an_error_event_and_can_resume(rt_client: Any) -> None:
    session = await opened(rt_client)
    await send(session, {"type": "response.cancel"})
    with pytest.raises(RealtimeError) as info:
        await drain(session)
    assert info.value.code == "response_cancel_not_active"
    await resolve(session.update_session(instructions="again"))
    assert (await receive(session)).type == "session.updated"
    await resolve(session.close())


# --- closes -----------------------------------------------------------------------------------------


async def test_abnormal_close_from_the_fault_plan_raises_with_close_code(
    rt_client: Any, gateway: Any
) -> None:
    gateway.faults.add(REALTIME, ws_close_code=1011, ws_close_after_events=1)
    session = await connect(rt_client)
    seen: List[RealtimeMessage] = []
    with pytest.raises(RealtimeError) as info:
        if isinstance(session, AsyncRealtimeSession):
            async for message in session:
                seen.append(message)
        else:
            for message in session:
                seen.append(message)
    assert [m.type for m in seen] == ["session.created"]
    error = info.value
    assert error.code == "abnormal_close" and error.close_code == 1011 and error.status == 0
    assert error.details == [{"close_code": 1011, "close_reason": "fault injected"}]
    assert session.closed and session.close_code == 1011
    again = await expect_realtime_error(lambda: session.send({"type": "response.create"}))
    assert again.close_code == 1011
    await resolve(session.close())  # closing an ended session is fine


async def test_close_before_any_event(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, ws_close_code=1008, ws_close_after_events=0)
    session = await connect(rt_client)
    error = await expect_realtime_error(lambda: session.receive(timeout=WAIT))
    assert error.close_code == 1008
    await resolve(session.close())


async def test_normal_close_ends_iteration_quietly(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, ws_close_code=1000, ws_close_after_events=1)
    session = await connect(rt_client)
    assert [m.type for m in await drain(session)] == ["session.created"]
    error = await expect_realtime_error(lambda: session.receive(timeout=WAIT))
    assert error.code == "session_closed" and error.close_code == 1000
    await resolve(session.close())


async def test_closed_session_ends_iteration_and_refuses_sends(rt_client: Any) -> None:
    session = await opened(rt_client)
    await resolve(session.close())
    await resolve(session.close())  # idempotent
    assert await drain(session) == []
    error = await expect_realtime_error(lambda: session.send({"type": "response.create"}))
    assert error.code == "session_closed"


async def test_context_managers_close_the_session(mode: str, rt_client: Any) -> None:
    if mode == "sync":
        with rt_client.realtime.connect(model=MODEL, timeout=WAIT) as session:
            assert session.receive(timeout=WAIT).type == "session.created"
    else:
        async with rt_client.realtime.connect(model=MODEL, timeout=WAIT) as session:
            assert (await session.receive(timeout=WAIT)).type == "session.created"
    assert session.closed


async def test_receive_timeout_leaves_the_session_open(rt_client: Any) -> None:
    session = await opened(rt_client)
    with pytest.raises(APITimeoutError) as info:
        await resolve(session.receive(timeout=0.2))
    assert info.value.error_code == "realtime_receive_timeout"
    assert not session.closed
    await resolve(session.update_session(instructions="after the timeout"))
    assert (await receive(session)).type == "session.updated"
    await resolve(session.close())


async def test_client_close_closes_every_open_session(mode: str, gateway: Any) -> None:
    client = make_client(mode, gateway.base_url, gateway.token)
    sessions = [await opened(client) for _ in range(2)]
    await resolve(sessions[0].close())
    assert len(client.realtime._sessions) == 1
    await close_client(client)
    for session in sessions:
        assert session.closed
        assert await drain(session) == []
    assert not client.realtime._sessions


# --- handshake --------------------------------------------------------------------------------------


async def test_unknown_model_is_a_404_with_request_id(rt_client: Any, gateway: Any) -> None:
    with pytest.raises(NotFoundError) as info:
        await connect(rt_client, model="nobody/no-such-model")
    error = info.value
    assert error.status == 404 and error.error_code == "model_not_found"
    assert error.request_id.startswith("req_") and "no-such-model" in str(error)
    record = realtime_records(gateway)[-1]
    assert record.request_id == error.request_id and record.status == 404


async def test_non_realtime_model_is_refused(rt_client: Any, gateway: Any) -> None:
    from meshapi_gateway.fakes.catalog import Catalog

    chat_model = next(e.id for e in Catalog() if not e.supports_realtime)
    with pytest.raises(NotFoundError) as info:
        await connect(rt_client, model=chat_model)
    assert info.value.error_code == "model_not_found"


@pytest.mark.parametrize("auth", ["auto", "subprotocol", "header", "query"])
async def test_bad_token_is_a_401_with_request_id(mode: str, gateway: Any, auth: str) -> None:
    wrong = "rsk_wrong_realtime_token_123"
    client = make_client(mode, gateway.base_url, wrong)
    try:
        with pytest.raises(AuthenticationError) as info:
            await connect(client, auth=auth)
    finally:
        await close_client(client)
    error = info.value
    assert error.status == 401 and error.error_code == "unauthorized" and error.request_id.startswith("req_")
    assert error.response is not None
    for text in (str(error), repr(error), repr(error.args), str(error.response.request.url)):
        assert wrong not in text
    assert len([r for r in realtime_records(gateway) if r.request_id == error.request_id]) == 1  # no fallback


@pytest.mark.parametrize("auth", ["auto", "subprotocol", "header", "query"])
async def test_every_auth_mode_opens_a_session(rt_client: Any, gateway: Any, auth: str) -> None:
    session = await opened(rt_client, auth=auth)
    await resolve(session.close())
    record = realtime_records(gateway)[-1]
    assert record.status == 101
    assert ("api_key" in record.query) is (auth == "query")


async def test_token_never_appears_in_the_handshake_url_by_default(rt_client: Any, gateway: Any) -> None:
    session = await opened(rt_client)
    await resolve(session.close())
    record = realtime_records(gateway)[-1]
    assert record.query == {"model": MODEL}
    assert gateway.token not in record.path and gateway.token not in repr(record.query)
    assert gateway.token not in repr(session) and gateway.token not in repr(rt_client.realtime)


async def test_a_400_without_opt_in_says_how_to_allow_the_query_key(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, status=400)  # a gateway refusing the subprotocol/header forms
    before = len(realtime_records(gateway))
    with pytest.raises(BadRequestError) as info:
        await connect(rt_client)
    assert "allow_query_auth=True" in str(info.value) and gateway.token not in str(info.value)
    assert len(realtime_records(gateway)) == before + 1  # the key was not moved into a URL
    assert "api_key" not in realtime_records(gateway)[-1].query


async def test_auto_falls_back_to_the_query_key_after_a_400_when_allowed(mode: str, gateway: Any) -> None:
    client = make_client(mode, gateway.base_url, gateway.token)
    try:
        gateway.faults.add(REALTIME, status=400)  # a gateway refusing the subprotocol/header forms
        session = await opened(client, allow_query_auth=True)
        await resolve(session.close())
        first, second = realtime_records(gateway)[-2:]
        assert first.status == 400 and "api_key" not in first.query
        assert second.status == 101 and "api_key" in second.query
        session = await opened(client, allow_query_auth=True)  # the client remembers
        await resolve(session.close())
        assert "api_key" in realtime_records(gateway)[-1].query
    finally:
        await close_client(client)


async def test_other_refusals_are_not_retried(rt_client: Any, gateway: Any) -> None:
    gateway.faults.add(REALTIME, status=503)
    before = len(realtime_records(gateway))
    with pytest.raises(Exception) as info:
        await connect(rt_client)
    assert getattr(info.value, "status", None) == 503
    assert len(realtime_records(gateway)) == before + 1


async def test_handshake_timeout(mode: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()  # accepts TCP connections (backlog) but never answers the upgrade
    port = listener.getsockname()[1]
    client = make_client(mode, f"http://127.0.0.1:{port}", "rsk_timeout_token", realtime_connect_timeout=0.3)
    try:
        with pytest.raises(APITimeoutError):
            await connect(client, timeout=None)
    finally:
        await close_client(client)
        listener.close()


async def test_connection_refused(mode: str) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    client = make_client(mode, f"http://127.0.0.1:{port}", "rsk_refused_token")
    try:
        with pytest.raises(APIConnectionError) as info:
            await connect(client)
        assert not isinstance(info.value, APITimeoutError)
        assert "rsk_refused_token" not in str(info.value)
    finally:
        await close_client(client)


@pytest.mark.parametrize("auth", ["auto", "query"])
async def test_no_log_line_carries_the_key(
    mode: str, gateway: Any, auth: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "rsk_wrong_logged_token_456"
    for name in ("meshapi", "websockets", "uvicorn.error"):
        caplog.set_level(logging.DEBUG, logger=name)
    good = make_client(mode, gateway.base_url, gateway.token)
    bad = make_client(mode, gateway.base_url, wrong)
    try:
        session = await opened(good, auth=auth)
        await resolve(session.close())
        with pytest.raises(AuthenticationError):
            await connect(bad, auth=auth)
    finally:
        await close_client(good)
        await close_client(bad)
    assert any(r.name.startswith("websockets") for r in caplog.records)  # the scan saw the handshake
    rendered = [r.getMessage() for r in caplog.records]
    for secret in (gateway.token, wrong):
        assert not [line for line in rendered if secret in line]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR
    ]


class _Redirector:
    """A one-shot HTTP peer that answers the upgrade with a redirect to ``location``."""

    def __init__(self, location: str) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.listener.settimeout(WAIT)
        self.base_url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.location = location
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(WAIT)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(
                f"HTTP/1.1 302 Found\r\nLocation: {self.location}\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )

    def close(self) -> None:
        self.listener.close()
        self.thread.join(WAIT)


async def test_cross_origin_redirect_is_not_followed(mode: str) -> None:
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    other.setblocking(False)  # accept() below must not wait
    target = f"ws://127.0.0.1:{other.getsockname()[1]}/v1/realtime?model=x"
    peer = _Redirector(target)
    client = make_client(mode, peer.base_url, "rsk_redirect_token_789")
    try:
        # websockets versions that follow redirects hit the SDK's origin guard (APIConnectionError); older
        # ones report the 302 itself (APIStatusError); either way nothing goes to the other origin
        with pytest.raises((APIConnectionError, APIStatusError)) as info:
            await connect(client)
        assert "redirect" in str(info.value) and "rsk_redirect_token_789" not in str(info.value)
        # websockets may open the TCP connection to the other origin, but no request byte reaches it
        await asyncio.sleep(0.05)  # let the event loop finish closing the async client's transport
        try:
            stray, _ = other.accept()
        except BlockingIOError:
            pass
        else:
            with stray:
                stray.settimeout(WAIT)
                assert stray.recv(4096) == b""
    finally:
        await close_client(client)
        peer.close()
        other.close()
