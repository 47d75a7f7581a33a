"""``/v1/models*`` (SDK ``client.models``; docs/protocol.md §4.5): bare JSON arrays of ModelInfo, one model by id,
and a search that filters, sorts (price too) and pages the catalog, with facets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, DetailError
from ..fakes.catalog import model_providers
from ..http.context import gateway, json_response
from ..http.validation import Bool, Int, Str, check_query

_SORTS = ("brand", "name", "id", "context_length", "price")


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


def _bad_search(message: str, param: str) -> ApiError:
    return ApiError(400, "invalid_search_parameter", message, param=param)


def _price(info: Dict[str, Any], modality: str) -> Decimal:
    pricing = info.get("pricing") or {}
    key = "image_output_usd_per_image" if modality == "image" else "completion_usd_per_1m"
    value = (
        pricing.get(key) or pricing.get("completion_usd_per_1m") or pricing.get("output_usd_per_unit") or "0"
    )
    return Decimal(str(value))


def _facets(infos: List[Dict[str, Any]]) -> Dict[str, Dict[str, int]]:
    facets: Dict[str, Dict[str, int]] = {"brand": {}, "input_modality": {}, "output_modality": {}}
    for info in infos:
        facets["brand"][info["brand"]] = facets["brand"].get(info["brand"], 0) + 1
        for key, field in (("input_modality", "input_modalities"), ("output_modality", "output_modalities")):
            for modality in info[field] or []:
                facets[key][modality] = facets[key].get(modality, 0) + 1
    return {k: dict(sorted(v.items())) for k, v in facets.items()}


async def search_models(request: Request) -> Response:
    """Filter (``q``, ``free``, ``discounted``, modalities, brands), sort and page the catalog."""
    params = request.query_params
    query = check_query(
        dict(params),
        {
            "q": (Str(), None),
            "free": (Bool(), None),
            "discounted": (Bool(), None),
            "limit": (Int(ge=1, le=200), 50),
            "offset": (Int(ge=0), 0),
            "sort": (Str(), "id"),
            "order": (Str(), "asc"),
        },
    )
    if query["sort"] not in _SORTS:
        raise _bad_search(f"sort must be one of {', '.join(_SORTS)}.", "sort")
    if query["order"] not in ("asc", "desc"):
        raise _bad_search("order must be asc or desc.", "order")
    outputs = params.getlist("output_modality")
    if query["sort"] == "price" and (len(outputs) != 1 or outputs[0] not in ("text", "image", "video")):
        raise _bad_search("sort=price needs exactly one output_modality of text, image or video.", "sort")
    every = gateway(request).catalog.infos()
    infos = list(every)
    if query["q"]:
        needle = query["q"].lower()
        infos = [
            m
            for m in infos
            if any(needle in str(m[k] or "").lower() for k in ("id", "name", "description", "brand"))
        ]
    if query["free"] is not None:
        infos = [m for m in infos if m["is_free"] is query["free"]]
    if query["discounted"] is not None:
        infos = [m for m in infos if bool((m["pricing"] or {}).get("discount_pct")) is query["discounted"]]
    brands = params.getlist("brand")
    if brands:
        infos = [m for m in infos if m["brand"] in brands]
    for key, field in (("input_modality", "input_modalities"), ("output_modality", "output_modalities")):
        wanted = params.getlist(key)
        if wanted:
            infos = [m for m in infos if set(wanted) <= set(m[field] or [])]
    sort_key = query["sort"]
    if sort_key == "price":
        infos.sort(key=lambda m: (_price(m, outputs[0]), m["id"]), reverse=query["order"] == "desc")
    else:
        infos.sort(
            key=lambda m: (m[sort_key] is None, m[sort_key], m["id"]), reverse=query["order"] == "desc"
        )
    start, limit = query["offset"], query["limit"]
    return json_response(
        {
            "items": infos[start : start + limit],
            "total": len(infos),
            "limit": limit,
            "offset": start,
            "brands": sorted({m["brand"] for m in every}),
            "facets": _facets(infos),
        }
    )


async def get_model(request: Request) -> Response:
    model_id = request.path_params["model_id"]
    catalog = gateway(request).catalog
    if len(catalog.candidates(model_id)) > 1:
        catalog.find(model_id)  # an ambiguous bare name: the 400 listing the candidates
    entry = catalog.resolve(model_id)
    info = catalog.info(entry.id) if entry is not None else None
    if info is None:
        raise DetailError(404, f"Model '{model_id}' not found.")
    return json_response(info)


async def get_model_providers(request: Request) -> Response:
    """The routes of one model (docs/protocol.md §V6.2; the shape is ours: the docs name only the path)."""
    model_id = request.path_params["model_id"]
    entry = gateway(request).catalog.get(model_id)
    if entry is None:
        raise DetailError(404, f"Model '{model_id}' not found.")
    return json_response(model_providers(entry))


ROUTES = [
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/free", list_free, methods=["GET"]),
    Route("/v1/models/paid", list_paid, methods=["GET"]),
    Route("/v1/models/search", search_models, methods=["GET"]),
    Route("/v1/models/{model_id:path}/providers", get_model_providers, methods=["GET"]),
    Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
]
