"""``client.models``: the model catalog (``GET /v1/models``, ``/free``, ``/paid``, ``/search``, one model,
and one model's providers).

``get(model_id)`` keeps the ``/`` of ids such as ``openai/gpt-4o-mini`` on the wire, as 0.1.12 does,
but escapes every other character of each segment (0.1.12 let ``?``, ``#`` and ``..`` through).
"""

from __future__ import annotations

from typing import Dict, Literal, Mapping, Optional

from .._core.request import CallOptions, call_options, coerce_params, split_options
from .._core.response import ListResponse, parse_list
from .._errors import InvalidParamsError
from ..types.models import (
    ListModelsParams,
    ModelInfo,
    ModelProvidersResponse,
    ModelSearchFields,
    ModelSearchParams,
    ModelsPage,
)
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    model_path,
    view,
)

__all__ = ["AsyncModelsResource", "ModelsResource"]

ModelType = Literal["text", "embedding", "image", "audio", "video"]


def _free_query(
    free: Optional[bool], type: Optional[str] = None, provider: Optional[str] = None
) -> Optional[Mapping[str, str]]:
    if free is not None and not isinstance(free, bool):
        raise InvalidParamsError(f"free must be True, False or None, got {free!r}")
    if type is not None or provider is not None:
        coerce_params(ListModelsParams, None, {"type": type, "provider": provider})  # checks the values
    query: Dict[str, str] = {}
    if free is not None:
        query["free"] = "true" if free else "false"
    if type is not None:
        query["type"] = type
    if provider is not None:
        query["provider"] = provider
    return query or None


class ModelSearchArgs(ModelSearchFields, CallOptions, total=False):
    """The keywords of the methods that take a ``ModelSearchParams``: its fields and the per-call options."""


class ModelsResource(SyncAPIResource["ModelsViews[Raw]", "ModelsViews[Streaming]"]):
    def list(
        self,
        *,
        free: Optional[bool] = None,
        type: Optional[ModelType] = None,
        provider: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        ``type`` (``text``, ``embedding``, ``image``, ``audio``, ``video``) and ``provider`` filter
        further. Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = call_options(options)
        query = _free_query(free, type, provider)
        response = self._http.send("GET", "/v1/models", params=query, options=opts)
        return parse_list(ModelInfo, response)

    def search(
        self,
        params: Optional[ModelSearchParams] = None,
        **kwargs: Unpack[ModelSearchArgs],
    ) -> ModelsPage:
        """Search the catalog (``GET /v1/models/search``): one page of ``items`` plus ``total``.

        Pass a ``ModelSearchParams`` or its fields: ``q=``, ``free=``, ``input_modality=``,
        ``output_modality=``, ``brand=`` (lists are repeated in the query), ``sort=``, ``order=``,
        ``limit=``, ``offset=``.
        """
        opts, fields = split_options(kwargs)
        query = coerce_params(ModelSearchParams, params, fields).to_body() or None
        return self._http.request_model(ModelsPage, "GET", "/v1/models/search", params=query, options=opts)

    def get(
        self,
        model_id: str,
        **options: Unpack[CallOptions],
    ) -> ModelInfo:
        """One model by id (``GET /v1/models/{model_id}``); an unknown id raises ``NotFoundError``."""
        opts = call_options(options)
        path = model_path(model_id, name="model_id")
        return self._http.request_model(ModelInfo, "GET", path, options=opts)

    def providers(
        self,
        model_id: str,
        **options: Unpack[CallOptions],
    ) -> ModelProvidersResponse:
        """The providers (routes) of one model (``GET /v1/models/{model_id}/providers``), default first.

        Each says whether it serves the flex tier, which video inputs it takes and its prices. An unknown
        id raises ``NotFoundError``.
        """
        opts = call_options(options)
        path = model_path(model_id, name="model_id") + "/providers"
        return self._http.request_model(ModelProvidersResponse, "GET", path, options=opts)

    def free(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = self._http.send(
            "GET",
            "/v1/models/free",
            options=call_options(options),
        )
        return parse_list(ModelInfo, response)

    def paid(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = self._http.send(
            "GET",
            "/v1/models/paid",
            options=call_options(options),
        )
        return parse_list(ModelInfo, response)


class AsyncModelsResource(AsyncAPIResource["ModelsViews[AsyncRaw]", "ModelsViews[AsyncStreaming]"]):
    async def list(
        self,
        *,
        free: Optional[bool] = None,
        type: Optional[ModelType] = None,
        provider: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """Every model (``free=True``: only free ones, ``free=False``: only paid ones).

        ``type`` (``text``, ``embedding``, ``image``, ``audio``, ``video``) and ``provider`` filter
        further. Returns a list of ``ModelInfo`` that also carries ``request_id`` and ``response``.
        """
        opts = call_options(options)
        query = _free_query(free, type, provider)
        response = await self._http.send("GET", "/v1/models", params=query, options=opts)
        return parse_list(ModelInfo, response)

    async def search(
        self,
        params: Optional[ModelSearchParams] = None,
        **kwargs: Unpack[ModelSearchArgs],
    ) -> ModelsPage:
        """Search the catalog (``GET /v1/models/search``): one page of ``items`` plus ``total``.

        Pass a ``ModelSearchParams`` or its fields: ``q=``, ``free=``, ``input_modality=``,
        ``output_modality=``, ``brand=`` (lists are repeated in the query), ``sort=``, ``order=``,
        ``limit=``, ``offset=``.
        """
        opts, fields = split_options(kwargs)
        query = coerce_params(ModelSearchParams, params, fields).to_body() or None
        return await self._http.request_model(
            ModelsPage, "GET", "/v1/models/search", params=query, options=opts
        )

    async def get(
        self,
        model_id: str,
        **options: Unpack[CallOptions],
    ) -> ModelInfo:
        """One model by id (``GET /v1/models/{model_id}``); an unknown id raises ``NotFoundError``."""
        opts = call_options(options)
        path = model_path(model_id, name="model_id")
        return await self._http.request_model(ModelInfo, "GET", path, options=opts)

    async def providers(
        self,
        model_id: str,
        **options: Unpack[CallOptions],
    ) -> ModelProvidersResponse:
        """The providers (routes) of one model (``GET /v1/models/{model_id}/providers``), default first.

        Each says whether it serves the flex tier, which video inputs it takes and its prices. An unknown
        id raises ``NotFoundError``.
        """
        opts = call_options(options)
        path = model_path(model_id, name="model_id") + "/providers"
        return await self._http.request_model(ModelProvidersResponse, "GET", path, options=opts)

    async def free(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """The free models (``GET /v1/models/free``)."""
        response = await self._http.send(
            "GET",
            "/v1/models/free",
            options=call_options(options),
        )
        return parse_list(ModelInfo, response)

    async def paid(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[ModelInfo]:
        """The paid models (``GET /v1/models/paid``)."""
        response = await self._http.send(
            "GET",
            "/v1/models/paid",
            options=call_options(options),
        )
        return parse_list(ModelInfo, response)


class ModelsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``ModelsResource`` and its twin."""

    list = view(ModelsResource.list, AsyncModelsResource.list)
    search = view(ModelsResource.search, AsyncModelsResource.search)
    get = view(ModelsResource.get, AsyncModelsResource.get)
    providers = view(ModelsResource.providers, AsyncModelsResource.providers)
    free = view(ModelsResource.free, AsyncModelsResource.free)
    paid = view(ModelsResource.paid, AsyncModelsResource.paid)
