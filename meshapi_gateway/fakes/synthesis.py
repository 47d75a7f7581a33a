"""Stand-in summaries built from the texts they summarise: compare's synthesis, the web-search answer.

Why it exists: these are the first things a newcomer reads, so they quote what they summarise instead
of the chat stand-in's free text: the synthesis names each model with the opening of its answer, the
words the answers share and the fullest answer; the search answer is the query's best-matching
sentence of the top hits, cited ``[1]``, ``[2]`` as the results are numbered. Same input, same text.
"""

from __future__ import annotations

import re
from typing import Dict, List, Sequence, Tuple

__all__ = ["search_answer", "sentences", "synthesis"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")
_STOPWORD_TEXT = """a about after all also an and any are as at be because been but by can could did do does for
from has have how if in into is it its just like many may more most much not of on one or other our out over said
so some such than that the their them then there these they this those through to up very was way we were what
when where which while who why will with would you your
answer becomes brief consider discussions few good helps here key let meets often point points question
see short stand start stays summarise thinking treat usually"""  # and words of discourse, not of topic
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_QUOTE = 90  # characters of an answer's opening quoted in the synthesis


def sentences(text: str) -> List[str]:
    """``text`` cut after ``.``, ``!`` or ``?``; each sentence ends with one of them."""
    found = [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return [s if s.endswith((".", "!", "?")) else s + "." for s in found]


def _keywords(text: str) -> List[str]:
    """The content words of ``text``, lower case, in order of first appearance."""
    return list(_spelled(text))


def _spelled(text: str) -> Dict[str, str]:
    """``text``'s content words: lower case -> as first written."""
    spelled: Dict[str, str] = {}
    for word in _WORD.findall(text):
        key = word.lower()
        if len(key) > 2 and key not in _STOPWORDS:
            spelled.setdefault(key, word)
    return spelled


def _opening(text: str) -> str:
    """The first sentence of ``text`` in quotes, without its final stop (shortened past ``_QUOTE``)."""
    first = (sentences(text) or ["."])[0][:-1]
    if len(first) > _QUOTE:
        first = first[: _QUOTE - 3].rsplit(" ", 1)[0] + "..."
    return f'"{first}"'


def _listed(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def synthesis(question: str, answers: Sequence[Tuple[str, str]]) -> str:
    """A synthesis of ``answers`` (``(model, text)`` pairs, at least one) to ``question``: what each
    opens with, the key terms they share (the question's first), and the fullest answer."""
    topic = " ".join(question.split())
    if len(topic) > 60:
        topic = topic[:57].rsplit(" ", 1)[0] + "..."
    count = len(answers)
    openings = [f"{model} opens with {_opening(text)}" for model, text in answers[:1]]
    openings += [f"{model} with {_opening(text)}" for model, text in answers[1:]]
    said = _listed(openings)
    words = [_spelled(text) for _, text in answers]
    shared = [key for key in words[0] if all(key in other for other in words[1:])]
    asked = set(_keywords(question))
    shared.sort(key=lambda key: key not in asked)  # stable: the question's words first
    if count == 1:
        agree = ""
    elif shared:
        both = "Both answers" if count == 2 else f"All {count} answers"
        agree = f" {both} cover {_listed([words[0][key] for key in shared[:3]])}."
    else:
        agree = " They share no key term: each takes its own angle."
    richest = max(range(count), key=lambda i: (len(words[i]), len(answers[i][1]), -i))
    best = (
        f"The best one is {answers[richest][0]}'s: it is the fullest, "
        f"with {len(words[richest])} distinct key terms."
    )
    about = f' to "{topic}"' if topic else ""
    return f"Comparing {count} answer{'s' if count != 1 else ''}{about}: {said}.{agree} {best}"


def search_answer(query: str, hits: Sequence[Tuple[str, str]], cite: int = 3) -> str:
    """An answer drawn from the top ``cite`` of ``hits`` (``(title, content)``, best first), each
    sentence cited by its result number: the top hit's sentence sharing most words with ``query`` (its
    first on a tie), then that of each next hit whose best sentence shares at least half of them (and
    two, when the query has two)."""
    wanted = set(_keywords(query))
    enough = max(1, min(2, len(wanted)), (len(wanted) + 1) // 2)
    picked: List[str] = []
    for number, (_, content) in enumerate(hits[:cite], 1):
        options = sentences(content)
        if not options:
            continue
        overlap = [len(wanted & set(_keywords(s))) for s in options]
        best = max(range(len(options)), key=lambda i: (overlap[i], -i))
        if not picked or overlap[best] >= enough:
            sentence = options[best]
            picked.append(f"{sentence[:-1]} [{number}]{sentence[-1]}")
    return " ".join(picked)
