"""The realtime protocol core without sockets: handshake, frames, closes, state, and the session surface."""

from __future__ import annotations

import base64
import inspect
import json
import pickle
from typing import Any, Dict, List

import pytest

from meshapi import AuthenticationError, InternalServerError, InvalidParamsError, NotFoundError, RealtimeError
from meshapi.realtime.protocol import (
    AUTH_MODES,
    RealtimeMessage,
    RealtimeProtocol,
    ResponseCollector,
    SessionState,
    build_handshake,
    close_error,
    decode_frame,
    encode_audio_append,
    encode_event,
    error_from_event,
    handshake_error,
    is_quiet_end,
    query_fallback,
    realtime_url,
    scrub,
    session_update_event,
    text_turn_events,
)

TOKEN = "rsk_UNIT_REALTIME_SECRET_9x"
BASE = "https://api.meshapi.ai"


def frame(event: Dict[str, Any]) -> str:
    return json.dumps(event)


# --- URL and handshake ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.meshapi.ai", "wss://api.meshapi.ai/v1/realtime?model=openai%2Fgpt-realtime"),
        ("https://api.meshapi.ai/", "wss://api.meshapi.ai/v1/realtime?model=openai%2Fgpt-realtime"),
        ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/v1/realtime?model=openai%2Fgpt-realtime"),
        ("HTTPS://gw.example/prefix", "wss://gw.example/prefix/v1/realtime?model=openai%2Fgpt-realtime"),
    ],
)
def test_url_maps_scheme_and_encodes_model(base: str, expected: str) -> None:
    assert realtime_url(base, "openai/gpt-realtime") == expected


def test_url_encodes_every_reserved_character_of_the_model() -> None:
    url = realtime_url(BASE, "a b&c=d#e?f")
    assert url.endswith("?model=a%20b%26c%3Dd%23e%3Ff")


@pytest.mark.parametrize("model", ["", "   ", None, 3])
def test_url_rejects_a_missing_model(model: Any) -> None:
    with pytest.raises(InvalidParamsError):
        realtime_url(BASE, model)


def test_url_rejects_other_schemes() -> None:
    with pytest.raises(InvalidParamsError):
        realtime_url("ftp://x", "m")


@pytest.mark.parametrize("auth", ["auto", "subprotocol", "header"])
def test_default_auth_modes_keep_the_token_out_of_the_url(auth: str) -> None:
    hs = build_handshake(BASE, "openai/gpt-realtime", TOKEN, auth=auth, headers={"X-MeshAPI-SDK": "python/x"})
    assert TOKEN not in hs.url and "api_key" not in hs.url
    assert hs.url == hs.safe_url
    assert hs.subprotocols[0] == "openai-realtime"
    assert ("X-MeshAPI-SDK", "python/x") in hs.headers
    assert TOKEN not in repr(hs)


def test_auto_sends_subprotocol_and_authorization_header() -> None:
    hs = build_handshake(BASE, "m", TOKEN)
    assert hs.subprotocols == ("openai-realtime", f"Bearer.{TOKEN}")
    assert ("Authorization", f"Bearer {TOKEN}") in hs.headers
    assert not hs.can_fall_back and hs.could_fall_back  # the query fallback needs an opt-in (issue 15)
    assert build_handshake(BASE, "m", TOKEN, allow_query_auth=True).can_fall_back


def test_subprotocol_and_header_modes_send_one_credential_each() -> None:
    sub = build_handshake(BASE, "m", TOKEN, auth="subprotocol")
    assert sub.subprotocols == ("openai-realtime", f"Bearer.{TOKEN}")
    assert not any(k.lower() == "authorization" for k, _ in sub.headers)
    head = build_handshake(BASE, "m", TOKEN, auth="header", headers={"authorization": "Basic old"})
    assert head.subprotocols == ("openai-realtime",)
    assert [v for k, v in head.headers if k.lower() == "authorization"] == [f"Bearer {TOKEN}"]
    assert not sub.can_fall_back and not head.can_fall_back


