"""Helpers shared by the route modules: the request's context (state, id, owner), JSON bodies and responses.

The middlewares leave what they learnt in the scope (``asgi.py``); routes read it through these
helpers rather than through scope keys, and answer through :func:`json_response`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Mapping, Optional

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ApiError, dumps, validation_failed
from ..fakes.catalog import ModelEntry
from ..store.state import GatewayState
from .asgi import SCOPE_API_VERSION, SCOPE_JSON, SCOPE_OWNER, SCOPE_REQUEST_ID
from .asgi import SCOPE_BODY as SCOPE_BODY
from .json_input import BadJson, parse_request_json
from .validation import Spec, check_body, malformed_json
from .versioning import BASELINE


def gateway(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def request_id(request: Request) -> str:
    rid = request.scope.get(SCOPE_REQUEST_ID)
    if rid is None:
        rid = gateway(request).new_request_id()
        request.scope[SCOPE_REQUEST_ID] = rid
    return str(rid)


def api_version(request: Request) -> str:
    """The API version the request is served under (``http/versioning.py``)."""
    return str(request.scope.get(SCOPE_API_VERSION) or BASELINE)


def owner(request: Request) -> str:
    return str(request.scope[SCOPE_OWNER])


async def json_body(request: Request, spec: Optional[Spec] = None) -> Dict[str, Any]:
    """The request's JSON object (validated against ``spec``); 422 for malformed or missing bodies."""
    if SCOPE_JSON in request.scope:
        parsed = request.scope[SCOPE_JSON]
    else:
        parsed = parse_request_json(await request.body())
    if isinstance(parsed, BadJson):
        raise malformed_json(parsed.text, parsed.error)
    if parsed is None:
        raise validation_failed(
            [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
        )
    if spec is not None:
        parsed = check_body(parsed, spec)
    if not isinstance(parsed, dict):
        raise validation_failed(
            [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": parsed,
                }
            ]
        )
    return parsed


def json_response(data: Any, status: int = 200, headers: Optional[Mapping[str, str]] = None) -> Response:
    return Response(
        dumps(data), status_code=status, headers=dict(headers or {}), media_type="application/json"
    )


def chat_model(request: Request, model_id: str) -> ModelEntry:
    """The catalog entry a request's model id names (a unique bare name too; ``Catalog.find``)."""
    return gateway(request).catalog.find(model_id)


def require_capability(entry: ModelEntry, ok: bool, what: str) -> None:
    if not ok:
        raise ApiError(
            400,
            "model_capability_not_supported",
            f"Model '{entry.id}' does not support {what}.",
        )


async def pace(state: GatewayState) -> None:
    """Pause between streamed events when the gateway was started with a latency."""
    if state.latency > 0:
        await asyncio.sleep(state.latency)
    else:
        await asyncio.sleep(0)
