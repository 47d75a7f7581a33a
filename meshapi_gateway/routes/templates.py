"""``/v1/templates`` (SDK ``client.templates``; docs/protocol.md §4.6): CRUD per owner.

Applying a template to a chat body is in ``fakes/templating.py``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import DetailError, not_found
from ..fakes.templating import KIND, by_name
from ..http.context import gateway, json_body, json_response, owner
from ..http.validation import ListOf, MapOf, Obj, Str, opt, req
from ..ids import iso_timestamp, new_uuid, now
from ..store.storage import Record, public

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


def _conflict(name: str, who: str) -> DetailError:
    return DetailError(409, f"A template named '{name}' already exists for owner '{who}'.")


async def create_template(request: Request) -> Response:
    body = await json_body(request, CREATE)
    state, who = gateway(request), owner(request)
    if by_name(state, who, body["name"]) is not None:
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
    if new_name is not None and new_name != record["name"] and by_name(state, who, new_name) is not None:
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


ROUTES = [
    Route("/v1/templates", create_template, methods=["POST"]),
    Route("/v1/templates", list_templates, methods=["GET"]),
    Route("/v1/templates/{template_id}", get_template, methods=["GET"]),
    Route("/v1/templates/{template_id}", update_template, methods=["PATCH"]),
    Route("/v1/templates/{template_id}", delete_template, methods=["DELETE"]),
]