def test_query_mode_is_the_0_1_4_form_and_its_safe_url_has_no_key() -> None:
    hs = build_handshake(BASE, "openai/gpt-realtime", TOKEN, auth="query")
    assert hs.url == f"wss://api.meshapi.ai/v1/realtime?model=openai%2Fgpt-realtime&api_key={TOKEN}"
    assert hs.subprotocols == ("openai-realtime",)
    assert not any(k.lower() == "authorization" for k, _ in hs.headers)
    assert TOKEN not in hs.safe_url and TOKEN not in repr(hs)


def test_query_fallback_drops_the_credential_headers_and_keeps_the_others() -> None:
    auto = build_handshake(BASE, "m", TOKEN, headers={"X-Extra": "1"})
    fallback = query_fallback(auto, BASE, "m", TOKEN)
    assert fallback.auth == "query" and "api_key=" in fallback.url
    assert fallback.headers == (("X-Extra", "1"),)
    assert fallback.subprotocols == ("openai-realtime",)


def test_a_token_that_is_not_a_subprotocol_token_is_only_sent_as_a_header_in_auto() -> None:
    odd = "rsk/with,comma"
    hs = build_handshake(BASE, "m", odd)
    assert hs.subprotocols == ("openai-realtime",)
    with pytest.raises(InvalidParamsError) as info:
        build_handshake(BASE, "m", odd, auth="subprotocol")
    assert odd not in str(info.value)


def test_unknown_auth_mode() -> None:
    assert AUTH_MODES == ("auto", "subprotocol", "header", "query")
    with pytest.raises(InvalidParamsError):
        build_handshake(BASE, "m", TOKEN, auth="cookie")


def test_scrub_removes_raw_and_encoded_forms() -> None:
    secret = "rsk_a/b+c"
    assert scrub(f"x {secret} y rsk_a%2Fb%2Bc z", secret) == "x *** y *** z"
    assert scrub("nothing", "") == "nothing"


# --- handshake refusals -----------------------------------------------------------------------------


def _refusal(status: int, body: bytes, headers: Any = None) -> Any:
    hs = build_handshake("http://127.0.0.1:1", "m", TOKEN, auth="query")
    return handshake_error(status, headers or [], body, hs)


def test_refusal_with_envelope_maps_to_status_class_with_request_id() -> None:
    body = b'{"error":{"code":"unauthorized","message":"Invalid API key."},"request_id":"req_env"}'
    err = _refusal(401, body, [("Content-Type", "application/json"), ("X-Request-Id", "req_hdr")])
    assert isinstance(err, AuthenticationError)
    assert (err.status, err.error_code, err.request_id) == (401, "unauthorized", "req_env")
    assert err.response is not None and TOKEN not in str(err.response.request.url)
    assert pickle.loads(pickle.dumps(err)).status == 401


def test_refusal_without_body_uses_header_request_id_and_status_code() -> None:
    err = _refusal(404, b"", [("X-Request-Id", "req_hdr")])
    assert isinstance(err, NotFoundError)
    assert (err.error_code, err.request_id) == ("not_found", "req_hdr")
    err = _refusal(503, b"<html>down</html>", [("Content-Type", "text/html")])
    assert isinstance(err, InternalServerError) and "down" in str(err)


def test_refusal_that_is_not_an_upgrade_says_so() -> None:
    err = _refusal(200, b"hello", [("Content-Type", "text/plain")])
    assert "did not upgrade" in str(err)


# --- client events ----------------------------------------------------------------------------------


def test_encode_event_is_compact_json_object() -> None:
    text = encode_event({"type": "response.create", "response": {"instructions": "é"}})
    assert json.loads(text) == {"type": "response.create", "response": {"instructions": "é"}}
    assert " " not in text.replace("é", "")


@pytest.mark.parametrize("bad", [[1, 2], "text", None, {"type": "x", "v": object()}, {"v": float("nan")}])
def test_encode_event_rejects_non_objects_and_unserialisable_values(bad: Any) -> None:
    with pytest.raises(InvalidParamsError):
        encode_event(bad)


