"""``/v1/api-versions`` (SDK ``client.api_versions``; docs/protocol.md §V1.2): the API versions served.

A bare JSON array, oldest first; exactly one entry is the ``baseline`` (what an unpinned request gets)
and one the ``latest``. A version the settings mark deprecated (``deprecated_versions``) has status
``deprecated`` and its ``sunset_on`` day.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..http.context import gateway, json_response
from ..http.versioning import check_deprecated, listing


async def list_api_versions(request: Request) -> Response:
    deprecated = check_deprecated(gateway(request).settings.deprecated_versions)
    return json_response(listing(deprecated))


ROUTES = [Route("/v1/api-versions", list_api_versions, methods=["GET"])]
