"""``/v1/memories`` and ``/v1/memories/{slug}/items`` (SDK ``client.memories``; docs/protocol.md §V8.2).

Memories belong to the API key that created them (a key sees and injects only its own). The bodies
are what this gateway defines where the documentation is silent: creating answers 201 with the object,
listing ``{"object": "list", "data": [...]}`` (oldest first; ``q`` filters on slug and description,
``item_type`` on items), deleting 204; PATCH changes only the fields present (``retention_days: null``
keeps forever; ``active: false`` makes chat calls skip the memory); a slug cannot be renamed nor an
item's ``item_type`` changed (400 ``invalid_request``); a taken slug is 409 ``conflict``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, not_found
from ..http.context import gateway, json_body, json_response, owner
from ..http.validation import Bool, Int, Literal, Obj, Str, opt, req
from ..ids import hex_id, now
from ..store.memories import (
    ITEM_KIND,
    ITEM_TYPES,
    bad_slug,
    delete_memory,
    get_item,
    get_memory,
    items_of,
    list_memories,
    memory_view,
    put_item,
    put_memory,
)
from ..store.storage import Record, public

CREATE = Obj(
    {
        "slug": req(Str(min_length=1, max_length=64)),
        "description": opt(Str(max_length=2000)),
        "retention_days": opt(Int(ge=1, le=36500)),
    }
)
UPDATE = Obj(
    {
        "description": opt(Str(max_length=2000)),
        "retention_days": opt(Int(ge=1, le=36500)),
        "active": opt(Bool()),
    }
)
_ITEM_FIELDS = {
    "content": opt(Str(min_length=1, max_length=4000)),
    "key": opt(Str(min_length=1, max_length=128)),
    "expires_at": opt(Int(ge=0)),
}
CREATE_ITEM = Obj({**_ITEM_FIELDS, "item_type": req(Literal(*ITEM_TYPES)), "content": req(Str(min_length=1))})
UPDATE_ITEM = Obj(_ITEM_FIELDS)


def _invalid(message: str, param: str) -> ApiError:
    return ApiError(400, "invalid_request", message, param=param)


def _memory(request: Request) -> Record:
    slug = request.path_params["slug"]
    record = get_memory(gateway(request).store, owner(request), slug)
    if record is None:
        raise not_found("Memory", slug)
    return record


def _item(request: Request) -> Record:
    slug, ident = request.path_params["slug"], request.path_params["item_id"]
    _memory(request)
    record = get_item(gateway(request).store, owner(request), slug, ident)
    if record is None:
        raise not_found("Memory item", ident)
    return record


def _view(request: Request, record: Record, status: int = 200) -> Response:
    return json_response(memory_view(gateway(request).store, owner(request), record), status=status)


def _listing(data: Any) -> Response:
    return json_response({"object": "list", "data": data})


async def create_memory(request: Request) -> Response:
    body = await json_body(request, CREATE)
    state, who, slug = gateway(request), owner(request), body["slug"]
    problem = bad_slug(slug)
    if problem:
        raise _invalid(f"Invalid slug {slug!r}: {problem}.", "slug")
    if get_memory(state.store, who, slug) is not None:
        raise ApiError(409, "conflict", f"A memory with slug '{slug}' already exists.")
    stamp = int(now())
    record: Record = {
        "object": "memory",
        "slug": slug,
        "description": body.get("description"),
        "retention_days": body.get("retention_days"),
        "active": True,
        "created_at": stamp,
        "updated_at": stamp,
    }
    put_memory(state.store, who, record)
    return _view(request, record, 201)


async def list_memories_route(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    q = (request.query_params.get("q") or "").lower()
    records = [
        memory_view(state.store, who, r)
        for r in list_memories(state.store, who)
        if q in r["slug"].lower() or q in (r.get("description") or "").lower()
    ]
    return _listing(records)


async def get_memory_route(request: Request) -> Response:
    return _view(request, _memory(request))


async def update_memory(request: Request) -> Response:
    record = _memory(request)
    body = await json_body(request, UPDATE)
    if "slug" in body and body["slug"] != record["slug"]:
        raise _invalid("A memory's slug cannot be renamed.", "slug")
    for key in ("description", "retention_days"):
        if key in body:
            record[key] = body[key]
    if body.get("active") is not None:
        record["active"] = body["active"]
    record["updated_at"] = int(now())
    put_memory(gateway(request).store, owner(request), record)
    return _view(request, record)


async def delete_memory_route(request: Request) -> Response:
    record = _memory(request)
    delete_memory(gateway(request).store, owner(request), record["slug"])
    return Response(status_code=204)


def _check_key(item_type: str, key: Optional[str]) -> None:
    if key is not None and item_type != "preference":
        raise _invalid("Only a preference has a key.", "key")


async def list_items(request: Request) -> Response:
    record = _memory(request)
    wanted = request.query_params.get("item_type")
    items = items_of(gateway(request).store, owner(request), record["slug"])
    return _listing([public(i) for i in items if wanted is None or i["item_type"] == wanted])


async def create_item(request: Request) -> Response:
    memory = _memory(request)
    body = await json_body(request, CREATE_ITEM)
    _check_key(body["item_type"], body.get("key"))
    stamp = int(now())
    record: Dict[str, Any] = {
        "id": hex_id("memitem_", 24),
        "object": "memory.item",
        "memory": memory["slug"],
        "item_type": body["item_type"],
        "content": body["content"],
        "key": body.get("key"),
        "expires_at": body.get("expires_at"),
        "created_at": stamp,
        "updated_at": stamp,
    }
    put_item(gateway(request).store, owner(request), record)
    return json_response(public(record), status=201)


async def get_item_route(request: Request) -> Response:
    return json_response(public(_item(request)))


async def update_item(request: Request) -> Response:
    record = _item(request)
    body = await json_body(request, UPDATE_ITEM)
    if "item_type" in body and body["item_type"] != record["item_type"]:
        raise _invalid("An item's item_type cannot be changed.", "item_type")
    if body.get("content") is not None:
        record["content"] = body["content"]
    if "key" in body:
        _check_key(record["item_type"], body["key"])
        record["key"] = body["key"]
    if "expires_at" in body:
        record["expires_at"] = body["expires_at"]
    record["updated_at"] = int(now())
    put_item(gateway(request).store, owner(request), record)
    return json_response(public(record))


async def delete_item(request: Request) -> Response:
    record = _item(request)
    gateway(request).store.delete(ITEM_KIND, record["id"])
    return Response(status_code=204)


ROUTES = [
    Route("/v1/memories", create_memory, methods=["POST"]),
    Route("/v1/memories", list_memories_route, methods=["GET"]),
    Route("/v1/memories/{slug}", get_memory_route, methods=["GET"]),
    Route("/v1/memories/{slug}", update_memory, methods=["PATCH"]),
    Route("/v1/memories/{slug}", delete_memory_route, methods=["DELETE"]),
    Route("/v1/memories/{slug}/items", list_items, methods=["GET"]),
    Route("/v1/memories/{slug}/items", create_item, methods=["POST"]),
    Route("/v1/memories/{slug}/items/{item_id}", get_item_route, methods=["GET"]),
    Route("/v1/memories/{slug}/items/{item_id}", update_item, methods=["PATCH"]),
    Route("/v1/memories/{slug}/items/{item_id}", delete_item, methods=["DELETE"]),
]
