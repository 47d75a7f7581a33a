"""Deterministic stand-in models: same request, same answer; different prompts, different answers.

An answer is composed from the prompt's own words and a small vocabulary, driven by a pseudo-random
generator seeded from the request (model, messages, and - when ``temperature`` is above 0 - the
``seed`` and choice index). The knobs a client can observe behave as they do upstream:

* ``max_tokens`` cuts the answer to that many tokens (``finish_reason: "length"``);
* ``stop`` cuts the answer before the first stop string (``finish_reason: "stop"``);
* ``n`` gives ``n`` choices;
* ``tools`` + ``tool_choice`` produce ``tool_calls`` whose ``arguments`` validate against the tool's
  parameter schema (``finish_reason: "tool_calls"``); which tools, and when the calls stop, is the
  policy of ``tool_policy.py``;
* ``response_format`` ``json_object`` / ``json_schema`` produce JSON text (valid for the schema, on every
  turn; ``json_reply.py`` finds the schema, also one written in the prompt for JSON mode).

Token counts use one simple rule everywhere: a token is a run of word characters or one punctuation
character. ``usage.completion_tokens`` is exactly the number of tokens in the returned text.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .json_reply import hint_text, json_answer
from .schemas import PromptHints, instance_for
from .structured import check_strict, refusal_in
from .tool_policy import Call, plan_calls

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\s*(?:\w+|[^\w\s])")

_ADJECTIVES = (
    "practical",
    "simple",
    "careful",
    "useful",
    "clear",
    "steady",
    "broad",
    "precise",
    "common",
    "small",
    "central",
    "flexible",
    "reliable",
    "modern",
    "direct",
    "quiet",
    "subtle",
    "robust",
    "gradual",
    "solid",
)
_NOUNS = (
    "idea",
    "pattern",
    "approach",
    "detail",
    "result",
    "question",
    "method",
    "system",
    "context",
    "example",
    "principle",
    "choice",
    "balance",
    "signal",
    "structure",
    "process",
    "trade-off",
    "goal",
)
_VERBS = (
    "shapes",
    "supports",
    "explains",
    "connects",
    "improves",
    "reflects",
    "guides",
    "clarifies",
    "affects",
    "organises",
    "highlights",
    "extends",
    "simplifies",
    "frames",
)
_FALLBACK_TOPICS = ("the details", "its context", "the examples", "the trade-offs", "the basics")
_TEMPLATES = (
    "{K} is a {A} {N} that {V} {k2}.",
    "In short, {k} {V} the {N} behind {k2}.",
    "A {A} way to see {k} is through its {N}.",
    "Most discussions of {k} start with {k2} and the {N} it {V}.",
    "The key {N} about {k} is that it stays {A}.",
    "Consider {k}: it {V} a {A} {N}.",
    "When {k} meets {k2}, the {N} becomes {A}.",
    "{K} usually {V} a {A} {N}.",
    "One {A} {N} is that {k} {V} {k2}.",
    "It helps to treat {k} as a {A} {N}.",
)
_OPENERS = (
    "Here is a short answer about {k}.",
    "Good question about {k}.",
    "Let me summarise {k}.",
    "Thinking about {k}, a few points stand out.",
    "{K} in brief.",
)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def pieces(text: str) -> List[str]:
    """Split ``text`` into token pieces (each with its leading whitespace); joined back they equal it."""
    found = _PIECE.findall(text)
    joined = "".join(found)
    if joined != text:  # trailing whitespace
        found.append(text[len(joined) :])
    return found


def truncate_tokens(text: str, limit: int) -> str:
    return "".join(pieces(text)[:limit])


def stream_chunks(text: str) -> List[str]:
    """Word-sized chunks for streaming: a word with its leading space and any punctuation after it."""
    chunks: List[str] = []
    for piece in pieces(text):
        stripped = piece.strip()
        if chunks and stripped and not stripped[0].isalnum() and not piece[:1].isspace():
            chunks[-1] += piece
        else:
            chunks.append(piece)
    return [c for c in chunks if c]


def content_text(content: Any) -> str:
    """Plain text of a message ``content`` (string, list of parts, or null)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
        return "\n".join(texts)
    return str(content)


