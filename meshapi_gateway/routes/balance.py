"""``GET /v1/balance``: the calling key's balance, reservations and what is left (docs/protocol.md §V2.5).

The accounting is ``store/balance.py``; money is a decimal string. Never cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..http.context import gateway, json_response, owner

__all__ = ["ROUTES"]


async def get_balance(request: Request) -> Response:
    return json_response(gateway(request).balance.view(owner(request)), headers={"cache-control": "no-store"})


ROUTES = [Route("/v1/balance", get_balance, methods=["GET"])]
