"""``client.tokens``: how many prompt tokens a chat request will count, before it is sent.

Why it exists: a budget, a context-window check or a cost estimate needs the prompt's size up front.
``estimate`` counts the request the way the gateway frames it (``meshapi._core.tokens``: framing per
message, the text, media parts, tool calls, the JSON of ``tools`` and ``response_format``): exactly with
tiktoken (extra ``tokens``) when it knows the model and its encoding is available offline
(``meshapi._tiktoken``), else with the heuristic, whose error on our test corpus the README states. Nothing
is sent; the async twin only matches the client's shape.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .._core.tokens import prompt_tokens
from .._errors import InvalidParamsError
from .._tiktoken import text_counter
from ..types.usage import TokenEstimate

__all__ = ["AsyncTokensResource", "TokensResource"]


def _estimate(model: str, messages: Sequence[Any], tools: Any, response_format: Any) -> TokenEstimate:
    if not isinstance(model, str) or not model:
        raise InvalidParamsError(f"model must be a non-empty string, got {model!r}")
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidParamsError("messages must be a list of messages")
    exact = text_counter(model)
    if exact is None:
        count = prompt_tokens(messages, tools, response_format)
        return TokenEstimate(model=model, prompt_tokens=count, exact=False, encoding="heuristic")
    name, counter = exact
    count = prompt_tokens(messages, tools, response_format, counter)
    return TokenEstimate(model=model, prompt_tokens=count, exact=True, encoding=name)


class TokensResource:
    def __init__(self, http: Any) -> None:
        self._http = http

    def estimate(
        self,
        *,
        model: str,
        messages: Sequence[Any],
        tools: Optional[Sequence[Any]] = None,
        response_format: Any = None,
    ) -> TokenEstimate:
        """The prompt tokens of a chat request to ``model`` (nothing is sent): exact with tiktoken when
        the model's encoding is available offline (``exact=True``, ``encoding`` its name), else the
        heuristic (``encoding="heuristic"``). ``messages`` and ``tools`` as ``create`` takes them;
        ``response_format`` a dict or a pydantic model class."""
        return _estimate(model, messages, tools, response_format)


class AsyncTokensResource:
    def __init__(self, http: Any) -> None:
        self._http = http

    async def estimate(
        self,
        *,
        model: str,
        messages: Sequence[Any],
        tools: Optional[Sequence[Any]] = None,
        response_format: Any = None,
    ) -> TokenEstimate:
        """The prompt tokens of a chat request to ``model`` (nothing is sent): exact with tiktoken when
        the model's encoding is available offline (``exact=True``, ``encoding`` its name), else the
        heuristic (``encoding="heuristic"``). ``messages`` and ``tools`` as ``create`` takes them;
        ``response_format`` a dict or a pydantic model class."""
        return _estimate(model, messages, tools, response_format)