def test_encode_audio_append_is_the_ga_base64_event() -> None:
    audio = bytes(range(256)) * 3
    event = json.loads(encode_audio_append(audio))
    assert event["type"] == "input_audio_buffer.append"
    assert base64.b64decode(event["audio"]) == audio
    assert json.loads(encode_audio_append(memoryview(b"\x01\x02")))["audio"] == "AQI="
    with pytest.raises(InvalidParamsError):
        encode_audio_append("not bytes")  # type: ignore[arg-type]


def test_helper_events() -> None:
    assert session_update_event({"instructions": "hi"}) == {
        "type": "session.update",
        "session": {"type": "realtime", "instructions": "hi"},
    }
    assert session_update_event({"type": "transcription"})["session"]["type"] == "transcription"
    item, create = text_turn_events("Hello")
    assert item["item"]["content"] == [{"type": "input_text", "text": "Hello"}]
    assert create == {"type": "response.create"}
    with pytest.raises(InvalidParamsError):
        text_turn_events(5)  # type: ignore[arg-type]


# --- server frames ----------------------------------------------------------------------------------


def test_text_frame_becomes_event_message() -> None:
    raw = frame({"type": "session.created", "session": {"id": "sess_1"}})
    message = decode_frame(raw)
    assert (message.text, message.audio, message.type) == (raw, None, "session.created")
    assert repr(message) == "RealtimeMessage(type='session.created')"


def test_binary_frame_becomes_audio_message() -> None:
    message = decode_frame(b"\x00\x01\x02")
    assert (message.audio, message.event, message.text, message.type) == (b"\x00\x01\x02", None, None, None)
    assert repr(message) == "RealtimeMessage(audio=<3B>)"
    assert decode_frame(bytearray(b"ab")).audio == b"ab"


@pytest.mark.parametrize("kind", ["response.output_audio.delta", "response.audio.delta"])
def test_audio_delta_is_decoded_and_the_event_kept(kind: str) -> None:
    pcm = b"\x10\x00\xf0\xff" * 4
    message = decode_frame(frame({"type": kind, "response_id": "r", "delta": base64.b64encode(pcm).decode()}))
    assert message.audio == pcm and message.event is not None and message.text is not None
    assert repr(message) == f"RealtimeMessage(type='{kind}', audio=<16B>)"


def test_audio_transcript_delta_is_not_decoded() -> None:
    message = decode_frame(frame({"type": "response.output_audio_transcript.delta", "delta": "aGVsbG8="}))
    assert message.audio is None


@pytest.mark.parametrize("raw", ["not json", "{", "[1, 2]", "42", '"str"', "null"])
def test_malformed_text_frames_raise_malformed_event(raw: str) -> None:
    with pytest.raises(RealtimeError) as info:
        decode_frame(raw)
    assert info.value.code == "malformed_event" and info.value.close_code is None
    assert info.value.details == [{"frame": raw}]


def test_audio_delta_that_is_not_base64_is_malformed() -> None:
    with pytest.raises(RealtimeError) as info:
        decode_frame(frame({"type": "response.output_audio.delta", "delta": "!!not base64!!"}))
    assert info.value.code == "malformed_event"


def test_plain_text_message_repr_is_truncated() -> None:
    assert repr(RealtimeMessage(text="x" * 200)) == f"RealtimeMessage(text={'x' * 80 + '…'!r})"
    assert RealtimeMessage.__slots__ == ("audio", "event", "text")
    with pytest.raises(AttributeError):
        RealtimeMessage().other = 1  # type: ignore[attr-defined]


def test_error_event_fields_and_0_1_4_defaults() -> None:
    err = error_from_event(
        {
            "type": "error",
            "error": {"code": "invalid_value", "message": "Bad.", "param": "session.type"},
            "request_id": "req_9",
        }
    )
    assert (err.code, err.error_code, err.param, err.request_id, err.status) == (
        "invalid_value",
        "invalid_value",
        "session.type",
        "req_9",
        0,
    )
    assert str(err) == "realtime[invalid_value]: Bad. (request id: req_9)"
    bare = error_from_event({"type": "error", "error": "oops", "request_id": None})
    assert (bare.code, bare.realtime_message, bare.request_id, bare.param) == (
        "unknown",
        "realtime error",
        "",
        None,
    )
    assert error_from_event({"type": "error"}).code == "unknown"


