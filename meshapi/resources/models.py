"""``client.models``: the model catalog (``GET /v1/models``, ``/free``, ``/paid``)."""

from __future__ import annotations

from typing import Mapping, Optional

from .._http import ListResponse, parse_list
from ..types.models import ModelInfo
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

__all__ = ["AsyncModelsResource", "ModelsResource"]


def _free_query(free: Optional[bool]) -> Optional[Mapping[str, str]]:
    if free is None:
        return None
    if not isinstance(free, bool):
        from .._errors import InvalidParamsError

        raise InvalidParamsError(f"free must be True, False or None, got {free!r}")
    return {"free": "true" if free else "false"}


class ModelsResource(SyncAPIResource):
    def list(
        self,
        *,
        free: Optional[bool] = None,
        timeout: TimeoutArg = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = options(timeout, extra_headers)
        response = self._http.send("GET", "/v1/models", params=_free_query(free), options=opts)
        return parse_list(ModelInfo, response)

    def free(
        self, *, timeout: TimeoutArg = None, extra_headers: Optional[Mapping[str, str]] = None
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = self._http.send("GET", "/v1/models/free", options=options(timeout, extra_headers))
        return parse_list(ModelInfo, response)

    def paid(
        self, *, timeout: TimeoutArg = None, extra_headers: Optional[Mapping[str, str]] = None
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = self._http.send("GET", "/v1/models/paid", options=options(timeout, extra_headers))
        return parse_list(ModelInfo, response)


class AsyncModelsResource(AsyncAPIResource):
    async def list(
        self,
        *,
        free: Optional[bool] = None,
        timeout: TimeoutArg = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = options(timeout, extra_headers)
        response = await self._http.send("GET", "/v1/models", params=_free_query(free), options=opts)
        return parse_list(ModelInfo, response)

    async def free(
        self, *, timeout: TimeoutArg = None, extra_headers: Optional[Mapping[str, str]] = None
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = await self._http.send("GET", "/v1/models/free", options=options(timeout, extra_headers))
        return parse_list(ModelInfo, response)

    async def paid(
        self, *, timeout: TimeoutArg = None, extra_headers: Optional[Mapping[str, str]] = None
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = await self._http.send("GET", "/v1/models/paid", options=options(timeout, extra_headers))
        return parse_list(ModelInfo, response)
