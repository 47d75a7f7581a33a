"""``client.memories``: memories and their items (``/v1/memories``, ``/v1/memories/{slug}/items``).

A memory is named by its ``slug``; ``memory=[slug, ...]`` (client or per call) injects it into chat calls
(docs/protocol.md §V8). Listings answer ``{"object": "list", "data": [...]}`` (a bare array is accepted
too); deleting answers 204.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Dict, Mapping, Optional, Type

from pydantic import BaseModel

from .._core.request import (
    CallOptions,
    RequestOptions,
    call_options,
    coerce_params,
    dump_body,
    path_param,
    split_options,
)
from .._core.response import ListResponse, decode_model, parse_list
from .._errors import InvalidParamsError
from ..types.memories import (
    CreateMemoryFields,
    CreateMemoryItemFields,
    CreateMemoryItemParams,
    CreateMemoryParams,
    Memory,
    MemoryItem,
    UpdateMemoryFields,
    UpdateMemoryItemFields,
    UpdateMemoryItemParams,
    UpdateMemoryParams,
)
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Planned,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    sub_views,
    view,
)

__all__ = ["AsyncMemoriesResource", "AsyncMemoryItemsResource", "MemoriesResource", "MemoryItemsResource"]

_PATH = "/v1/memories"


def _memory_path(slug: str) -> str:
    return f"{_PATH}/{path_param(slug, name='slug')}"


def _item_path(slug: str, item_id: Optional[str] = None) -> str:
    base = f"{_memory_path(slug)}/items"
    return base if item_id is None else f"{base}/{path_param(item_id, name='item_id')}"


def _query(**values: Optional[str]) -> Optional[Dict[str, str]]:
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise InvalidParamsError(f"{name} must be a string, got {type(value).__name__}")
    return {k: v for k, v in values.items() if v is not None} or None


def _update_body(
    model: Type[BaseModel], params: object, fields: Mapping[str, Any], opts: RequestOptions, what: str
) -> Dict[str, Any]:
    body = dump_body(coerce_params(model, params, fields), opts)
    if not body:
        names = ", ".join(f"{name}=" for name in model.model_fields)
        raise InvalidParamsError(f"{what}.update() needs at least one field to change ({names})")
    return body


def _nothing(response: object) -> None:
    """A 204's reading: there is nothing to read."""


def _list_items(
    slug: str, item_type: Optional[str], options: CallOptions
) -> Planned[ListResponse[MemoryItem]]:
    path, query = _item_path(slug), _query(item_type=item_type)
    return Planned(partial(parse_list, MemoryItem), "GET", path, call_options(options), params=query)


def _create_item(slug: str, params: object, kwargs: Mapping[str, Any]) -> Planned[MemoryItem]:
    opts, fields = split_options(kwargs)
    body = dump_body(coerce_params(CreateMemoryItemParams, params, fields), opts)
    return Planned(partial(decode_model, MemoryItem), "POST", _item_path(slug), opts, body=body)


def _get_item(slug: str, item_id: str, options: CallOptions) -> Planned[MemoryItem]:
    return Planned(partial(decode_model, MemoryItem), "GET", _item_path(slug, item_id), call_options(options))


def _update_item(slug: str, item_id: str, params: object, kwargs: Mapping[str, Any]) -> Planned[MemoryItem]:
    opts, fields = split_options(kwargs)
    body = _update_body(UpdateMemoryItemParams, params, fields, opts, "memories.items")
    return Planned(partial(decode_model, MemoryItem), "PATCH", _item_path(slug, item_id), opts, body=body)


def _delete_item(slug: str, item_id: str, options: CallOptions) -> Planned[None]:
    return Planned(_nothing, "DELETE", _item_path(slug, item_id), call_options(options))


def _list(q: Optional[str], options: CallOptions) -> Planned[ListResponse[Memory]]:
    query = _query(q=q)
    return Planned(partial(parse_list, Memory), "GET", _PATH, call_options(options), params=query)


def _create(params: object, kwargs: Mapping[str, Any]) -> Planned[Memory]:
    opts, fields = split_options(kwargs)
    body = dump_body(coerce_params(CreateMemoryParams, params, fields), opts)
    return Planned(partial(decode_model, Memory), "POST", _PATH, opts, body=body)


def _get(slug: str, options: CallOptions) -> Planned[Memory]:
    return Planned(partial(decode_model, Memory), "GET", _memory_path(slug), call_options(options))


def _update(slug: str, params: object, kwargs: Mapping[str, Any]) -> Planned[Memory]:
    opts, fields = split_options(kwargs)
    body = _update_body(UpdateMemoryParams, params, fields, opts, "memories")
    return Planned(partial(decode_model, Memory), "PATCH", _memory_path(slug), opts, body=body)


