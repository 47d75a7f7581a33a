"""Prompt-token estimates without a tokenizer: the heuristic ``client.tokens.estimate`` falls back to and
the one a ``Budget`` checks a call's worst case with (docs/protocol.md §V2).

Why it exists: a budget must price a call before it is sent, and a byte-pair tokenizer (tiktoken) is an
optional extra whose encodings usually cannot be downloaded where the SDK runs. The heuristic follows what
such tokenizers do with text: a common word is one token, a long word one token per six characters
(rounded up), every punctuation mark or symbol one token, whitespace free. A chat request adds a few
tokens of framing per message (:data:`PER_MESSAGE`, :data:`PER_REPLY`); tools and a response format are
counted as their JSON text. Its error on the test corpus (``tests/unit/test_tokens_estimate.py``, against
the local gateway's own prompt-token counts) is stated in the README. Pure: ``count`` may be swapped for an
exact encoder's (``meshapi._tiktoken``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence

__all__ = [
    "PER_MESSAGE",
    "PER_REPLY",
    "count_text",
    "prompt_tokens",
    "request_prompt_tokens",
    "texts_of",
]

#: Framing tokens per chat message (role and separators) and for the reply's priming.
PER_MESSAGE = 3
PER_REPLY = 3
#: A media part (image, audio, video) counts as this many tokens.
PER_MEDIA = 85

_WORD = re.compile(r"\w+|[^\w\s]")
_LONG = 6  # characters per token inside a long word


def count_text(text: str) -> int:
    """Heuristic tokens of ``text``: one per word of up to six characters, one more per six further
    characters, one per punctuation mark or symbol."""
    total = 0
    for match in _WORD.finditer(text):
        size = match.end() - match.start()
        total += 1 if size <= _LONG else -(-size // _LONG)
    return total


def _json(value: Any) -> str:
    try:
        return json.dumps(value, separators=(", ", ": "), default=str)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def _content_texts(content: Any) -> Iterable[str]:
    """The text of a message's ``content`` (a string or a list of parts); media parts yield ``None``."""
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                yield part
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    yield text


def _media(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    kinds = ("image_url", "input_audio", "video_url", "input_image")
    return sum(1 for p in content if isinstance(p, Mapping) and p.get("type") in kinds)


def _as_dict(value: Any) -> Any:
    """A pydantic object as its dict, a pydantic class as its JSON schema, anything else as is."""
    if isinstance(value, type):
        schema = getattr(value, "model_json_schema", None)
        return schema() if callable(schema) else value.__name__
    dump = getattr(value, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else value


def prompt_tokens(
    messages: Sequence[Any],
    tools: Optional[Sequence[Any]] = None,
    response_format: Any = None,
    count: Callable[[str], int] = count_text,
) -> int:
    """The prompt tokens of a chat request: framing, each message's text (``count``), media parts, the
    tool calls it carries, and the JSON of ``tools`` and ``response_format``."""
    total = PER_REPLY
    for raw in messages:
        message = _as_dict(raw)
        if not isinstance(message, Mapping):
            total += PER_MESSAGE + count(str(message))
            continue
        content = message.get("content")
        total += PER_MESSAGE + sum(count(text) for text in _content_texts(content))
        total += PER_MEDIA * _media(content)
        for call in message.get("tool_calls") or []:
            call = _as_dict(call)
            if isinstance(call, Mapping):
                total += count(_json(call.get("function", {})))
    if tools:
        total += count(_json([_as_dict(tool) for tool in tools]))
    if response_format is not None:
        total += count(_json(_as_dict(response_format)))
    return total


def texts_of(value: Any) -> List[str]:
    """Every string inside ``value`` (an ``input`` of embeddings or responses, a prompt)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in texts_of(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in texts_of(item)]
    return []


def request_prompt_tokens(body: Mapping[str, Any], count: Callable[[str], int] = count_text) -> int:
    """The prompt tokens of any request body that runs a model: its ``messages`` (chat, compare), else
    the text of its ``input`` / ``prompt`` / ``instructions`` (responses, embeddings, images, audio)."""
    messages = body.get("messages")
    if isinstance(messages, list):
        return prompt_tokens(messages, body.get("tools"), body.get("response_format"), count)
    texts = [t for key in ("instructions", "input", "prompt", "query") for t in texts_of(body.get(key))]
    return sum(count(text) for text in texts) + (count(_json(body["tools"])) if body.get("tools") else 0)
