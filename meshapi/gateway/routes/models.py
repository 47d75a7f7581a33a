"""``/v1/models`` routes: bare JSON arrays of ModelInfo, one model by id, and a simple search."""

from __future__ import annotations

from typing import Any, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..common import gateway, json_response
from ..errors import DetailError
from ..validation import Bool, Int, Str, check_query


def _filtered(request: Request) -> List[Dict[str, Any]]:
    query = check_query(
        dict(request.query_params),
        {"free": (Bool(), None), "type": (Str(), None), "provider": (Str(), None)},
    )
    infos = gateway(request).catalog.infos()
    if query["free"] is not None:
        infos = [m for m in infos if m["is_free"] is query["free"]]
    if query["type"] is not None:
        infos = [m for m in infos if m["model_type"] == query["type"]]
    if query["provider"] is not None:
        infos = [m for m in infos if m["provider"] == query["provider"]]
    return infos


async def list_models(request: Request) -> Response:
    return json_response(_filtered(request))


async def list_free(request: Request) -> Response:
    return json_response([m for m in gateway(request).catalog.infos() if m["is_free"]])


async def list_paid(request: Request) -> Response:
    return json_response([m for m in gateway(request).catalog.infos() if not m["is_free"]])


async def search_models(request: Request) -> Response:
    params = request.query_params
    query = check_query(
        dict(params),
        {
            "q": (Str(), None),
            "free": (Bool(), None),
            "limit": (Int(ge=1, le=200), 50),
            "offset": (Int(ge=0), 0),
            "sort": (Str(), "id"),
            "order": (Str(), "asc"),
        },
    )
    infos = gateway(request).catalog.infos()
    if query["q"]:
        needle = query["q"].lower()
        infos = [m for m in infos if needle in m["id"].lower() or needle in m["name"].lower()]
    if query["free"] is not None:
        infos = [m for m in infos if m["is_free"] is query["free"]]
    brands = params.getlist("brand")
    if brands:
        infos = [m for m in infos if m["brand"] in brands]
    for key, field in (("input_modality", "input_modalities"), ("output_modality", "output_modalities")):
        wanted = params.getlist(key)
        if wanted:
            infos = [m for m in infos if set(wanted) <= set(m[field] or [])]
    sort_key = query["sort"] if query["sort"] in ("id", "name", "brand", "context_length") else "id"
    infos.sort(key=lambda m: (m[sort_key] is None, m[sort_key]), reverse=query["order"] == "desc")
    start, limit = query["offset"], query["limit"]
    return json_response(
        {
            "items": infos[start : start + limit],
            "total": len(infos),
            "limit": limit,
            "offset": start,
            "brands": sorted({m["brand"] for m in gateway(request).catalog.infos()}),
        }
    )


async def get_model(request: Request) -> Response:
    model_id = request.path_params["model_id"]
    info = gateway(request).catalog.info(model_id)
    if info is None:
        raise DetailError(404, f"Model '{model_id}' not found.")
    return json_response(info)


ROUTES = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/free", list_free, methods=["GET"]),
    Route("/v1/models/paid", list_paid, methods=["GET"]),
    Route("/v1/models/search", search_models, methods=["GET"]),
    Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
]
