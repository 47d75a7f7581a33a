"""How a chat call's arguments become a request: params, the structured-output format, pydantic tools.

Shared by every method of ``resources/chat.py`` (sync and async), so those stay a few lines each.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from .._core.request import coerce_params, require_messages
from .._errors import APITimeoutError, InvalidParamsError
from ..types.chat import ChatCompletionParams
from ._parsing import ResponseFormat, tool_models
from .chat import ChatChunkDecoder

__all__ = ["decoder_for", "prepare", "raise_missing_format"]


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
