"""The stream pipeline's seams: the cap passed explicitly, one foreign-error mapping, one frame decoder.

A stream gets its event-size cap as an argument (the client's ``max_response_bytes``), never through
the response; every foreign failure on the way is mapped by ``foreign_errors`` (a table here, exact
texts); the typed streams and 0.1.4's helpers decode frames with the same function; the chat
accumulator and the typed events do not import each other.
"""

from __future__ import annotations

import ast
import json
import pathlib
from typing import Any, Dict, List

import httpx
import pytest

import meshapi
from meshapi._core.frames import DONE, _iter_sse, _try_parse_sse_frame, decode_frame, decode_item
from meshapi._core.response import foreign_errors
from meshapi._core.sse import ServerSentEvent, SSELimitError
from meshapi._core.stream import EventDecoder
from tests.conftest import RecordingStream, collect

MESSAGES = [{"role": "user", "content": "hi"}]
CHUNK = {
    "id": "c1",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": None}],
}


class Progress(EventDecoder[Any]):
    end_marker = "[DONE]"

    def __init__(self, count: int) -> None:
        super().__init__()
        self.request_id, self.count = "req_p", count


def raised(during: Any, exc: BaseException) -> BaseException:
    with pytest.raises(BaseException) as info, foreign_errors(during):
        raise exc
    return info.value


@pytest.mark.parametrize(
    ("exc", "cls", "text", "chained"),
    [
        (
            httpx.ReadTimeout("t"),
            meshapi.StreamInterruptedError,
            "Stream interrupted: no data arrived within the read timeout (after 2 items; "
            "no [DONE] end marker was received)",
            True,
        ),
        (
            httpx.ReadError("reset"),
            meshapi.StreamInterruptedError,
            "Stream interrupted: the connection failed (ReadError: reset) (after 2 items; "
            "no [DONE] end marker was received)",
            True,
        ),
        (
            SSELimitError("the event stream sent one line longer than the 9-byte limit", 9),
            meshapi.ResponseTooLargeError,
            "Stream refused: the event stream sent one line longer than the 9-byte limit (after 2 items)",
            False,
        ),
        (
            RecursionError(),
            meshapi.APIResponseValidationError,
            "Stream refused: an event's JSON is nested too deeply to decode",
            False,
        ),
    ],
)
def test_stream_failures_are_mapped_with_the_streams_progress(
    exc: BaseException, cls: type, text: str, chained: bool
) -> None:
    error = raised(Progress(2), exc)
    assert type(error) is cls and str(error).startswith(text)
    assert getattr(error, "request_id", None) == "req_p"
    assert (error.__cause__ is exc) is chained


def test_named_failures_outside_a_stream() -> None:
    error = raised("stream", SSELimitError("the event stream sent one line longer than the 9-byte limit", 9))
    assert type(error) is meshapi.ResponseTooLargeError and getattr(error, "limit", None) == 9
    assert str(error).startswith("The stream was refused: the event stream sent one line longer")
    assert type(raised("request", RecursionError())) is RecursionError  # not the peer's doing
    assert type(raised(Progress(0), KeyError(1))) is KeyError
    passed = meshapi.StreamEventError("x")
    assert raised(Progress(0), passed) is passed


def sse_handler(*pieces: bytes) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        stream = RecordingStream(list(pieces))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    return handler


async def test_the_clients_cap_reaches_the_stream_as_an_argument(make_client: Any, mode: str) -> None:
    line = b"data: " + json.dumps(CHUNK).encode() + b"\n\n"
    client = make_client(sse_handler(line, b"data: " + b"x" * 5000 + b"\n\n"), max_response_bytes=4096)
    stream = client.chat.completions.stream(messages=MESSAGES)
    assert stream.max_event_bytes == 4096
    with pytest.raises(meshapi.ResponseTooLargeError) as info:
        await collect(stream)
    assert info.value.limit == 4096 and "(after 1 item)" in str(info.value)  # type: ignore[attr-defined]
    assert "meshapi.max_event_bytes" not in stream.response.extensions  # no side channel
    big = make_client(sse_handler(line + b"data: [DONE]\n\n"), max_response_bytes=1 << 20)
    assert big.chat.completions.stream(messages=MESSAGES).max_event_bytes == 1 << 20


