"""What chat completions, compare, responses and batches share (docs/protocol.md §3.2-3.4, §4.1-4.3).

The request specs of a chat call, model resolution, the ``chat.completion`` body and a run of the
stand-in model live here, below the route modules, so that no route module imports another.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from starlette.requests import Request

from ..errors import ApiError, validation_failed
from ..fakes import engine
from ..fakes.catalog import ModelEntry
from ..fakes.replies import Replies
from ..http.context import chat_model, require_capability
from ..http.validation import (
    Bool,
    Int,
    ListOf,
    Literal,
    Loc,
    MapOf,
    Num,
    Obj,
    OneOf,
    Report,
    Spec,
    Str,
    opt,
    req,
)
from ..store.state import GatewayState

DEFAULT_MODEL = "openai/gpt-4o-mini"


class ResponseFormat(Spec):
    """``{"type": "text" | "json_object"}`` or ``{"type": "json_schema", "json_schema": {...}}``."""

    _SCHEMA = Obj(
        {"name": req(Str()), "schema": opt(MapOf()), "strict": opt(Bool()), "description": opt(Str())}
    )

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        base = Obj({"type": req(Literal("text", "json_object", "json_schema"))})
        value = base.check(value, loc, report)
        if isinstance(value, dict) and value.get("type") == "json_schema":
            value = Obj({"json_schema": req(self._SCHEMA)}).check(value, loc, report)
        return value


#: A prompt-cache breakpoint (docs/protocol.md §V3.2; the accepted shape is ours: the docs leave it open).
CACHE_CONTROL = Obj({"type": req(Literal("ephemeral")), "ttl": opt(Literal("5m", "1h"))})


class Content(Spec):
    """A message ``content``: text or a list of parts; a part's optional ``cache_control`` is checked.

    A list of objects is checked part by part (an error names the part); anything else as before (text,
    else the first alternative's error).
    """

    _ANY = OneOf(Str(), ListOf(MapOf()))

    def check(self, value: Any, loc: Loc, report: Report) -> Any:
        if not (isinstance(value, list) and all(isinstance(part, dict) for part in value)):
            return self._ANY.check(value, loc, report)
        for index, part in enumerate(value):
            if part.get("cache_control") is not None:
                CACHE_CONTROL.check(part["cache_control"], (*loc, index, "cache_control"), report)
        return value


MESSAGE = Obj(
    {
        "role": req(Literal("system", "user", "assistant", "tool", "developer")),
        "content": opt(Content()),
        "cache_control": opt(CACHE_CONTROL),
        "name": opt(Str()),
        "tool_call_id": opt(Str()),
        "tool_calls": opt(ListOf(MapOf())),
    }
)
TOOL = Obj(
    {
        "type": req(Literal("function")),
        "function": req(
            Obj({"name": req(Str(min_length=1)), "description": opt(Str()), "parameters": opt(MapOf())})
        ),
        "cache_control": opt(CACHE_CONTROL),
    }
)
TOOL_CHOICE = OneOf(
    Literal("auto", "none", "required"),
    Obj({"type": req(Literal("function")), "function": req(Obj({"name": req(Str())}))}),
)
SAMPLING = {
    "temperature": opt(Num(ge=0, le=2)),
    "max_tokens": opt(Int(ge=1)),
    "top_p": opt(Num(ge=0, le=1)),
    "frequency_penalty": opt(Num(ge=-2, le=2)),
    "presence_penalty": opt(Num(ge=-2, le=2)),
    "seed": opt(Int()),
    "user": opt(Str(max_length=256)),
    "timeout": opt(Num(gt=0)),
    "stream": opt(Bool()),
    "template": opt(Str()),
    "variables": opt(MapOf(Str())),
    "session_id": opt(Str()),
    "cache": opt(Bool()),
}
#: ``service_tier`` of chat completions and responses (docs/protocol.md §V4); absent means ``default``.
TIER = {"service_tier": opt(Literal("default", "flex", "auto"))}
CHAT = Obj(
    {
        "messages": req(ListOf(MESSAGE)),
        "model": opt(Str()),
        "models": opt(ListOf(Str())),
        **SAMPLING,
        "max_completion_tokens": opt(Int(ge=1)),
        "stop": opt(OneOf(Str(), ListOf(Str(), max_length=4))),
        "n": opt(Int(ge=1, le=16)),
        "tools": opt(ListOf(TOOL)),
        "tool_choice": opt(TOOL_CHOICE),
        "parallel_tool_calls": opt(Bool()),
        "response_format": opt(ResponseFormat()),
        "modality": opt(Literal("text", "image")),
        "reasoning_effort": opt(Literal("high", "medium", "low", "none")),
        **TIER,
    }
)

# -- shared pieces --------------------------------------------------------------------------------------


def resolve_model(state: GatewayState, request: Request, model: Optional[str]) -> Tuple[ModelEntry, bool]:
    auto = model == "auto"
    entry = chat_model(request, DEFAULT_MODEL if auto or not model else model)
    require_capability(entry, entry.supports_chat, "chat completions")
    return entry, auto


def requested_tier(body: Dict[str, Any], entry: ModelEntry) -> str:
    """The tier asked for; flex on a model without a flex price is a 400 before any work (never downgraded).

    ``auto`` runs on flex where the model has it, else on the standard tier (our reading: the docs leave
    ``auto`` open).
    """
    tier = str(body.get("service_tier") or "default")
    if tier == "flex" and not entry.supports_flex:
        raise ApiError(
            400,
            "model_capability_not_supported",
            f"Model '{entry.id}' does not support service_tier 'flex'.",
            param="service_tier",
        )
    return tier


def usage(
    prompt_tokens: int, completion_tokens: int, cache: Optional[Dict[str, int]] = None
) -> Dict[str, Any]:
    """A chat ``usage`` object; ``cache``: the prompt-cache counts (``fakes/prompt_cache.py``) if any."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": cache or {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _message(choice: engine.Choice) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": "assistant", "content": choice.text}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    if choice.refusal is not None:
        message["refusal"] = choice.refusal
    return message


def completion_body(
    completion_id: str,
    created: int,
    model: str,
    choices: List[engine.Choice],
    prompt_tokens: int,
    service_tier: Optional[str] = None,
    cache: Optional[Dict[str, int]] = None,
) -> Dict[str, Any]:
    """The non-streaming ``chat.completion`` object (``service_tier``: the tier that served it, if told)."""
    completion_tokens = sum(c.completion_tokens for c in choices)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {"index": i, "message": _message(c), "finish_reason": c.finish_reason, "logprobs": None}
            for i, c in enumerate(choices)
        ],
        "usage": usage(prompt_tokens, completion_tokens, cache),
        "system_fingerprint": "fp_meshapi_local",
        **({"service_tier": service_tier} if service_tier is not None else {}),
    }


