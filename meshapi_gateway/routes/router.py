"""``/v1/router/select`` (SDK ``client.router``; docs/protocol.md §4.13): which model the auto router would use.

The last user message is classified by simple, visible rules (code, reasoning, images, long
documents, quick questions); each class has a ranked list of catalog models. The first one that is
in the catalog, serves the requested ``api_type``, is not in ``exclude_models`` and (when given) is
in ``candidate_models`` wins. If none of the class's models is allowed, any allowed model is taken
with ``fallback_used: true`` and the reason. ``auto_router.reason`` says why the class was chosen.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes import engine
from ..fakes.catalog import Catalog, ModelEntry
from ..http.context import gateway, json_body, json_response
from ..http.validation import ListOf, Literal, Obj, Str, opt, req
from ._conversation import MESSAGE

SELECT = Obj(
    {
        "messages": req(ListOf(MESSAGE, min_length=1)),
        "api_type": opt(Literal("completions", "responses", "embeddings")),
        "exclude_models": opt(ListOf(Str())),
        "candidate_models": opt(ListOf(Str())),
    }
)

_CODE = re.compile(
    r"```|\b(def|class|function|python|javascript|typescript|sql|regex|bug|stack trace|compile|refactor|code)\b",
    re.IGNORECASE,
)
_REASONING = re.compile(
    r"\b(prove|why|step by step|derive|calculate|solve|plan|analy[sz]e|compare)\b", re.IGNORECASE
)

#: class -> (models best first, reasoning effort, reason)
_CLASSES: Dict[str, Tuple[List[str], Optional[str], str]] = {
    "code": (
        ["anthropic/claude-sonnet-4.5", "openai/gpt-4o", "deepseek/deepseek-chat"],
        "medium",
        "the prompt asks about code",
    ),
    "reasoning": (
        ["openai/o4-mini", "google/gemini-3-flash-preview", "anthropic/claude-haiku-4.5"],
        "high",
        "the prompt asks for multi-step reasoning",
    ),
    "vision": (["openai/gpt-4o", "google/gemini-2.5-flash"], "low", "the prompt includes images"),
    "long": (
        ["google/gemini-2.5-flash", "google/gemini-3-flash-preview", "anthropic/claude-sonnet-4.5"],
        "low",
        "the conversation is long; a large context window helps",
    ),
    "quick": (
        ["anthropic/claude-3.5-haiku", "openai/gpt-4o-mini", "mistralai/mistral-small"],
        "low",
        "a short, simple prompt; a fast low-cost model is enough",
    ),
    "embeddings": (
        ["openai/text-embedding-3-small", "openai/text-embedding-3-large"],
        None,
        "api_type is embeddings",
    ),
}


def _has_image(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(p, dict) and p.get("type") in ("image_url", "input_image") for p in content
    )


def classify(messages: List[Dict[str, Any]], api_type: str) -> str:
    if api_type == "embeddings":
        return "embeddings"
    users = [m for m in messages if m.get("role") == "user"]
    last = users[-1] if users else messages[-1]
    text = engine.content_text(last.get("content"))
    if _has_image(last.get("content")):
        return "vision"
    if _CODE.search(text):
        return "code"
    if _REASONING.search(text):
        return "reasoning"
    if engine.prompt_token_count(messages) > 2000:
        return "long"
    return "quick"


def _serves(entry: ModelEntry, api_type: str) -> bool:
    if api_type == "embeddings":
        return entry.supports_embeddings
    if api_type == "responses":
        return entry.supports_chat and entry.supports_responses
    return entry.supports_chat


def _canonical(catalog: Catalog, model: str) -> str:
    """The full id a listed model names (a unique bare name counts as its full id)."""
    entry = catalog.resolve(model)
    return entry.id if entry is not None else model


async def select_model(request: Request) -> Response:
    body = await json_body(request, SELECT)
    catalog = gateway(request).catalog
    api_type = body.get("api_type") or "completions"
    excluded = {_canonical(catalog, m) for m in body.get("exclude_models") or []}
    candidates = body.get("candidate_models")
    allowed = [e for e in catalog if _serves(e, api_type) and e.id not in excluded]
    if candidates is not None:
        known = [_canonical(catalog, c) for c in candidates if catalog.resolve(c) is not None]
        if not known:
            raise ApiError(
                422, "invalid_request", "None of candidate_models is a known model.", param="candidate_models"
            )
        allowed = [e for e in allowed if e.id in known]
    if not allowed:
        raise ApiError(422, "invalid_request", f"No model is left to route {api_type} requests to.")
    kind = classify(body["messages"], api_type)
    ranked, effort, reason = _CLASSES[kind]
    allowed_ids = [e.id for e in allowed]
    chosen = next((m for m in ranked if m in allowed_ids), None)
    fallback_reason: Optional[str] = None
    if chosen is None:
        chosen = allowed_ids[0]
        fallback_reason = f"none of the preferred models for this prompt ({', '.join(ranked)}) is allowed"
    return json_response(
        {
            "model": chosen,
            "auto_router": {
                "fallback_used": fallback_reason is not None,
                "fallback_reason": fallback_reason,
                "category": kind,
                "reason": reason,
            },
            "reasoning_effort": effort if api_type != "embeddings" else None,
        }
    )


ROUTES = [
    Route("/v1/router/select", select_model, methods=["POST"]),
]
