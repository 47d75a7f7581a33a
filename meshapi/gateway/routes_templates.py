"""Prompt templates (API.md §4.6): CRUD per owner, and their use by chat, compare and responses."""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .common import gateway, json_body, json_response, owner
from .errors import ApiError, DetailError, not_found
from .ids import iso_timestamp, new_uuid, now
from .state import GatewayState
from .storage import Record, public
from .validation import ListOf, MapOf, Obj, Str, opt, req

_FIELDS = {
    "description": opt(Str()),
    "system": opt(Str()),
    "messages": opt(ListOf(MapOf())),
    "model": opt(Str()),
    "params": opt(MapOf()),
    "variables": opt(ListOf(Str())),
}
CREATE = Obj({"name": req(Str(min_length=1)), **_FIELDS, "team_id": opt(Str())})
UPDATE = Obj({"name": opt(Str(min_length=1)), **_FIELDS})

_SLOT = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
KIND = "template"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _by_name(state: GatewayState, who: str, name: str) -> Optional[Record]:
    return next((t for t in state.store.list(KIND, who) if t["name"] == name), None)


def _conflict(name: str, who: str) -> DetailError:
    return DetailError(409, f"A template named '{name}' already exists for owner '{who}'.")


async def create_template(request: Request) -> Response:
    body = await json_body(request, CREATE)
    state, who = gateway(request), owner(request)
    if _by_name(state, who, body["name"]) is not None:
        raise _conflict(body["name"], who)
    stamp = iso_timestamp(now())
    ident = new_uuid()
    record: Record = {
        "id": ident,
        "name": body["name"],
        "owner": who,
        "is_global": False,
        "description": body.get("description"),
        "system": body.get("system"),
        "messages": body.get("messages"),
        "model": body.get("model"),
        "params": body.get("params"),
        "variables": body.get("variables"),
        "team_id": body.get("team_id"),
        "org_id": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    state.store.put(KIND, who, ident, record)
    return json_response(public(record), status=201)


async def list_templates(request: Request) -> Response:
    records = gateway(request).store.list(KIND, owner(request))
    return json_response([public(r) for r in records])


def _owned(request: Request) -> Record:
    ident = request.path_params["template_id"]
    record = gateway(request).store.get_owned(KIND, owner(request), ident)
    if record is None:
        raise not_found("Template", ident)
    return record


async def get_template(request: Request) -> Response:
    return json_response(public(_owned(request)))


async def update_template(request: Request) -> Response:
    record = _owned(request)
    body = await json_body(request, UPDATE)
    state, who = gateway(request), owner(request)
    new_name = body.get("name")
    if new_name is not None and new_name != record["name"] and _by_name(state, who, new_name) is not None:
        raise _conflict(new_name, who)
    for key in ("name", *_FIELDS):
        if body.get(key) is not None:
            record[key] = body[key]
    record["updated_at"] = iso_timestamp(now())
    state.store.put(KIND, who, record["id"], record)
    return json_response(public(record))


async def delete_template(request: Request) -> Response:
    record = _owned(request)
    gateway(request).store.delete(KIND, record["id"])
    return Response(status_code=204)


def find_template(state: GatewayState, who: str, ref: str) -> Record:
    """Resolve a template by UUID (any owner, as at chat time) or by the caller's template name."""
    if _is_uuid(ref):
        found = state.store.get(KIND, ref)
        if found is not None:
            return found[1]
    record = _by_name(state, who, ref)
    if record is None:
        raise not_found("Template", ref)
    return record


def apply_template(state: GatewayState, who: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """The body with the named template applied (messages prepended, slots filled, defaults merged).

    ``template``, ``variables`` and ``session_id`` are removed. A slot without a value is a
    ``422 unprocessable_entity``; an unknown template a ``404 not_found``.
    """
    out = {k: v for k, v in body.items() if k not in ("template", "variables", "session_id")}
    ref = body.get("template")
    if not ref:
        return out
    template = find_template(state, who, ref)
    values = {k: str(v) for k, v in (body.get("variables") or {}).items()}
    missing: List[str] = []

    def fill(text: str) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                if name not in missing:
                    missing.append(name)
                return match.group(0)
            return values[name]

        return _SLOT.sub(slot, text)

    prefix: List[Dict[str, Any]] = []
    if template.get("system"):
        prefix.append({"role": "system", "content": fill(template["system"])})
    for message in template.get("messages") or []:
        copy = dict(message)
        if isinstance(copy.get("content"), str):
            copy["content"] = fill(copy["content"])
        prefix.append(copy)
    if missing:
        raise ApiError(
            422,
            "unprocessable_entity",
            f"Missing value for template variable(s): {', '.join(missing)}.",
            details=[{"variable": name} for name in missing],
        )
    out["messages"] = prefix + list(body.get("messages") or [])
    if not out.get("model") and template.get("model"):
        out["model"] = template["model"]
    for key, value in (template.get("params") or {}).items():
        if out.get(key) is None:
            out[key] = value
    return out


ROUTES = [
    Route("/v1/templates", create_template, methods=["POST"]),
    Route("/v1/templates", list_templates, methods=["GET"]),
    Route("/v1/templates/{template_id}", get_template, methods=["GET"]),
    Route("/v1/templates/{template_id}", update_template, methods=["PATCH"]),
    Route("/v1/templates/{template_id}", delete_template, methods=["DELETE"]),
]