def run_chat(
    body: Dict[str, Any], entry: ModelEntry, replies: Optional[Replies] = None
) -> Tuple[List[engine.Choice], int]:
    """Run the stand-in model on a validated chat body: ``(choices, prompt_tokens)``.

    A matching scripted reply from ``replies`` (the gateway's ``state.replies``) answers instead.
    """
    params = engine.ChatParams.from_body(body, entry.id)
    if replies is not None:
        replies.fill(params)
    choices = engine.complete(params)
    return choices, engine.prompt_token_count(params.messages, params.tools or None)


def check_context(entry: ModelEntry, body: Dict[str, Any], prompt_tokens: int) -> None:
    """``400 context_window_exceeded`` (as the provider reports it, with ``provider_code``) when the
    prompt plus the requested output (``max_tokens`` / ``max_completion_tokens``) exceed the model's
    ``context_length`` (docs/protocol.md §2.4)."""
    asked = body.get("max_tokens")
    if asked is None:
        asked = body.get("max_completion_tokens")
    output = asked if isinstance(asked, int) else 0
    if prompt_tokens + output > entry.context_length:
        raise ApiError(
            400,
            "context_window_exceeded",
            f"This model's maximum context length is {entry.context_length} tokens; the request has "
            f"{prompt_tokens} prompt tokens and asks for {output} output tokens.",
            param="messages",
            provider_code="context_window_exceeded",
        )


def check_tool_choice(body: Dict[str, Any]) -> None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = choice.get("function", {}).get("name")
        names = [t["function"]["name"] for t in body.get("tools") or []]
        if name not in names:
            raise ApiError(
                400,
                "invalid_request",
                f"tool_choice names function '{name}', which is not in tools.",
                param="tool_choice",
            )
    elif choice == "required" and not body.get("tools"):
        raise ApiError(
            400, "invalid_request", "tool_choice 'required' needs at least one tool.", param="tool_choice"
        )


def need_messages(body: Dict[str, Any]) -> None:
    if not body.get("messages"):
        raise validation_failed(
            [
                {
                    "type": "too_short",
                    "loc": ["body", "messages"],
                    "msg": "List should have at least 1 item after validation, not 0",
                    "input": [],
                    "ctx": {"field_type": "List", "min_length": "1", "actual_length": "0"},
                }
            ]
        )