def test_the_0_1_4_stream_helper_honours_the_cap_and_maps_it() -> None:
    body = b"data: " + b"x" * 5000 + b"\n\n"
    inner = httpx.Client(transport=httpx.MockTransport(sse_handler(body)))
    client = meshapi.MeshAPI(
        base_url="http://gateway.test",
        token="rsk_unit_test_token",
        httpx_client=inner,
        max_response_bytes=4096,
    )
    with pytest.raises(meshapi.ResponseTooLargeError) as info:
        list(client._http.stream("/v1/chat/completions", {"model": "m"}))
    assert info.value.limit == 4096  # type: ignore[attr-defined]
    client.close()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (json.dumps(CHUNK), None),
        (json.dumps({**CHUNK, "error": None}), None),  # not an error, yet the text says "error"
        (json.dumps(CHUNK), "chunk"),  # an event name: copied into the payload first
    ],
)
def test_decode_items_fast_case_equals_the_full_path(data: str, name: Any) -> None:
    event = ServerSentEvent(data, name)
    item = decode_item(event, meshapi.ChatCompletionChunk, "req_s")
    payload = decode_frame(ServerSentEvent(data, name), "req_s")
    assert isinstance(payload, dict)
    assert item == meshapi.ChatCompletionChunk.model_validate(payload)


def test_an_error_event_is_an_error_even_without_the_word_in_its_data() -> None:
    with pytest.raises(meshapi.StreamEventError) as info:
        decode_item(
            ServerSentEvent('{"code":"busy","message":"m"}', "error"), meshapi.ChatCompletionChunk, "r"
        )
    assert info.value.error_code == "busy" and info.value.request_id == "r"
    assert decode_item(ServerSentEvent("[DONE]"), meshapi.ChatCompletionChunk, "r") is DONE
    assert decode_item(ServerSentEvent(" "), meshapi.ChatCompletionChunk, "r") is None


def test_the_0_1_4_helpers_wrap_the_same_decoder() -> None:
    done = _try_parse_sse_frame("data: [DONE]\n\n")
    assert done == {} and done is _try_parse_sse_frame(ServerSentEvent("[DONE]"))
    assert _try_parse_sse_frame(": keep-alive\n\n") is None
    assert _try_parse_sse_frame('event: meta\ndata: {"a": 1}\n\n') == {"a": 1, "event": "meta"}
    with pytest.raises(meshapi.StreamEventError):
        _try_parse_sse_frame('data: {"error": {"code": "x", "message": "m"}}\n\n')
    with pytest.raises(meshapi.APIResponseValidationError, match="not valid JSON"):
        _try_parse_sse_frame("data: {nope\n\n")
    chunks = [b'data: {"a": 1}\n\ndata: {"b"', b": 2}\n\ndata: [DONE]\n\ndata: {}\n\n"]
    frames: List[Dict[str, Any]] = list(_iter_sse(chunks))
    assert frames == [{"a": 1}, {"b": 2}]
    with pytest.raises(SSELimitError):
        list(_iter_sse([b"data: " + b"x" * 100 + b"\n\n"], max_event_bytes=50))


def imports_of(module: str) -> List[str]:
    path = pathlib.Path(meshapi.__file__).parent / "lib" / f"{module}.py"
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_the_chat_state_and_the_events_do_not_import_the_chat_stream() -> None:
    assert ".chat" not in imports_of("chat_events") and ".chat" not in imports_of("chat_state")
    assert ".chat_events" not in imports_of("chat_state")
