"""``responses.parse()``: the structured-output request of the Responses API and the reading of its reply.

The type -> strict JSON schema step is chat's (``ResponseFormat`` in ``lib/_parsing.py``, one place for
both); this module only moves that schema to where the Responses API expects it (``text.format``, the
``json_schema`` fields flat: ``name``, ``schema``, ``strict``) and reads the reply's text back into
``output_parsed``. A refusal, and a text that does not fit, raise ``StructuredOutputError`` as chat's
``parse()`` does; when the response is ``incomplete`` (cut at ``max_output_tokens``) the error says so.
A response without any message text (only function calls, or a queued background response) keeps
``output_parsed = None``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from .._core.request import coerce_params
from .._errors import InvalidParamsError
from ..types.response_items import ResponseOutputMessage
from ..types.responses import ParsedResponse, ResponsesParams
from ._parsing import ResponseFormat, failure

__all__ = ["apply_output_parsed", "parse_request"]


def parse_request(
    params: object, fields: Mapping[str, Any], text_format: Any
) -> Tuple[ResponsesParams, ResponseFormat]:
    """The validated params with ``text.format`` set from ``text_format``, and the format to read replies with."""
    if text_format is None:
        raise InvalidParamsError(
            "responses.parse() needs text_format: a pydantic model class, a type pydantic can validate or a"
            " JSON schema dict"
        )
    fmt = ResponseFormat.of(text_format, dict_is_schema=True)
    parsed = coerce_params(ResponsesParams, params, fields)
    if parsed.stream:
        raise InvalidParamsError("responses.parse() does not stream: drop the params' stream field")
    text: Dict[str, Any] = dict(parsed.text or {})
    if "format" in text:
        raise InvalidParamsError(
            "responses.parse() sets text.format from text_format: pass the format there only"
        )
    text["format"] = {"type": "json_schema", **fmt.wire["json_schema"]}
    return parsed.model_copy(update={"text": text}), fmt


def _refusal(response: ParsedResponse[Any]) -> Optional[str]:
    """The first refusal among the message items, or ``None``."""
    for item in response.output:
        if isinstance(item, ResponseOutputMessage) and item.refusal is not None:
            return item.refusal
    return None


def apply_output_parsed(response: ParsedResponse[Any], fmt: ResponseFormat) -> ParsedResponse[Any]:
    """Set ``response.output_parsed``; ``StructuredOutputError`` on a refusal or a text that does not fit."""
    text, refusal = response.output_text, _refusal(response)
    if refusal is not None and not text:
        raise failure(fmt.name, "", ValueError(f"the model refused: {refusal}"), response)
    if not text and refusal is None:
        return response
    try:
        response.output_parsed = fmt.parse(text)
    except ValueError as exc:  # ValidationError is a ValueError
        if response.status == "incomplete":
            details = getattr(response, "incomplete_details", None)
            reason = details.get("reason") if isinstance(details, dict) else None
            error = failure(
                fmt.name,
                text,
                ValueError(f"the response is incomplete ({reason or 'no reason given'}), its text cut short"),
                response,
            )
            error.cause = exc
            raise error from exc
        raise failure(fmt.name, text, exc, response) from exc
    return response