def _media_parts(content: Any) -> int:
    if not isinstance(content, list):
        return 0
    return sum(
        1
        for p in content
        if isinstance(p, dict) and p.get("type") in ("image_url", "input_audio", "video_url", "input_image")
    )


def prompt_token_count(messages: Sequence[Dict[str, Any]], tools: Optional[Sequence[Any]] = None) -> int:
    """Prompt tokens: 3 per message for framing, the message text, 85 per media part, plus tool schemas."""
    total = 3
    for message in messages:
        total += 3 + count_tokens(content_text(message.get("content")))
        total += 85 * _media_parts(message.get("content"))
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict):
                total += count_tokens(json.dumps(call.get("function", {})))
    if tools:
        total += count_tokens(json.dumps(tools))
    return total


@dataclass
class Choice:
    text: Optional[str]
    finish_reason: str
    tool_calls: List[Dict[str, Any]] = field(default_factory=list)
    refusal: Optional[str] = None

    @property
    def completion_tokens(self) -> int:
        tokens = count_tokens(self.text or self.refusal or "")
        for call in self.tool_calls:
            tokens += count_tokens(call["function"]["name"]) + count_tokens(call["function"]["arguments"])
        return tokens


@dataclass
class ChatParams:
    """The inference knobs of a chat request, already validated."""

    model: str
    messages: List[Dict[str, Any]]
    temperature: Optional[float] = None
    seed: Optional[int] = None
    max_tokens: Optional[int] = None
    stop: List[str] = field(default_factory=list)
    n: int = 1
    tools: List[Dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = None
    response_format: Optional[Dict[str, Any]] = None
    #: ``parallel_tool_calls``: several needed tools are called in one turn unless this is false.
    parallel_tool_calls: bool = True
    #: A scripted reply (``replies.py``): when set, every choice answers with exactly this text.
    reply: Optional[str] = None
    #: Scripted tool calls (``replies.py``): when set, every choice answers with exactly these calls.
    reply_calls: Optional[List[Dict[str, Any]]] = None

    @classmethod
    def from_body(cls, body: Dict[str, Any], model: str) -> ChatParams:
        stop = body.get("stop")
        stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str) and s]
        max_tokens = body.get("max_tokens")
        if max_tokens is None:
            max_tokens = body.get("max_completion_tokens")
        return cls(
            model=model,
            messages=list(body.get("messages") or []),
            temperature=body.get("temperature"),
            seed=body.get("seed"),
            max_tokens=max_tokens,
            stop=stops,
            n=int(body.get("n") or 1),
            tools=[t for t in (body.get("tools") or []) if isinstance(t, dict)],
            tool_choice=body.get("tool_choice"),
            response_format=body.get("response_format"),
            parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        )


