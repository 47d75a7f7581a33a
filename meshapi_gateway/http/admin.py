"""``/_admin`` routes: drive the fault plan and read the request log over HTTP.

Guarded by the gateway's own admin token (``Authorization: Bearer <admin_token>``), separate from the
data-plane tokens. ``POST /_admin/faults`` takes one fault (the keyword arguments of
``FaultPlan.add`` plus ``route``) or ``{"faults": [...]}``; ``DELETE`` clears them; ``GET`` lists the
pending ones. ``GET /_admin/requests`` lists logged requests (filters ``path``, ``method``);
``DELETE /_admin/requests`` clears the log; ``GET /_admin/requests/summary`` gives list rows newest
first (``since``, ``limit``) and ``GET /_admin/requests/{id}`` one exchange in full (the inspector page
uses both). ``GET``/``PUT /_admin/limits`` read and replace the RPM/RPD limits.

``/_admin/replies`` manages scripted replies (``fakes/replies.py``): ``POST`` appends one rule or
``{"replies": [...]}``, ``PUT`` replaces them all, ``GET`` lists them, ``DELETE`` removes them all.
``POST /_admin/reset`` undoes run-time changes: faults cleared, replies back to the start-up rules,
rate-limit counters zeroed (and the request log cleared with ``{"requests": true}``, every stored
template, file and batch deleted with ``{"data": true}``).

Webhooks (``webhooks/``): ``POST /_admin/webhooks`` ``{"url", "secret", "events"?}`` registers an endpoint
(201; secrets are never shown again), ``GET`` lists them, ``DELETE /_admin/webhooks/{id}`` removes one,
``POST /_admin/webhooks/{id}/rotate`` ``{"secret", "grace_seconds"?}`` signs with the new and the old
secret until ``grace_until``. ``GET /_admin/webhooks/deliveries`` lists deliveries with their attempts;
``POST /_admin/webhooks/test`` ``{"type", "data"?}`` sends a test event (``"test": true``).
``GET``/``PUT /_admin/alerts`` read and change the alert thresholds and the spend cap. A reset brings
back the start-up endpoints and thresholds.
"""

from __future__ import annotations

import hmac
from typing import Any, Dict, List, Optional

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes.replies import RepliesError
from ..webhooks.endpoints import EVENT_TYPES, ROTATION_GRACE_SECONDS
from ..webhooks.hub import WebhookHub
from .context import gateway, json_body, json_response
from .ratelimit import RateLimits


def _authorise(request: Request) -> None:
    expected = "Bearer " + gateway(request).admin_token
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "Invalid or missing admin token.")


async def add_faults(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request)
    specs: List[Any] = body["faults"] if isinstance(body.get("faults"), list) else [body]
    plan = gateway(request).faults
    added = []
    for spec in specs:
        if not isinstance(spec, dict):
            raise ApiError(400, "invalid_request", "Each fault must be a JSON object.")
        try:
            added.append(plan.add_from_dict(spec))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "invalid_request", f"Invalid fault: {exc}") from None
    return json_response({"faults": [f.summary() for f in added]})


async def list_faults(request: Request) -> Response:
    _authorise(request)
    return json_response({"faults": [f.summary() for f in gateway(request).faults.pending()]})


async def clear_faults(request: Request) -> Response:
    _authorise(request)
    gateway(request).faults.clear()
    return json_response({"cleared": True})


async def list_requests(request: Request) -> Response:
    _authorise(request)
    params = request.query_params
    records = gateway(request).requests.filter(path=params.get("path"), method=params.get("method"))
    items: List[Dict[str, Any]] = [r.as_dict() for r in records]
    return json_response({"requests": items, "total": len(items)})


async def clear_requests(request: Request) -> Response:
    _authorise(request)
    gateway(request).requests.clear()
    return json_response({"cleared": True})


def _rule_specs(body: Dict[str, Any]) -> List[Any]:
    return body["replies"] if isinstance(body.get("replies"), list) else [body]


