"""How a chat call's arguments become a request: params, the structured-output format, pydantic tools.

Shared by every method of ``resources/chat.py`` (sync and async), so those stay a few lines each. The
methods' keyword TypedDicts live here too, next to the models they name: ``resources/chat.py`` imports
this module (and so the chat models) on first use, not when ``client.chat`` is first read.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from .._core.request import CallOptions, CallOptionsBase, coerce_params, require_messages
from .._errors import APITimeoutError, InvalidParamsError
from ..types.chat import ChatCompletionFields, ChatCompletionParams
from ._parsing import ResponseFormat, tool_models
from .chat import ChatChunkDecoder
from .tool_options import ToolRunOptions

__all__ = [
    "ChatArgs",
    "ChatCreateArgs",
    "ChatParseArgs",
    "streams_internally",
    "with_stream_hint",
    "ToolRunArgs",
    "decoder_for",
    "prepare",
    "raise_missing_format",
]


class ChatArgs(ChatCompletionFields, CallOptions, total=False):
    """The keywords of ``create`` and ``stream``: the chat fields and the per-call options."""


class ChatCreateArgs(ChatArgs, total=False):
    """The keywords of ``create``: those of ``stream``, and ``stream_internally`` (never sent)."""

    #: without ``stream``: stream under the hood and return the same completion (the client's default)
    stream_internally: bool


class ChatParseArgs(ChatCompletionFields, CallOptionsBase, total=False):
    """The keywords of ``parse``: ``max_retries`` re-asks there, so the transport's is ``request_max_retries``."""

    request_max_retries: Optional[int]


class ToolRunArgs(ChatArgs, ToolRunOptions, total=False):
    """The keywords of ``run_tools``: ``create``'s, and the runner's options."""


def prepare(
    params: object, fields: Mapping[str, Any], response_format: Any, *, dict_is_schema: bool
) -> Tuple[ChatCompletionParams, Optional[ResponseFormat], Dict[str, Any]]:
    """The validated params, the structured-output format (if one was passed) and the pydantic tools."""
    fmt = None
    if response_format is not None:
        fmt = ResponseFormat.of(response_format, dict_is_schema=dict_is_schema)
        fields = {**fields, "response_format": fmt.wire}
    raw_tools = params.get("tools") if isinstance(params, Mapping) else getattr(params, "tools", None)
    tools = tool_models(raw_tools, fields.get("tools"))
    parsed = coerce_params(ChatCompletionParams, params, fields)
    require_messages(parsed)
    tools.update(tool_models(parsed.tools))
    return parsed, fmt, tools


def decoder_for(fmt: Optional[ResponseFormat], tools: Dict[str, Any]) -> ChatChunkDecoder:
    return ChatChunkDecoder(response_format=fmt if fmt is not None and fmt.parses else None, tools=tools)


def raise_missing_format() -> None:
    raise InvalidParamsError("parse() needs a response_format: a pydantic model class, a type or a dict")


def streams_internally(fields: Dict[str, Any], client_default: bool) -> bool:
    """Whether a non-streaming ``create`` streams under the hood (``stream_internally=``, taken out of
    ``fields``: never sent; else the client's default)."""
    value = fields.pop("stream_internally", None)
    if value is None:
        return client_default
    if not isinstance(value, bool):
        raise InvalidParamsError(f"stream_internally must be True or False, got {value!r}")
    return value


def with_stream_hint(error: APITimeoutError) -> APITimeoutError:
    """A non-streaming chat call that timed out waiting for its answer, told how to fix it."""
    if "(read timeout)" in error.message or error.error_code == "total_timeout":
        error.message += (
            " A long generation can stream under the hood instead: pass stream_internally=True (or set"
            " it on the client); the reply is the same, bounded by stream_idle_timeout between events."
        )
        error.args = (error.message,)
    return error