def _digest(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _last_text(messages: Sequence[Dict[str, Any]], role: str) -> str:
    for message in reversed(messages):
        if message.get("role") == role:
            return content_text(message.get("content"))
    return ""


def compose(prompt: str, rng: random.Random, sentences: Optional[int] = None) -> str:
    """A few sentences built from the prompt's keywords and the vocabulary."""
    hints = PromptHints(prompt)
    keywords = hints.keywords[:8] or ["this topic"]
    count = sentences if sentences is not None else rng.randint(2, 4)

    def fill(template: str) -> str:
        k = rng.choice(keywords)
        others = [w for w in keywords if w != k] or [rng.choice(_FALLBACK_TOPICS)]
        k2 = rng.choice(others)
        return template.format(
            k=k,
            K=k[:1].upper() + k[1:],
            k2=k2,
            A=rng.choice(_ADJECTIVES),
            N=rng.choice(_NOUNS),
            V=rng.choice(_VERBS),
        )

    out = [fill(rng.choice(_OPENERS))]
    templates = list(_TEMPLATES)
    rng.shuffle(templates)
    for i in range(max(0, count - 1)):
        out.append(fill(templates[i % len(templates)]))
    return " ".join(out)


def _rng(params: ChatParams, index: int, salt: str = "") -> random.Random:
    varied = params.temperature is None or params.temperature > 0
    key = _digest(
        params.model,
        params.messages,
        salt,
        params.seed if varied else None,
        index if varied else 0,
        params.response_format,
    )
    return random.Random(key)


def tool_call_id(seed_text: str) -> str:
    return "call_" + hashlib.sha256(seed_text.encode("utf-8")).hexdigest()[:24]


def _texts(messages: Sequence[Dict[str, Any]]) -> List[Tuple[str, str]]:
    return [(str(m.get("role")), content_text(m.get("content"))) for m in messages]


def _text_answer(params: ChatParams, index: int, salt: str) -> str:
    if params.reply is not None:
        return params.reply
    rng = _rng(params, index, salt)
    prompt = _last_text(params.messages, "user")
    fmt = params.response_format or {}
    answer = json_answer(fmt, _texts(params.messages))
    if answer is not None:
        return answer
    after_tool = bool(params.messages) and params.messages[-1].get("role") == "tool"
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        hints = PromptHints(prompt)
        return json.dumps({"answer": compose(prompt, rng, 1), "topic": hints.keyword(0)})
    if after_tool:
        result = content_text(params.messages[-1].get("content"))
        return "Based on the tool result, " + compose(f"{result} {prompt}", rng, 2)
    return compose(prompt or _last_text(params.messages, "system"), rng)


def complete(params: ChatParams, salt: str = "") -> List[Choice]:
    """Run the stand-in model: one :class:`Choice` per requested ``n``."""
    choices = []
    check_strict(params.response_format, params.tools)
    if params.reply_calls is not None:
        return [Choice(None, "tool_calls", list(params.reply_calls)) for _ in range(max(1, params.n))]
    prompt = _last_text(params.messages, "user")
    calls = (
        []
        if params.reply is not None
        else plan_calls(
            params.tools,
            params.tool_choice,
            params.messages,
            prompt,
            params.parallel_tool_calls,
            hint_text(_texts(params.messages)),
        )
    )
    refusal = None if params.reply is not None else refusal_in(prompt)
    for index in range(max(1, params.n)):
        if refusal is not None:
            choices.append(Choice(None, "stop", refusal=refusal))
            continue
        if calls:
            made = [_tool_call(params, call, index, salt) for call in calls]
            choices.append(Choice(None, "tool_calls", made))
            continue
        text = _text_answer(params, index, salt)
        finish = "stop"
        cut = min((p for p in (text.find(s) for s in params.stop) if p >= 0), default=-1)
        if cut >= 0:
            text = text[:cut]
        if params.max_tokens is not None and count_tokens(text) > params.max_tokens:
            text = truncate_tokens(text, params.max_tokens)
            finish = "length"
        choices.append(Choice(text, finish))
    return choices


def _tool_call(params: ChatParams, call: Call, index: int, salt: str) -> Dict[str, Any]:
    function = call.function
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    arguments = json.dumps(instance_for(schema, call.hint, param="tools"))
    call_id = tool_call_id(_digest(params.model, params.messages, function["name"], index, salt))
    return {"id": call_id, "type": "function", "function": {"name": function["name"], "arguments": arguments}}


def argument_fragments(arguments: str, parts: int = 3) -> List[str]:
    """Split a tool-call ``arguments`` string into a few stream fragments."""
    if not arguments:
        return [""]
    size = max(1, -(-len(arguments) // parts))
    return [arguments[i : i + size] for i in range(0, len(arguments), size)]
