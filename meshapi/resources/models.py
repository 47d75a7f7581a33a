"""``client.models``: the model catalog (``GET /v1/models``, ``/free``, ``/paid``)."""

from __future__ import annotations

from typing import Any, Mapping, Optional

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
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        response = self._http.send("GET", "/v1/models", params=_free_query(free), options=opts)
        return parse_list(ModelInfo, response)

    def free(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = self._http.send(
            "GET",
            "/v1/models/free",
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(ModelInfo, response)

    def paid(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = self._http.send(
            "GET",
            "/v1/models/paid",
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(ModelInfo, response)


class AsyncModelsResource(AsyncAPIResource):
    async def list(
        self,
        *,
        free: Optional[bool] = None,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        response = await self._http.send("GET", "/v1/models", params=_free_query(free), options=opts)
        return parse_list(ModelInfo, response)

    async def free(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = await self._http.send(
            "GET",
            "/v1/models/free",
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(ModelInfo, response)

    async def paid(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = await self._http.send(
            "GET",
            "/v1/models/paid",
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(ModelInfo, response)
