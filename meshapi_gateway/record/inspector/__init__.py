"""The inspector: a web page, served by the gateway itself, to watch and steer it while you work.

``/_inspector/`` lists every request the gateway received (newest first, refreshed about once a
second), opens one exchange in full and drives the test-double features (faults, scripted replies,
rate limits, a reset of stored data). The page is three static files in this package (``index.html``,
``inspector.css``, ``inspector.js``): no build step, no CDN, it works offline.

Protection: the files themselves hold no data. Everything the page shows or changes goes through the
``/_admin`` routes, which need the gateway's admin token. The gateway prints the page's address with the
token in the URL *fragment* (``/_inspector/#key=adm_...``): browsers never send a fragment to the server,
so it does not appear in access logs; the page moves it into ``sessionStorage`` and removes it from the
address bar. Responses carry a strict Content-Security-Policy (scripts only from the gateway itself).
``create_app(inspector=False)`` / ``serve(inspector=False)`` / ``meshapi gateway --no-inspector`` turn it off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["ROUTES", "inspector_url"]

_HERE = Path(__file__).resolve().parent
_FILES: Dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "inspector.css": "text/css; charset=utf-8",
    "inspector.js": "text/javascript; charset=utf-8",
}
_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def inspector_url(base_url: str, admin_token: str) -> str:
    """The address to open: the page, with the admin token in the fragment (never sent to the server)."""
    return f"{base_url.rstrip('/')}/_inspector/#key={admin_token}"


async def _redirect(request: Request) -> Response:
    return RedirectResponse("/_inspector/", status_code=308)


async def _file(request: Request) -> Response:
    name = request.path_params.get("name") or "index.html"
    media_type = _FILES.get(name)
    if media_type is None:
        return Response(b"Not found.\n", status_code=404, media_type="text/plain", headers=_HEADERS)
    return Response((_HERE / name).read_bytes(), media_type=media_type, headers=_HEADERS)


ROUTES: List[BaseRoute] = [
    Route("/_inspector", _redirect, methods=["GET"]),
    Route("/_inspector/", _file, methods=["GET"]),
    Route("/_inspector/{name}", _file, methods=["GET"]),
]
