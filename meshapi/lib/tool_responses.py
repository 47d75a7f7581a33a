"""``client.responses.run_tools(...)``: the Responses API's shape of a tool run's turns.

Why this exists: the run's rules (``tool_loop.py``) do not depend on the API; what does is written here
once for the Responses API: the transcript is ``input`` (a string becomes one user message), the calls
are the ``function_call`` output items, a result is a ``function_call_output`` item, function tools are
sent flat (``{"type": "function", "name": ...}``), and hosted tool types (``{"type": "mcp", ...}``,
``web_search``, ...) are offered as given and never run here. Output items are kept as plain dicts in
the transcript, so it can be sent again as ``input``. With ``text_format`` (as ``responses.parse()``
takes it) every turn asks for that structured answer and each reply is a ``ParsedResponse``: the final
one's ``output_parsed`` is the typed answer (``None`` on turns that call tools: only an answer is parsed).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .._errors import InvalidParamsError
from .tool_loop import LIMIT_PROMPT

__all__ = ["ResponsesWire"]


def _plain(item: Any) -> Dict[str, Any]:
    if isinstance(item, dict):
        return dict(item)
    dump = getattr(item, "model_dump", None)
    return dict(dump(mode="json", exclude_none=True)) if callable(dump) else {}


def _get(item: Any, key: str) -> Any:
    if isinstance(item, dict):
        return item.get(key)
    try:
        return item[key]  # typed output items index like dicts
    except (KeyError, TypeError):
        return getattr(item, key, None)


class ResponsesWire:
    """Responses turns: ``input`` in, ``function_call`` items out, ``function_call_output`` results."""

    transcript_key = "input"

    def __init__(self, text_format: Any = None) -> None:
        self.format: Any = None
        if text_format is not None:
            from ._parsing import ResponseFormat

            self.format = ResponseFormat.of(text_format, dict_is_schema=True)

    def ask_format(self, request: Dict[str, Any]) -> None:
        """Put ``text_format``'s schema in the request's ``text.format`` (as ``responses.parse()`` does)."""
        if self.format is None:
            return
        given: Any = request.get("text")
        dump = getattr(given, "model_dump", None)
        text: Dict[str, Any] = dict(dump(exclude_none=True) if callable(dump) else given or {})
        if "format" in text:
            raise InvalidParamsError(
                "run_tools(text_format=...) sets text.format: pass the format there only"
            )
        text["format"] = {"type": "json_schema", **self.format.wire["json_schema"]}
        request["text"] = text

    def typed(self, response: Any) -> Any:
        """A turn's reply as a ``ParsedResponse`` with ``output_parsed`` when ``text_format`` was given.

        Raises ``StructuredOutputError`` when the answer's text does not fit (or is a refusal).
        """
        if self.format is None:
            return response
        from ..types.responses import ParsedResponse
        from .responses_parse import apply_output_parsed

        parsed: Any = ParsedResponse.model_validate(response.model_dump(exclude_unset=True))
        parsed._request_id, parsed._response = response._request_id, response._response
        return parsed if self.calls(parsed) else apply_output_parsed(parsed, self.format)

    def initial(self, given: Any) -> List[Any]:
        if given is None:
            return []
        if isinstance(given, str):
            return [{"role": "user", "content": given}]
        return list(given)

    def tool_spec(self, spec: Dict[str, Any]) -> Dict[str, Any]:
        return {"type": "function", **spec["function"]}

    def calls(self, response: Any) -> List[Tuple[str, str, str]]:
        return [
            (str(_get(item, "call_id")), str(_get(item, "name")), str(_get(item, "arguments") or ""))
            for item in response.output
            if _get(item, "type") == "function_call"
        ]

    def replies(self, response: Any) -> List[Any]:
        return [_plain(item) for item in response.output]

    def result(self, call_id: str, content: str) -> Dict[str, Any]:
        return {"type": "function_call_output", "call_id": call_id, "output": content}

    def unanswered(self, transcript: Sequence[Any]) -> List[str]:
        pending: List[str] = []
        for item in transcript:
            kind = _get(item, "type") if isinstance(item, dict) or hasattr(item, "type") else None
            if kind == "function_call":
                pending.append(str(_get(item, "call_id")))
            elif kind == "function_call_output" and str(_get(item, "call_id")) in pending:
                pending.remove(str(_get(item, "call_id")))
        return pending

    def ask_final(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        return {"role": "user", "content": LIMIT_PROMPT}, {"tool_choice": "none"}

    def usage(self, response: Any) -> Tuple[int, int]:
        usage = getattr(response, "usage", None)
        if usage is None:
            return 0, 0
        prompt = usage.input_tokens if usage.input_tokens is not None else usage.prompt_tokens
        completion = usage.output_tokens if usage.output_tokens is not None else usage.completion_tokens
        return int(prompt or 0), int(completion or 0)

    def total_usage(self, prompt: int, completion: int) -> Any:
        from ..types.responses import ResponsesUsage

        return ResponsesUsage(input_tokens=prompt, output_tokens=completion, total_tokens=prompt + completion)

    def stream_text(self, event: Any) -> Optional[str]:
        if event.type == "response.output_text.delta":
            delta = getattr(event, "delta", None)
            return delta if isinstance(delta, str) else None
        return None

    def stream_cost(self, event: Any) -> Any:
        return getattr(event, "cost", None)

    def stream_final(self, stream: Any) -> Any:
        return stream.get_final_response()
