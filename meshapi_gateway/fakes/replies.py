"""Scripted replies: fixed answers for tests whose assertions depend on what the model says.

A rule is a JSON object with ``match`` (a regex), an optional ``model`` (a glob on the model id) and
one answer::

    {"match": "<regex>", "model": "openai/*", "content": "<reply text>"}
    {"match": "<regex>", "json": <value>}             # that value as JSON text (structured output)
    {"match": "<regex>", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]}
    {"match": "<regex>", "turns": [<answer>, <answer>, ...]}

``tool_calls`` answers with those calls (``finish_reason: "tool_calls"``; ``arguments`` an object or a
JSON object as text; ids are deterministic). ``turns`` scripts one conversation: each entry is an answer
object (``{"content": ...}``, ``{"json": ...}`` or ``{"tool_calls": [...]}``) and entry *k* answers when
the request holds *k* assistant messages after its last user message (turn 0 answers the user, turn 1
answers after the first reply, typically a tool result, ...). Past the last entry the rule no longer
matches. ``match`` is searched case-insensitively in the last user message. The first rule that
matches wins; no match leaves the deterministic model to answer. Rules apply to chat completions (plain
and streamed), responses (chained ones count the earlier turns), the per-model answers of compare, and
chat items of batches.

Rules come from ``serve(replies=[...])`` / ``serve(replies="rules.json")``, ``meshapi gateway
--replies FILE``, the pytest plugin's ``--meshapi-replies`` option, or ``/_admin/replies`` at run time.
:func:`load_rules` checks every rule and raises :class:`RepliesError` naming the bad one.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..settings import RulesSource
from .engine import ChatParams, content_text, tool_call_id

_ANSWERS = ("content", "json", "tool_calls", "turns")
_KEYS = {"match", "model", *_ANSWERS}


class RepliesError(ValueError):
    """A replies file or rule list that cannot be used (the message says which rule and why)."""


@dataclass(frozen=True)
class Answer:
    """One scripted answer: a text, or tool calls (``(name, arguments as JSON text)`` pairs)."""

    text: Optional[str] = None
    calls: Tuple[Tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReplyRule:
    match: str
    model: Optional[str]
    #: One answer, or one per turn when ``turns`` is set.
    answers: Tuple[Answer, ...]
    turns: bool
    spec: Mapping[str, Any]

    @property
    def reply(self) -> Optional[str]:
        """The text a single-answer text rule replies with (``None`` for tool calls and turns)."""
        return None if self.turns else self.answers[0].text

    def matches(self, model: str, text: str) -> bool:
        if self.model is not None and not fnmatch.fnmatchcase(model, self.model):
            return False
        return re.search(self.match, text, re.IGNORECASE) is not None

    def answer_at(self, turn: int) -> Optional[Answer]:
        if not self.turns:
            return self.answers[0]
        return self.answers[turn] if turn < len(self.answers) else None

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.spec)


def _tool_calls(value: Any, where: str) -> Tuple[Tuple[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise RepliesError(f"{where}: 'tool_calls' must be a non-empty list of {{name, arguments}} objects")
    calls = []
    for i, call in enumerate(value):
        at = f"{where}, tool call {i}"
        if not isinstance(call, Mapping) or set(call) - {"name", "arguments"}:
            raise RepliesError(f"{at}: must be an object with 'name' and 'arguments' only")
        name, arguments = call.get("name"), call.get("arguments", {})
        if not isinstance(name, str) or not name:
            raise RepliesError(f"{at}: 'name' must be a non-empty string")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                raise RepliesError(f"{at}: 'arguments' text is not valid JSON") from None
        if not isinstance(arguments, Mapping):
            raise RepliesError(f"{at}: 'arguments' must be a JSON object (or one as text)")
        calls.append((name, json.dumps(arguments, ensure_ascii=False)))
    return tuple(calls)


def _one_of(spec: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
    if sum(1 for key in allowed if key in spec) != 1:
        names = " or ".join(repr(key) for key in allowed)
        raise RepliesError(f"{where}: give exactly one of {names}")


def _answer(spec: Mapping[str, Any], where: str) -> Answer:
    """The answer of a rule or of one turn (exactly one of content, json, tool_calls: checked first)."""
    if "content" in spec:
        if not isinstance(spec["content"], str):
            raise RepliesError(f"{where}: 'content' must be a string")
        return Answer(text=spec["content"])
    if "json" in spec:
        return Answer(text=json.dumps(spec["json"], ensure_ascii=False))
    return Answer(calls=_tool_calls(spec["tool_calls"], where))


def parse_rule(spec: Any, where: str = "rule") -> ReplyRule:
    """One checked rule (raises :class:`RepliesError`)."""
    if not isinstance(spec, Mapping):
        raise RepliesError(f"{where}: must be a JSON object, not {type(spec).__name__}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        allowed = ", ".join(sorted(_KEYS))
        raise RepliesError(f"{where}: unknown key {unknown[0]!r} (allowed: {allowed})")
    pattern = spec.get("match")
    if not isinstance(pattern, str):
        raise RepliesError(f"{where}: 'match' must be a string (a regular expression)")
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RepliesError(f"{where}: 'match' is not a valid regular expression: {exc}") from None
    model = spec.get("model")
    if model is not None and not isinstance(model, str):
        raise RepliesError(f"{where}: 'model' must be a string (a glob such as 'openai/*')")
    _one_of(spec, where, _ANSWERS)
    if "turns" not in spec:
        return ReplyRule(pattern, model, (_answer(spec, where),), False, dict(spec))
    turns = spec["turns"]
    if not isinstance(turns, list) or not turns:
        raise RepliesError(f"{where}: 'turns' must be a non-empty list of answers")
    answers = []
    for i, item in enumerate(turns):
        at = f"{where}, turn {i}"
        if not isinstance(item, Mapping) or set(item) - set(_ANSWERS[:3]):
            raise RepliesError(f"{at}: must be an object with one of 'content', 'json' or 'tool_calls'")
        _one_of(item, at, _ANSWERS[:3])
        answers.append(_answer(item, at))
    return ReplyRule(pattern, model, tuple(answers), True, dict(spec))


def load_rules(source: RulesSource) -> List[ReplyRule]:
    """Rules from a list of rule objects or from a JSON file holding such a list."""
    where = "replies"
    data: Any = source
    if isinstance(source, (str, os.PathLike)):
        where = f"replies file {os.fspath(source)!r}"
        try:
            with open(source, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError as exc:
            raise RepliesError(f"{where}: cannot be read ({exc.strerror or exc})") from None
        except json.JSONDecodeError as exc:
            raise RepliesError(f"{where}: is not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, (list, tuple)):
        raise RepliesError(f"{where}: must be a JSON array of rules")
    return [parse_rule(spec, f"{where}, rule {i}") for i, spec in enumerate(data)]


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def turn_of(messages: Sequence[Mapping[str, Any]]) -> int:
    """How many assistant messages follow the last user message (the turn a ``turns`` rule answers)."""
    turn = 0
    for message in reversed(messages):
        role = message.get("role")
        if role == "user":
            break
        if role == "assistant":
            turn += 1
    return turn


class Replies:
    """The gateway's current rules (thread-safe); ``initial`` is what :meth:`reset` restores."""

    def __init__(self, rules: Optional[Sequence[ReplyRule]] = None) -> None:
        self._lock = threading.Lock()
        self._initial: List[ReplyRule] = list(rules or [])
        self._rules: List[ReplyRule] = list(self._initial)
        #: Counts the changes of the rules (the response cache does not replay answers of older rules).
        self.version = 0

    def __len__(self) -> int:
        return len(self._rules)

    def rules(self) -> List[ReplyRule]:
        with self._lock:
            return list(self._rules)

    def add(self, source: RulesSource) -> List[ReplyRule]:
        """Append rules (after the existing ones: earlier rules still win)."""
        new = load_rules(source)
        with self._lock:
            self._rules.extend(new)
            self.version += 1
        return new

    def replace(self, source: RulesSource) -> List[ReplyRule]:
        new = load_rules(source)
        with self._lock:
            self._rules = list(new)
            self.version += 1
        return new

    def clear(self) -> None:
        with self._lock:
            self._rules = []
            self.version += 1

    def reset(self) -> None:
        """Back to the rules the gateway started with."""
        with self._lock:
            self._rules = list(self._initial)
            self.version += 1

    def answer_for(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Optional[Answer]:
        """The scripted answer for this model and conversation, or ``None``."""
        if not self._rules:
            return None
        text = last_user_text(messages)
        turn = turn_of(messages)
        for rule in self.rules():
            answer = rule.answer_at(turn) if rule.matches(model, text) else None
            if answer is not None:
                return answer
        return None

    def reply_for(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Optional[str]:
        """The scripted text for this model and conversation, or ``None`` (tool calls: :meth:`fill`)."""
        answer = self.answer_for(model, messages)
        return answer.text if answer is not None else None

    def fill(self, params: ChatParams) -> None:
        """Set the scripted answer, if any, on a stand-in model run (its text or its tool calls)."""
        answer = self.answer_for(params.model, params.messages)
        if answer is None:
            return
        if not answer.calls:
            params.reply = answer.text
            return
        seed = json.dumps([params.model, params.messages], sort_keys=True, default=str)
        params.reply_calls = [
            {
                "id": tool_call_id(f"{seed}|{i}|{name}"),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            for i, (name, arguments) in enumerate(answer.calls)
        ]