async def add_replies(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request)
    try:
        added = gateway(request).replies.add(_rule_specs(body))
    except RepliesError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    return json_response({"replies": [r.as_dict() for r in added]})


async def replace_replies(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request)
    try:
        rules = gateway(request).replies.replace(_rule_specs(body))
    except RepliesError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    return json_response({"replies": [r.as_dict() for r in rules]})


async def list_replies(request: Request) -> Response:
    _authorise(request)
    return json_response({"replies": [r.as_dict() for r in gateway(request).replies.rules()]})


async def clear_replies(request: Request) -> Response:
    _authorise(request)
    gateway(request).replies.clear()
    return json_response({"cleared": True})


async def reset(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request) if (await request.body()).strip() else {}
    for name in ("requests", "data"):
        if not isinstance(body.get(name, False), bool):
            raise ApiError(400, "invalid_request", f"'{name}' must be true or false.")
    state = gateway(request)
    state.reset(requests=body.get("requests") is True)
    answer: Dict[str, Any] = {"reset": True}
    if body.get("data") is True:  # the inspector's "reset stored data"
        answer["deleted"] = state.store.clear()
        state.cache.clear()
    return json_response(answer)


ROUTES = [
    Route("/_admin/faults", add_faults, methods=["POST"]),
    Route("/_admin/faults", list_faults, methods=["GET"]),
    Route("/_admin/faults", clear_faults, methods=["DELETE"]),
    Route("/_admin/requests", list_requests, methods=["GET"]),
    Route("/_admin/requests", clear_requests, methods=["DELETE"]),
    Route("/_admin/replies", add_replies, methods=["POST"]),
    Route("/_admin/replies", replace_replies, methods=["PUT"]),
    Route("/_admin/replies", list_replies, methods=["GET"]),
    Route("/_admin/replies", clear_replies, methods=["DELETE"]),
    Route("/_admin/reset", reset, methods=["POST"]),
]


# -- request log details, rate limits and reset (used by the inspector page and by tests) ------------


def _int_param(request: Request, name: str) -> Optional[int]:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_request", f"'{name}' must be a non-negative integer.")
    return int(raw)


async def list_request_summaries(request: Request) -> Response:
    """``GET /_admin/requests/summary?since=ID&limit=N``: list rows (no bodies), newest first."""
    _authorise(request)
    since, limit = _int_param(request, "since"), _int_param(request, "limit")
    log = gateway(request).requests
    records = log.filter(path=request.query_params.get("path"), since=since)
    records.reverse()
    if limit is not None:
        records = records[:limit]
    return json_response({"requests": [r.summary() for r in records], "bytes": log.bytes, "total": len(log)})


async def get_request(request: Request) -> Response:
    """``GET /_admin/requests/{id}``: one exchange with its bodies and streamed events."""
    _authorise(request)
    raw = request.path_params["record_id"]
    record = gateway(request).requests.get(int(raw)) if raw.isdigit() and len(raw) < 18 else None
    if record is None:
        raise ApiError(404, "not_found", f"No logged request with id '{raw[:40]}'.")
    return json_response(record.as_dict())


def _limits(state: Any) -> Dict[str, Any]:
    limiter = state.limiter
    return {"rpm": getattr(limiter, "rpm", None), "rpd": getattr(limiter, "rpd", None)}


async def get_limits(request: Request) -> Response:
    _authorise(request)
    return json_response(_limits(gateway(request)))


async def set_limits(request: Request) -> Response:
    """``PUT /_admin/limits`` ``{"rpm": 10, "rpd": null}``: new limits, counting from zero."""
    _authorise(request)
    body = await json_body(request)
    unknown = set(body) - {"rpm", "rpd"}
    if unknown:
        raise ApiError(400, "invalid_request", f"Unknown limit fields: {', '.join(sorted(unknown))}.")
    values: Dict[str, Optional[int]] = {}
    for name in ("rpm", "rpd"):
        value = body.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ApiError(400, "invalid_request", f"'{name}' must be a positive integer or null.")
        values[name] = value
    state = gateway(request)
    state.limiter.configure(RateLimits(values["rpm"], values["rpd"]))
    return json_response(_limits(state))


