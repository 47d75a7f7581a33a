"""The Starlette application of the local gateway: :func:`create_app`.

``create_app()`` builds the app from :class:`~meshapi_gateway.settings.GatewaySettings`; its shared
state is ``app.state.gateway``, a :class:`~meshapi_gateway.store.state.GatewayState`. What every
request goes through before its route (request id, auth, body, JSON, request log, rate limits, faults,
idempotency) is the list of middlewares in ``middleware.py``, installed here outside everything else;
the routes are in ``routes/`` (one module per SDK resource), ``admin.py`` (``/_admin``) and the
inspector (``record/inspector``). Errors raised by handlers become the standard envelope here, with
the request id of the current request.
"""

from __future__ import annotations

from typing import Any, List, Optional

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from ..errors import ApiError, DetailError, code_for_status, dumps, envelope
from ..faults.plan import FaultPlan
from ..record.inspector import ROUTES as _INSPECTOR_ROUTES
from ..record.proxy import ProxyLayer
from ..record.reqlog import RequestLog
from ..routes import all_routes
from ..settings import GatewaySettings
from ..store.state import GatewayState
from . import admin
from .asgi import SCOPE_REQUEST_ID, ASGIApp
from .hosts import served_names
from .middleware import install
from .versioning import check_deprecated, check_pins

# -- exception handlers -------------------------------------------------------------------------------


def _rid(request: Request) -> str:
    rid = request.scope.get(SCOPE_REQUEST_ID)
    return str(rid) if rid else request.app.state.gateway.new_request_id()


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body = dumps(envelope(exc.error_object(), _rid(request)))
    return Response(body, status_code=exc.status, headers=exc.headers, media_type="application/json")


async def _detail_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DetailError)
    return Response(dumps({"detail": exc.detail}), status_code=exc.status, media_type="application/json")


_PATH_SHOWN = 200  # characters of an unknown path echoed in a 404 message (the rest is cut)


def _shown_path(path: str) -> str:
    return path if len(path) <= _PATH_SHOWN else path[:_PATH_SHOWN] + "[...]"


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:  # no route matched: say which request, so a doubled /v1/v1 prefix is visible
        message = f"No route for {request.method} {_shown_path(request.url.path)}."
    else:
        message = {405: "Method not allowed."}.get(status, str(exc.detail))
    body = dumps(envelope({"code": code_for_status(status), "message": message}, _rid(request)))
    return Response(body, status_code=status, headers=exc.headers, media_type="application/json")


async def _internal_error(request: Request, exc: Exception) -> Response:
    body = dumps(envelope({"code": "internal_error", "message": "Internal server error."}, _rid(request)))
    return Response(body, status_code=500, media_type="application/json")


class GatewayApp(Starlette):
    """Starlette with the gateway's middlewares (``middleware.py``) outside everything, even the 500 handler.

    Being outermost lets them add the request id to 500 responses and drop connections before
    Starlette's error middleware could answer for them.
    """

    def build_middleware_stack(self) -> ASGIApp:
        inner: ASGIApp = super().build_middleware_stack()
        proxy = getattr(self.state, "proxy", None)
        if proxy is not None:
            inner = proxy.wrap(inner)  # record/replay in front of a real gateway (record/proxy.py)
        return install(inner, self.state.gateway)


def routes(*, inspector: bool = True) -> List[BaseRoute]:
    """Every route of the gateway: the resource modules' (``routes/``), the admin API's, the inspector's."""
    extra: List[BaseRoute] = list(_INSPECTOR_ROUTES) if inspector else []
    return [*extra, *all_routes(), *admin.ROUTES]


def create_app(
    tokens: Optional[List[str]] = None,
    *,
    settings: Optional[GatewaySettings] = None,
    faults: Optional[FaultPlan] = None,
    requests: Optional[RequestLog] = None,
    **options: Any,
) -> Starlette:
    """Build the gateway app from ``settings`` and/or the :class:`GatewaySettings` fields as keywords.

    Call ``app.state.gateway.close()`` when done if ``data_dir`` was used. ``inspector=False`` leaves
    out the ``/_inspector/`` page (:mod:`meshapi_gateway.record.inspector`); ``proxy`` puts the gateway in
    front of a real one or a cassette (:mod:`meshapi_gateway.record.proxy`).
    """
    if tokens is not None:
        options["tokens"] = tokens
    chosen = GatewaySettings.build(settings, caller="create_app", **options)
    served_names(chosen.host, chosen.allowed_hosts)  # a bad allowed host fails here, not at a request
    check_deprecated(chosen.deprecated_versions)  # so does a bad deprecated version or pin
    check_pins(chosen.api_version_pins)
    proxy = chosen.proxy
    layer = ProxyLayer(proxy) if proxy is not None and proxy.active else None
    state = GatewayState(chosen, faults=faults, requests=requests)
    app = GatewayApp(
        routes=routes(inspector=chosen.inspector),
        exception_handlers={
            ApiError: _api_error,
            DetailError: _detail_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.gateway = state
    app.state.inspector = chosen.inspector
    app.state.proxy = layer
    return app
