"""The typed output items of a Responses-API response (``response.output``) and their content parts.

Why a module of its own: the item vocabulary grows with the provider's (hosted tools add item types), and
``responses.py`` keeps the params and the response object. An item is chosen by its ``type``: a
``message`` (``output_text`` and ``refusal`` parts), a ``function_call``, a ``reasoning`` item, a
``web_search_call``; any other type, and a known type whose fields do not fit, is kept as a
``ResponseUnknownItem`` with every raw field (never rejected). Content parts work the same way
(``ResponseUnknownContent``).

0.1.12 delivered items as plain dicts, so code written for it indexes them
(``reply.output[-1]["content"][0]["text"]``): every item and part is a ``DictLikeModel``, which indexes
like the dict it was parsed from and compares equal to it.
"""

from typing import Annotated, Any, Dict, List, Literal, Optional, Type, Union

from pydantic import BeforeValidator, Field, ValidationError

from ._base import DictLikeModel

__all__ = [
    "ResponseContentPart",
    "ResponseFunctionCall",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputRefusal",
    "ResponseOutputText",
    "ResponseReasoningItem",
    "ResponseUnknownContent",
    "ResponseUnknownItem",
    "ResponseWebSearchCall",
    "output_text_of",
]


def _by_type(value: Any, known: Dict[str, Type[DictLikeModel]], fallback: Type[DictLikeModel]) -> Any:
    """``value`` as the class its ``type`` names, else (unknown type, or fields that do not fit) ``fallback``."""
    if not isinstance(value, dict):
        return value  # an instance already (or not an object: the union rejects it)
    cls = known.get(value.get("type"))  # type: ignore[arg-type]
    if cls is not None:
        try:
            return cls.model_validate(value)
        except ValidationError:
            pass
    return fallback.model_validate(value)


class ResponseOutputText(DictLikeModel):
    """An ``output_text`` part of a message: the text and its annotations (citations, file paths)."""

    type: Literal["output_text"] = "output_text"
    text: str = ""
    annotations: List[Any] = Field(default_factory=list)


class ResponseOutputRefusal(DictLikeModel):
    """A ``refusal`` part: the model declined, ``refusal`` says why."""

    type: Literal["refusal"] = "refusal"
    refusal: str = ""


class ResponseUnknownContent(DictLikeModel):
    """A content part of a type this SDK does not know: every field kept as sent."""

    type: Optional[str] = None


_PARTS: Dict[str, Type[DictLikeModel]] = {"output_text": ResponseOutputText, "refusal": ResponseOutputRefusal}

ResponseContentPart = Annotated[
    Union[ResponseOutputText, ResponseOutputRefusal, ResponseUnknownContent],
    BeforeValidator(lambda value: _by_type(value, _PARTS, ResponseUnknownContent)),
]


class ResponseOutputMessage(DictLikeModel):
    """A ``message`` item: the assistant's text (``output_text`` parts) or its refusal."""

    type: Literal["message"] = "message"
    id: Optional[str] = None
    role: str = "assistant"
    status: Optional[str] = None
    content: List[ResponseContentPart] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """The ``output_text`` parts joined."""
        return "".join(part.text for part in self.content if isinstance(part, ResponseOutputText))

    @property
    def refusal(self) -> Optional[str]:
        """The first ``refusal`` part's text, or ``None``."""
        for part in self.content:
            if isinstance(part, ResponseOutputRefusal):
                return part.refusal
        return None


class ResponseFunctionCall(DictLikeModel):
    """A ``function_call`` item: call ``name`` with the JSON text ``arguments``; answer with ``call_id``."""

    type: Literal["function_call"] = "function_call"
    id: Optional[str] = None
    call_id: Optional[str] = None
    name: str
    arguments: str = ""
    status: Optional[str] = None


class ResponseReasoningItem(DictLikeModel):
    """A ``reasoning`` item: summary parts (``{"type": "summary_text", "text": ...}``), maybe encrypted."""

    type: Literal["reasoning"] = "reasoning"
    id: Optional[str] = None
    summary: List[Any] = Field(default_factory=list)
    content: Optional[List[Any]] = None
    encrypted_content: Optional[str] = None
    status: Optional[str] = None


class ResponseWebSearchCall(DictLikeModel):
    """A ``web_search_call`` item: a hosted web search the provider ran (``action``: the query, ...)."""

    type: Literal["web_search_call"] = "web_search_call"
    id: Optional[str] = None
    status: Optional[str] = None
    action: Optional[Dict[str, Any]] = None


class ResponseUnknownItem(DictLikeModel):
    """An output item of a type this SDK does not know (hosted tools add some): every field kept as sent."""

    type: Optional[str] = None


_ITEMS: Dict[str, Type[DictLikeModel]] = {
    "message": ResponseOutputMessage,
    "function_call": ResponseFunctionCall,
    "reasoning": ResponseReasoningItem,
    "web_search_call": ResponseWebSearchCall,
}

ResponseOutputItem = Annotated[
    Union[
        ResponseOutputMessage,
        ResponseFunctionCall,
        ResponseReasoningItem,
        ResponseWebSearchCall,
        ResponseUnknownItem,
    ],
    BeforeValidator(lambda value: _by_type(value, _ITEMS, ResponseUnknownItem)),
]


def output_text_of(output: List[Any]) -> str:
    """The text of the ``message`` items of ``output`` (their ``output_text`` parts), joined."""
    return "".join(item.text for item in output if isinstance(item, ResponseOutputMessage))
