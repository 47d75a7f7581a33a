"""A chat reply always has a message and a chunk choice always has a delta, yet what 0.1.12 accepted still parses.

The types promise ``choices[i].message`` and ``choices[i].delta`` (no ``None`` check needed); a server that
leaves them out or sends ``null`` gets an empty assistant message / an empty delta instead of a failure.
"""

from __future__ import annotations

from typing import Any, Dict

import pytest

from meshapi.types import (
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionResponse,
    ResponsesResponse,
)

_REPLY: Dict[str, Any] = {"id": "c", "object": "chat.completion", "created": 1, "model": "m"}
_CHUNK: Dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}


@pytest.mark.parametrize("choice", [{"index": 0}, {"index": 0, "message": None}], ids=["absent", "null"])
def test_a_reply_without_a_message_has_an_empty_assistant_message(choice: Dict[str, Any]) -> None:
    reply = ChatCompletionResponse.model_validate(
        {**_REPLY, "choices": [{**choice, "finish_reason": "stop"}]}
    )
    message = reply.choices[0].message
    assert isinstance(message, ChatCompletionMessage)
    assert (message.role, message.content, message.tool_calls, message.refusal) == (
        "assistant",
        None,
        None,
        None,
    )
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("choice", [{"index": 0}, {"index": 0, "delta": None}], ids=["absent", "null"])
def test_a_chunk_choice_without_a_delta_has_an_empty_delta(choice: Dict[str, Any]) -> None:
    chunk = ChatCompletionChunk.model_validate({**_CHUNK, "choices": [choice]})
    delta = chunk.choices[0].delta
    assert delta.model_dump() == {
        "role": None,
        "content": None,
        "tool_calls": None,
        "audio": None,
        "refusal": None,
    }


def test_content_parts_in_a_reply_still_validate_and_keep_their_list() -> None:
    parts = [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]
    message = ChatCompletionMessage.model_validate({"role": "assistant", "content": parts})
    assert isinstance(message.content, list)
    assert [part.model_dump() for part in message.content] == parts


@pytest.mark.parametrize("extra", [{}, {"output": None}], ids=["absent", "null"])
def test_a_responses_reply_without_output_has_an_empty_list(extra: Dict[str, Any]) -> None:
    reply = ResponsesResponse.model_validate({"id": "r", "status": "queued", **extra})
    assert reply.output == [] and reply.status == "queued"