ROUTES += [
    Route("/_admin/requests/summary", list_request_summaries, methods=["GET"]),
    Route("/_admin/requests/{record_id}", get_request, methods=["GET"]),
    Route("/_admin/limits", get_limits, methods=["GET"]),
    Route("/_admin/limits", set_limits, methods=["PUT"]),
]


# -- webhooks: endpoints, deliveries, alert thresholds -------------------------------------------


def _hub(request: Request) -> WebhookHub:
    hub: WebhookHub = gateway(request).webhooks
    return hub


async def register_webhook(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request)
    unknown = set(body) - {"url", "secret", "events"}
    if unknown:
        raise ApiError(400, "invalid_request", f"Unknown webhook fields: {', '.join(sorted(unknown))}.")
    try:
        endpoint = _hub(request).register(body.get("url"), body.get("secret"), body.get("events"))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    return json_response(endpoint.view(), status=201)


async def list_webhooks(request: Request) -> Response:
    _authorise(request)
    return json_response({"webhooks": [e.view() for e in _hub(request).endpoints.all()]})


def _endpoint_id(request: Request) -> str:
    raw: str = request.path_params["endpoint_id"]
    if _hub(request).endpoints.get(raw) is None:
        raise ApiError(404, "not_found", f"No webhook endpoint with id '{raw[:40]}'.")
    return raw


async def delete_webhook(request: Request) -> Response:
    _authorise(request)
    return json_response({"deleted": _hub(request).unregister(_endpoint_id(request))})


async def rotate_webhook_secret(request: Request) -> Response:
    _authorise(request)
    endpoint_id = _endpoint_id(request)
    body = await json_body(request)
    grace = body.get("grace_seconds", ROTATION_GRACE_SECONDS)
    if (
        isinstance(grace, bool)
        or not isinstance(grace, (int, float))
        or not 0 <= grace <= ROTATION_GRACE_SECONDS
    ):
        raise ApiError(400, "invalid_request", "'grace_seconds' must be 0 to 86400.")
    try:
        endpoint = _hub(request).endpoints.rotate(endpoint_id, body.get("secret"), grace=float(grace))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    assert endpoint is not None
    return json_response(endpoint.view())


async def list_deliveries(request: Request) -> Response:
    _authorise(request)
    return json_response({"deliveries": [d.view() for d in _hub(request).deliveries()]})


async def send_test_event(request: Request) -> Response:
    _authorise(request)
    body = await json_body(request)
    kind, data = body.get("type", "balance.low"), body.get("data", {})
    if kind not in EVENT_TYPES or not isinstance(data, dict):
        raise ApiError(
            400, "invalid_request", f"'type' must be one of {', '.join(EVENT_TYPES)}; 'data' an object."
        )
    return json_response({"id": _hub(request).emit(kind, data, test=True)})


async def get_alerts(request: Request) -> Response:
    _authorise(request)
    return json_response(_hub(request).alerts.settings.view())


async def set_alerts(request: Request) -> Response:
    """``PUT /_admin/alerts``: the thresholds given change (``null`` turns a floor or the cap off)."""
    _authorise(request)
    body = await json_body(request)
    try:
        settings = _hub(request).configure(**body)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "invalid_request", str(exc)) from None
    return json_response(settings.view())


ROUTES += [
    Route("/_admin/webhooks", register_webhook, methods=["POST"]),
    Route("/_admin/webhooks", list_webhooks, methods=["GET"]),
    Route("/_admin/webhooks/deliveries", list_deliveries, methods=["GET"]),
    Route("/_admin/webhooks/test", send_test_event, methods=["POST"]),
    Route("/_admin/webhooks/{endpoint_id}", delete_webhook, methods=["DELETE"]),
    Route("/_admin/webhooks/{endpoint_id}/rotate", rotate_webhook_secret, methods=["POST"]),
    Route("/_admin/alerts", get_alerts, methods=["GET"]),
    Route("/_admin/alerts", set_alerts, methods=["PUT"]),
]
