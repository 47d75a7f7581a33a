"""``/v1/moderations`` (SDK ``client.moderations``; docs/protocol.md §4.11): per-category flags and scores.

Scores come from ``safety.score_text`` (a weighted lexicon per category, deterministic). A category
is flagged at ``safety.THRESHOLD`` or more; an input is flagged when any category is. Images are
scored from their URL's words (the gateway does not look at pixels), for the image categories only.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes.safety import THRESHOLD, score_text
from ..http.context import chat_model, json_body, json_response, require_capability
from ..http.validation import AnyValue, ListOf, Obj, OneOf, Str, opt, req
from ..ids import hex_id

DEFAULT_MODERATION_MODEL = "omni-moderation-latest"
_TEXT_ONLY = {
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
}

MODERATION = Obj(
    {
        "input": req(OneOf(Str(), ListOf(OneOf(Str(), AnyValue()), min_length=1))),
        "model": opt(Str()),
    }
)


def _items(value: Any) -> List[Tuple[str, str]]:
    """``[(kind, text)]`` per input: kind ``text`` or ``image``."""
    if isinstance(value, str):
        return [("text", value)]
    items: List[Tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            items.append(("text", item))
        elif isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("text"), str):
            items.append(("text", item["text"]))
        elif isinstance(item, dict) and item.get("type") == "image_url":
            image = item.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str) or not url:
                raise ApiError(400, "invalid_request", "image_url items need image_url.url.", param="input")
            items.append(("image", re.sub(r"[^a-z]+", " ", url.lower()[:2048])))
        else:
            raise ApiError(
                400, "invalid_request", "Each input item must be a string, a text item or an image_url item."
            )
    return items


def _result(kind: str, text: str) -> Dict[str, Any]:
    scores = score_text(text)
    if kind == "image":
        scores = {c: (s if c not in _TEXT_ONLY else 0.0) for c, s in scores.items()}
    categories = {c: s >= THRESHOLD for c, s in scores.items()}
    return {
        "flagged": any(categories.values()),
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": {
            c: ([] if kind == "image" and c in _TEXT_ONLY else [kind]) for c in scores
        },
    }


async def create_moderation(request: Request) -> Response:
    body = await json_body(request, MODERATION)
    entry = chat_model(request, body.get("model") or DEFAULT_MODERATION_MODEL)
    require_capability(entry, entry.supports_moderation, "moderation")
    results = [_result(kind, text) for kind, text in _items(body["input"])]
    return json_response({"id": hex_id("modr-", 24), "model": entry.id, "results": results})


ROUTES = [
    Route("/v1/moderations", create_moderation, methods=["POST"]),
]
