"""Which tools the stand-in model calls on a turn: a deterministic policy that always ends.

Agent frameworks loop "ask the model, run the tools it calls, ask again" until the model answers or
calls an *output tool* (pydantic-ai's ``final_result``). A stand-in that calls the same tool on every turn
never ends such a loop, so the choice lives here, written once (the README section "How the stand-in
models behave" states it for users):

* ``tool_choice: "none"`` calls nothing; a named function is always called (the caller forces it).
* An *output tool* is one whose name has the word ``final``, ``result``, ``output`` or ``answer``
  (``final_result``), or whose description says "final answer/response/result/output".
* The *needed* tools are the other tools that share a meaningful word (three letters or more, not a stop
  word, a plural ``s`` ignored) of their name or description with the last user message, most shared
  words first, then in ``tools`` order. When none shares one, the one tool the model always picked is
  needed: the most words shared counting every word, else the first tool.
* A tool is *answered* when an assistant message after the last user message called it and a tool
  result follows that call.
* A turn calls the needed tools not yet answered: all of them at once (parallel tool calls) or only the
  first when ``parallel_tool_calls`` is false. Once every needed tool is answered, it calls an output
  tool not yet answered; when there is none, it answers with text (in the requested
  ``response_format``), with ``"required"`` too: that is what ends the loop. So the same request ends
  within (needed tools + 2) turns, or 3 with parallel calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Set

from .schemas import STOPWORDS

__all__ = ["Call", "answered_tools", "functions_of", "is_output_tool", "plan_calls"]

_OUTPUT_WORDS = frozenset(("final", "result", "output", "answer"))
_OUTPUT_PHRASE = re.compile(r"\bfinal (?:answer|response|result|output)\b", re.IGNORECASE)
_NAME_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Call:
    """One tool call the model makes: the function and the part of the prompt its arguments come from."""

    function: Dict[str, Any]
    hint: str


def functions_of(tools: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The ``function`` objects of a chat ``tools`` list (entries without a name are skipped)."""
    out: Dict[str, Dict[str, Any]] = {}
    for tool in tools:
        function = tool.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            out.setdefault(function["name"], function)  # a name given twice is one tool (the first)
    return list(out.values())


def _name_words(name: str) -> List[str]:
    return [w.lower() for w in _NAME_WORD.findall(name)]


def is_output_tool(function: Dict[str, Any]) -> bool:
    """An output tool: the call that ends the turn (see the module docstring)."""
    if _OUTPUT_WORDS & set(_name_words(function["name"])):
        return True
    return bool(_OUTPUT_PHRASE.search(str(function.get("description") or "")))


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _meaningful(words: Sequence[str]) -> Set[str]:
    return {_stem(w) for w in words if len(w) >= 3 and w.lower() not in STOPWORDS}


def _tool_words(function: Dict[str, Any]) -> List[str]:
    return _name_words(function["name"]) + _WORD.findall(str(function.get("description") or ""))


def _fallback(functions: List[Dict[str, Any]], prompt: str) -> Dict[str, Any]:
    """The tool the model picked before parallel calls: most words shared (any word), else the first."""
    words = {w.lower() for w in _WORD.findall(prompt)}

    def overlap(function: Dict[str, Any]) -> int:
        text = f"{function['name'].replace('_', ' ')} {function.get('description') or ''}"
        return len(words & {w.lower() for w in _WORD.findall(text)})

    best = max(functions, key=overlap)
    return best if overlap(best) > 0 else functions[0]


def _needed(functions: List[Dict[str, Any]], prompt: str) -> List[Call]:
    if not functions:
        return []
    prompt_words = _meaningful(_WORD.findall(prompt))
    scored = []
    for position, function in enumerate(functions):
        shared = prompt_words & _meaningful(_tool_words(function))
        if shared:
            scored.append((-len(shared), position, function, shared))
    if not scored:
        return [Call(_fallback(functions, prompt), prompt)]
    scored.sort(key=lambda item: (item[0], item[1]))
    calls = [Call(function, prompt) for _, _, function, _ in scored]
    if len(calls) > 1:  # each call's arguments come from the prompt from its first matching word on
        calls = [Call(c.function, _segment(prompt, shared)) for c, (*_, shared) in zip(calls, scored)]
    return calls


def _segment(prompt: str, shared: Set[str]) -> str:
    for match in _WORD.finditer(prompt):
        if _stem(match.group(0)) in shared:
            return prompt[match.start() :]
    return prompt


def answered_tools(messages: Sequence[Dict[str, Any]]) -> Set[str]:
    """Names of the tools called after the last user message whose call a tool result follows."""
    start = 0
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            start = i + 1
    answered: Set[str] = set()
    for i in range(start, len(messages)):
        message = messages[i]
        if message.get("role") != "assistant":
            continue
        later = [m for m in messages[i + 1 :] if m.get("role") == "tool"]
        if not later:
            continue
        result_ids = {m.get("tool_call_id") for m in later}
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                continue
            call_id = call.get("id")
            if not call_id or None in result_ids or call_id in result_ids:
                answered.add(function["name"])
    return answered


def plan_calls(
    tools: Sequence[Dict[str, Any]],
    tool_choice: Any,
    messages: Sequence[Dict[str, Any]],
    prompt: str,
    parallel: bool = True,
    conversation: Optional[str] = None,
) -> List[Call]:
    """The calls of this turn (empty: answer with text), following the policy above.

    Arguments come from ``prompt`` (the last user message); an output tool's from ``conversation``
    (that message and the tool results after it), as the typed answer sums up what the tools returned.
    """
    functions = functions_of(tools)
    if not functions or tool_choice == "none":
        return []
    if isinstance(tool_choice, dict):
        named = tool_choice.get("function")
        wanted: Optional[str] = named.get("name") if isinstance(named, dict) else None
        wanted = wanted or tool_choice.get("name")
        return [Call(f, prompt) for f in functions if f["name"] == wanted][:1]
    answered = answered_tools(messages)
    regular = [f for f in functions if not is_output_tool(f)]
    pending = [c for c in _needed(regular, prompt) if c.function["name"] not in answered]
    if pending:
        return pending if parallel else pending[:1]
    outputs = [f for f in functions if is_output_tool(f) and f["name"] not in answered]
    return [Call(outputs[0], prompt if conversation is None else conversation)] if outputs else []
