"""``/v1/realtime`` (SDK ``client.realtime``; docs/protocol.md §7): the WebSocket route, and a 426 for plain GETs.

The session protocol itself lives in ``realtime/``; this module only registers it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from ..realtime.endpoint import realtime_endpoint


async def upgrade_required(request: Request) -> Response:
    return Response("Upgrade Required", status_code=426, headers={"upgrade": "websocket"})


ROUTES = [
    WebSocketRoute("/v1/realtime", realtime_endpoint),
    Route("/v1/realtime", upgrade_required, methods=["GET"]),
]