def _delete(slug: str, options: CallOptions) -> Planned[None]:
    return Planned(_nothing, "DELETE", _memory_path(slug), call_options(options))


class CreateMemoryArgs(CreateMemoryFields, CallOptions, total=False):
    """The keywords of ``memories.create``: ``CreateMemoryParams``'s fields and the per-call options."""


class UpdateMemoryArgs(UpdateMemoryFields, CallOptions, total=False):
    """The keywords of ``memories.update``: ``UpdateMemoryParams``'s fields and the per-call options."""


class CreateMemoryItemArgs(CreateMemoryItemFields, CallOptions, total=False):
    """The keywords of ``memories.items.create``: ``CreateMemoryItemParams``'s fields and the per-call options."""


class UpdateMemoryItemArgs(UpdateMemoryItemFields, CallOptions, total=False):
    """The keywords of ``memories.items.update``: ``UpdateMemoryItemParams``'s fields and the per-call options."""


class MemoryItemsResource(SyncAPIResource["MemoryItemsViews[Raw]", "MemoryItemsViews[Streaming]"]):
    """``client.memories.items``: the guardrails, preferences and facts of one memory."""

    def list(
        self,
        slug: str,
        *,
        item_type: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[MemoryItem]:
        """The items of a memory (``GET /v1/memories/{slug}/items``), optionally of one ``item_type``
        (``"guardrail"``, ``"preference"`` or ``"fact"``): a list that also carries ``request_id``."""
        return self._call(_list_items(slug, item_type, options))

    def create(
        self,
        slug: str,
        params: Optional[CreateMemoryItemParams] = None,
        **kwargs: Unpack[CreateMemoryItemArgs],
    ) -> MemoryItem:
        """Add an item (``POST /v1/memories/{slug}/items``; 201): ``item_type`` and ``content``, a ``key``
        for a keyed preference, ``expires_at`` (Unix seconds) for one that lapses."""
        return self._call(_create_item(slug, params, kwargs))

    def get(
        self,
        slug: str,
        item_id: str,
        **options: Unpack[CallOptions],
    ) -> MemoryItem:
        """One item (``GET /v1/memories/{slug}/items/{item_id}``)."""
        return self._call(_get_item(slug, item_id, options))

    def update(
        self,
        slug: str,
        item_id: str,
        params: Optional[UpdateMemoryItemParams] = None,
        **kwargs: Unpack[UpdateMemoryItemArgs],
    ) -> MemoryItem:
        """Change an item's ``content``, ``key`` or ``expires_at`` (``PATCH``; its ``item_type`` is fixed).
        Only the fields you set are sent; none is an ``InvalidParamsError`` before sending."""
        return self._call(_update_item(slug, item_id, params, kwargs))

    def delete(
        self,
        slug: str,
        item_id: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete an item (``DELETE /v1/memories/{slug}/items/{item_id}``; 204)."""
        self._call(_delete_item(slug, item_id, options))


class AsyncMemoryItemsResource(
    AsyncAPIResource["MemoryItemsViews[AsyncRaw]", "MemoryItemsViews[AsyncStreaming]"]
):
    """``client.memories.items``: the guardrails, preferences and facts of one memory."""

    async def list(
        self,
        slug: str,
        *,
        item_type: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[MemoryItem]:
        """The items of a memory (``GET /v1/memories/{slug}/items``), optionally of one ``item_type``
        (``"guardrail"``, ``"preference"`` or ``"fact"``): a list that also carries ``request_id``."""
        return await self._call(_list_items(slug, item_type, options))

    async def create(
        self,
        slug: str,
        params: Optional[CreateMemoryItemParams] = None,
        **kwargs: Unpack[CreateMemoryItemArgs],
    ) -> MemoryItem:
        """Add an item (``POST /v1/memories/{slug}/items``; 201): ``item_type`` and ``content``, a ``key``
        for a keyed preference, ``expires_at`` (Unix seconds) for one that lapses."""
        return await self._call(_create_item(slug, params, kwargs))

    async def get(
        self,
        slug: str,
        item_id: str,
        **options: Unpack[CallOptions],
    ) -> MemoryItem:
        """One item (``GET /v1/memories/{slug}/items/{item_id}``)."""
        return await self._call(_get_item(slug, item_id, options))

    async def update(
        self,
        slug: str,
        item_id: str,
        params: Optional[UpdateMemoryItemParams] = None,
        **kwargs: Unpack[UpdateMemoryItemArgs],
    ) -> MemoryItem:
        """Change an item's ``content``, ``key`` or ``expires_at`` (``PATCH``; its ``item_type`` is fixed).
        Only the fields you set are sent; none is an ``InvalidParamsError`` before sending."""
        return await self._call(_update_item(slug, item_id, params, kwargs))

    async def delete(
        self,
        slug: str,
        item_id: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete an item (``DELETE /v1/memories/{slug}/items/{item_id}``; 204)."""
        await self._call(_delete_item(slug, item_id, options))


class MemoriesResource(SyncAPIResource["MemoriesViews[Raw]", "MemoriesViews[Streaming]"]):
    """``client.memories``: memories (by slug) and, in ``items``, what each one holds."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.items = MemoryItemsResource(http)

    def list(
        self,
        *,
        q: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[Memory]:
        """Your memories (``GET /v1/memories``), those whose slug or description contains ``q`` when
        given: a list that also carries ``request_id`` and ``response``."""
        return self._call(_list(q, options))

    def create(
        self,
        params: Optional[CreateMemoryParams] = None,
        **kwargs: Unpack[CreateMemoryArgs],
    ) -> Memory:
        """Create a memory (``POST /v1/memories``; 201): a ``slug`` (no spaces, not UUID-shaped, cannot be
        renamed), an optional ``description`` and ``retention_days`` (``None``: keep forever)."""
        return self._call(_create(params, kwargs))

    def get(
        self,
        slug: str,
        **options: Unpack[CallOptions],
    ) -> Memory:
        """One memory (``GET /v1/memories/{slug}``), with its ``item_counts``."""
        return self._call(_get(slug, options))

    def update(
        self,
        slug: str,
        params: Optional[UpdateMemoryParams] = None,
        **kwargs: Unpack[UpdateMemoryArgs],
    ) -> Memory:
        """Change a memory's ``description``, ``retention_days`` or ``active`` (``PATCH``; ``active=False``
        makes chat calls skip it). Only the fields you set are sent; none is an ``InvalidParamsError``."""
        return self._call(_update(slug, params, kwargs))

    def delete(
        self,
        slug: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete a memory and its items (``DELETE /v1/memories/{slug}``; 204)."""
        self._call(_delete(slug, options))


class AsyncMemoriesResource(AsyncAPIResource["MemoriesViews[AsyncRaw]", "MemoriesViews[AsyncStreaming]"]):
    """``client.memories``: memories (by slug) and, in ``items``, what each one holds."""

    def __init__(self, http: Any) -> None:
        super().__init__(http)
        self.items = AsyncMemoryItemsResource(http)

    async def list(
        self,
        *,
        q: Optional[str] = None,
        **options: Unpack[CallOptions],
    ) -> ListResponse[Memory]:
        """Your memories (``GET /v1/memories``), those whose slug or description contains ``q`` when
        given: a list that also carries ``request_id`` and ``response``."""
        return await self._call(_list(q, options))

    async def create(
        self,
        params: Optional[CreateMemoryParams] = None,
        **kwargs: Unpack[CreateMemoryArgs],
    ) -> Memory:
        """Create a memory (``POST /v1/memories``; 201): a ``slug`` (no spaces, not UUID-shaped, cannot be
        renamed), an optional ``description`` and ``retention_days`` (``None``: keep forever)."""
        return await self._call(_create(params, kwargs))

    async def get(
        self,
        slug: str,
        **options: Unpack[CallOptions],
    ) -> Memory:
        """One memory (``GET /v1/memories/{slug}``), with its ``item_counts``."""
        return await self._call(_get(slug, options))

    async def update(
        self,
        slug: str,
        params: Optional[UpdateMemoryParams] = None,
        **kwargs: Unpack[UpdateMemoryArgs],
    ) -> Memory:
        """Change a memory's ``description``, ``retention_days`` or ``active`` (``PATCH``; ``active=False``
        makes chat calls skip it). Only the fields you set are sent; none is an ``InvalidParamsError``."""
        return await self._call(_update(slug, params, kwargs))

    async def delete(
        self,
        slug: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete a memory and its items (``DELETE /v1/memories/{slug}``; 204)."""
        await self._call(_delete(slug, options))


class MemoryItemsViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``MemoryItemsResource`` and its twin."""

    list = view(MemoryItemsResource.list, AsyncMemoryItemsResource.list)
    create = view(MemoryItemsResource.create, AsyncMemoryItemsResource.create)
    get = view(MemoryItemsResource.get, AsyncMemoryItemsResource.get)
    update = view(MemoryItemsResource.update, AsyncMemoryItemsResource.update)
    delete = view(MemoryItemsResource.delete, AsyncMemoryItemsResource.delete)


class MemoriesViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``MemoriesResource`` and its twin."""

    items = sub_views(MemoryItemsResource, AsyncMemoryItemsResource)
    list = view(MemoriesResource.list, AsyncMemoriesResource.list)
    create = view(MemoriesResource.create, AsyncMemoriesResource.create)
    get = view(MemoriesResource.get, AsyncMemoriesResource.get)
    update = view(MemoriesResource.update, AsyncMemoriesResource.update)
    delete = view(MemoriesResource.delete, AsyncMemoriesResource.delete)