def test_protocol_raises_error_events_but_stays_usable() -> None:
    proto = RealtimeProtocol()
    with pytest.raises(RealtimeError) as info:
        proto.receive_frame(frame({"type": "error", "error": {"code": "idle_timeout", "message": "Idle."}}))
    assert info.value.code == "idle_timeout"
    assert not proto.closed
    proto.check_open()
    assert proto.receive_frame(frame({"type": "session.updated", "session": {}})).type == "session.updated"


# --- closes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1000, 1001])
def test_normal_closes_are_quiet(code: int) -> None:
    err = close_error(code, "bye")
    assert err.code == "session_closed" and err.close_code == code and is_quiet_end(err)


def test_closing_by_the_client_is_quiet_whatever_arrives() -> None:
    err = close_error(None, closed_by_client=True)
    assert is_quiet_end(err) and err.close_code == 1000


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [(1011, "internal", "abnormal_close"), (1008, "", "abnormal_close"), (4000, "custom", "abnormal_close")],
)
def test_abnormal_closes_carry_code_and_reason(code: int, reason: str, expected: str) -> None:
    err = close_error(code, reason)
    assert err.code == expected and err.close_code == code and not is_quiet_end(err)
    assert err.details == [{"close_code": code, "close_reason": reason}]
    assert str(code) in str(err) and reason in str(err)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.close_code, clone.details, str(clone)) == (code, err.details, str(err))


def test_no_close_frame_is_a_lost_connection() -> None:
    for err in (close_error(None), close_error(1006)):
        assert err.code == "connection_lost" and err.close_code == 1006


def test_close_sent_by_the_library_counts_when_nothing_was_received() -> None:
    err = close_error(None, sent_code=1009, sent_reason="message too big")
    assert err.code == "abnormal_close" and err.close_code == 1009
    assert close_error(None, sent_code=1000).code == "connection_lost"


def test_protocol_remembers_the_first_close() -> None:
    proto = RealtimeProtocol()
    first = proto.connection_closed(1011, "boom")
    second = proto.connection_closed(1000)
    assert first.close_code == second.close_code == 1011 and first is not second
    with pytest.raises(RealtimeError) as info:
        proto.check_open()
    assert info.value.close_code == 1011


def test_protocol_after_user_close() -> None:
    proto = RealtimeProtocol()
    proto.closing = True
    with pytest.raises(RealtimeError) as info:
        proto.check_open()
    assert is_quiet_end(info.value)
    assert is_quiet_end(proto.connection_closed(None))


# --- state ------------------------------------------------------------------------------------------


def test_session_state_tracks_session_and_responses() -> None:
    state = SessionState()
    feed = [
        {"type": "session.created", "session": {"id": "sess_1", "model": "openai/gpt-realtime"}},
        {"type": "response.created", "response": {"id": "resp_1"}},
    ]
    for event in feed:
        state.feed(decode_frame(frame(event)))
    assert (state.session_id, state.model, state.response_id) == ("sess_1", "openai/gpt-realtime", "resp_1")
    state.feed(
        decode_frame(frame({"type": "response.done", "response": {"id": "resp_1", "usage": {"t": 1}}}))
    )
    assert state.response_id is None and state.last_response == {"id": "resp_1", "usage": {"t": 1}}
    state.feed(decode_frame(b"\x00"))
    assert state.events_received == 4


def _transcript(response_id: str, *, text: bool = False) -> List[RealtimeMessage]:
    kind = "response.output_text.delta" if text else "response.output_audio_transcript.delta"
    events: List[Any] = [
        {"type": "response.created", "response": {"id": response_id}},
        {"type": kind, "response_id": response_id, "delta": "Hello"},
        {"type": "response.output_audio.delta", "response_id": response_id, "delta": "AAE="},
        {"type": kind, "response_id": "resp_other", "delta": " ignored"},
        {"type": kind, "response_id": response_id, "delta": " there."},
        {"type": "response.done", "response": {"id": response_id, "usage": {"total_tokens": 5}}},
    ]
    return [decode_frame(frame(e)) for e in events]


