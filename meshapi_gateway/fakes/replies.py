"""Scripted replies: fixed answers for tests whose assertions depend on what the model says.

A rule is a JSON object::

    {"match": "<regex>", "model": "<optional glob on the model id>", "content": "<reply text>"}

or with ``"json": <value>`` instead of ``"content"`` (the reply is that value as JSON text, which
is what structured output and ``parse()`` read). ``match`` is searched case-insensitively in the last
user message; ``model`` is a shell-style glob (``openai/*``). The first rule that matches wins; no
match leaves the deterministic model to answer. Rules apply to chat completions (plain and
streamed), responses, the per-model answers of compare, and chat items of batches.

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
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..settings import RulesSource
from .engine import content_text

_KEYS = {"match", "model", "content", "json"}


class RepliesError(ValueError):
    """A replies file or rule list that cannot be used (the message says which rule and why)."""


@dataclass(frozen=True)
class ReplyRule:
    match: str
    model: Optional[str]
    reply: str
    spec: Mapping[str, Any]

    def matches(self, model: str, text: str) -> bool:
        if self.model is not None and not fnmatch.fnmatchcase(model, self.model):
            return False
        return re.search(self.match, text, re.IGNORECASE) is not None

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.spec)


def parse_rule(spec: Any, where: str = "rule") -> ReplyRule:
    """One checked rule (raises :class:`RepliesError`)."""
    if not isinstance(spec, Mapping):
        raise RepliesError(f"{where}: must be a JSON object, not {type(spec).__name__}")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise RepliesError(f"{where}: unknown key {unknown[0]!r} (allowed: content, json, match, model)")
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
    if ("content" in spec) == ("json" in spec):
        raise RepliesError(f"{where}: give exactly one of 'content' or 'json'")
    if "content" in spec:
        if not isinstance(spec["content"], str):
            raise RepliesError(f"{where}: 'content' must be a string")
        reply = spec["content"]
    else:
        reply = json.dumps(spec["json"], ensure_ascii=False)
    return ReplyRule(pattern, model, reply, dict(spec))


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


class Replies:
    """The gateway's current rules (thread-safe); ``initial`` is what :meth:`reset` restores."""

    def __init__(self, rules: Optional[Sequence[ReplyRule]] = None) -> None:
        self._lock = threading.Lock()
        self._initial: List[ReplyRule] = list(rules or [])
        self._rules: List[ReplyRule] = list(self._initial)

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
        return new

    def replace(self, source: RulesSource) -> List[ReplyRule]:
        new = load_rules(source)
        with self._lock:
            self._rules = list(new)
        return new

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def reset(self) -> None:
        """Back to the rules the gateway started with."""
        with self._lock:
            self._rules = list(self._initial)

    def reply_for(self, model: str, messages: Sequence[Mapping[str, Any]]) -> Optional[str]:
        """The scripted reply for this model and conversation, or ``None``."""
        if not self._rules:
            return None
        text = last_user_text(messages)
        for rule in self.rules():
            if rule.matches(model, text):
                return rule.reply
        return None