@pytest.mark.parametrize("text", [True, False])
def test_collector_gathers_one_response(text: bool) -> None:
    collector = ResponseCollector()
    chunks = [collector.feed(m) for m in _transcript("resp_1", text=text)]
    assert collector.done and collector.text == "Hello there."
    assert [c for c in chunks if c] == [b"\x00\x01"] and collector.audio == b"\x00\x01"
    assert collector.usage == {"total_tokens": 5} and collector.response_id == "resp_1"
    assert (
        collector.feed(decode_frame(frame({"type": "response.output_text.delta", "delta": "late"}))) is None
    )


def test_collector_ignores_events_before_its_response_and_other_messages() -> None:
    collector = ResponseCollector()
    collector.feed(decode_frame(frame({"type": "session.updated", "session": {}})))
    collector.feed(decode_frame(b"\x00\x00"))
    assert collector.response_id is None and not collector.done


def test_collector_falls_back_to_the_final_output() -> None:
    collector = ResponseCollector()
    done = {
        "type": "response.done",
        "response": {
            "id": "r",
            "output": [{"content": [{"type": "output_audio", "transcript": "Spoken."}, "junk"]}, "junk"],
        },
    }
    collector.feed(decode_frame(frame(done)))
    assert collector.text == "Spoken." and collector.usage is None


# --- surface ----------------------------------------------------------------------------------------


def test_session_twins_match() -> None:
    from meshapi.resources import realtime

    for sync_cls, async_cls in [
        (realtime.RealtimeSession, realtime.AsyncRealtimeSession),
        (realtime.RealtimeResource, realtime.AsyncRealtimeResource),
    ]:
        sync_names = {n for n in dir(sync_cls) if not n.startswith("_")}
        async_names = {n for n in dir(async_cls) if not n.startswith("_")}
        assert sync_names == async_names
        for name in sync_names:
            s, a = getattr(sync_cls, name), getattr(async_cls, name)
            if isinstance(s, property):
                assert s.__doc__ == a.__doc__, name
                continue
            assert list(inspect.signature(s).parameters) == list(inspect.signature(a).parameters), name
            assert inspect.getdoc(s) == inspect.getdoc(a), name


def test_public_names_are_importable_from_both_places() -> None:
    import meshapi
    from meshapi.resources import realtime

    for name in realtime.__all__:
        assert getattr(meshapi, name) is getattr(realtime, name)
    assert realtime.RealtimeError is RealtimeError


def test_missing_websockets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from meshapi import MeshAPI

    monkeypatch.setitem(sys.modules, "websockets.sync.client", None)
    monkeypatch.setitem(sys.modules, "websockets.asyncio.client", None)
    client = MeshAPI(base_url="http://127.0.0.1:9", token=TOKEN)
    try:
        with pytest.raises(ImportError, match=r"pip install 'meshapi\[realtime\]'"):
            client.realtime.connect(model="openai/gpt-realtime")
    finally:
        client.close()


async def test_missing_websockets_names_the_extra_async(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from meshapi import AsyncMeshAPI

    monkeypatch.setitem(sys.modules, "websockets.asyncio.client", None)
    async with AsyncMeshAPI(base_url="http://127.0.0.1:9", token=TOKEN) as client:
        with pytest.raises(ImportError, match="meshapi"):
            client.realtime.connect(model="openai/gpt-realtime")


def test_connect_validates_arguments_before_any_socket() -> None:
    from meshapi import MeshAPI

    with MeshAPI(base_url="http://127.0.0.1:9", token=TOKEN) as client:
        with pytest.raises(InvalidParamsError):
            client.realtime.connect(model="")
        with pytest.raises(InvalidParamsError):
            client.realtime.connect(model="m", auth="bogus")
        with pytest.raises(InvalidParamsError):
            client.realtime.connect(model="m", timeout=-1)
        with pytest.raises(InvalidParamsError):
            client.realtime.connect(model="m", extra_headers={"X-Bad": "a\nb"})
        assert TOKEN not in repr(client.realtime)
