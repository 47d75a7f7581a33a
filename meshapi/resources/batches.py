"""``client.batches``: inline batches of chat completions (``/v1/batches``), plus wait and pagination."""

from __future__ import annotations

from typing import AsyncIterator, Iterator, Mapping, Optional

from .._core.request import CallOptions, call_options, coerce_params, dump_body, path_param, split_options
from .._errors import InvalidParamsError
from ..lib.polling import Deadline, WaitTimeoutError, async_poll_until, check_wait_args, poll_until
from ..types.batches import BatchListResponse, BatchObject, CreateBatchFields, CreateBatchParams
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
    cursor_query,
    view,
)

__all__ = ["TERMINAL_BATCH_STATUSES", "AsyncBatchesResource", "BatchesResource"]

_PATH = "/v1/batches"
TERMINAL_BATCH_STATUSES = frozenset({"completed", "failed", "cancelled", "expired"})


def _batch_path(batch_id: str, suffix: str = "") -> str:
    return f"{_PATH}/{path_param(batch_id, name='batch_id')}{suffix}"


def _check_page_size(page_size: object) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 100:
        raise InvalidParamsError(f"page_size must be an integer from 1 to 100, got {page_size!r}")


def _timed_out(batch_id: str, last: Optional[BatchObject], timeout: float) -> WaitTimeoutError:
    status = last.status if last is not None else None
    return WaitTimeoutError(
        f"Batch {batch_id!r} did not finish within {timeout:g}s (last status: {status!r}); "
        "it keeps running on the gateway: wait again or cancel it.",
        last=last,
        resource_id=batch_id,
    )


class CreateBatchArgs(CreateBatchFields, CallOptions, total=False):
    """The keywords of the methods that take a ``CreateBatchParams``: its fields and the per-call options."""


class BatchesResource(SyncAPIResource["BatchesViews[Raw]", "BatchesViews[Streaming]"]):
    def create(
        self,
        params: Optional[CreateBatchParams] = None,
        **kwargs: Unpack[CreateBatchArgs],
    ) -> BatchObject:
        """Create a batch from inline chat-completion requests (``POST /v1/batches``).

        Pass a ``CreateBatchParams`` or its fields as keyword arguments (``requests=`` with
        ``BatchRequestItem`` objects or dicts, ``completion_window=``, ``metadata=``).
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(CreateBatchParams, params, fields), opts)
        return self._http.request_model(BatchObject, "POST", _PATH, body=body, options=opts)

    def list(
        self,
        *,
        after: Optional[str] = None,
        limit: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> BatchListResponse:
        """One page of batches, newest first (``GET /v1/batches``); ``after`` is the last id of the
        previous page, ``limit`` 1-100 (gateway default 20). See :meth:`iter_batches` for every page."""
        return self._http.request_model(
            BatchListResponse,
            "GET",
            _PATH,
            params=cursor_query(after, limit),
            options=call_options(options),
        )

    def get(
        self,
        batch_id: str,
        **options: Unpack[CallOptions],
    ) -> BatchObject:
        """A batch's status, with inline ``results`` once completed (``GET /v1/batches/{batch_id}``)."""
        return self._http.request_model(
            BatchObject,
            "GET",
            _batch_path(batch_id),
            options=call_options(options),
        )

    def cancel(
        self,
        batch_id: str,
        **options: Unpack[CallOptions],
    ) -> BatchObject:
        """Ask the gateway to cancel a batch (``POST /v1/batches/{batch_id}/cancel`` with body ``{}``)."""
        return self._http.request_model(
            BatchObject,
            "POST",
            _batch_path(batch_id, "/cancel"),
            body={},
            options=call_options(options),
        )

    def wait(
        self,
        batch_id: str,
        *,
        timeout: float = 3600.0,
        poll_interval: float = 5.0,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> BatchObject:
        """Poll :meth:`get` until the batch is terminal (``completed``, ``failed``, ``cancelled``,
        ``expired``) and return it. ``timeout`` is the overall deadline in seconds; past it
        ``WaitTimeoutError`` (an ``APITimeoutError``) is raised with the last batch seen in ``.last``.
        A failed batch is returned, not raised: check ``.status``. Polls start 0.25 s apart and double up
        to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        return poll_until(
            lambda: self.get(batch_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_BATCH_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(batch_id, last, timeout),
        )

    def iter_batches(
        self, page_size: int = 20, *, extra_headers: Optional[Mapping[str, str]] = None
    ) -> Iterator[BatchObject]:
        """Every batch, newest first, fetching pages of ``page_size`` (1-100) lazily with ``after``."""
        _check_page_size(page_size)
        return self._pages(page_size, extra_headers)

    def _pages(self, page_size: int, extra_headers: Optional[Mapping[str, str]]) -> Iterator[BatchObject]:
        after: Optional[str] = None
        while True:
            page = self.list(after=after, limit=page_size, extra_headers=extra_headers)
            yield from page.data
            if not page.has_more or not page.data:
                return
            after = page.last_id or page.data[-1].id


class AsyncBatchesResource(AsyncAPIResource["BatchesViews[AsyncRaw]", "BatchesViews[AsyncStreaming]"]):
    async def create(
        self,
        params: Optional[CreateBatchParams] = None,
        **kwargs: Unpack[CreateBatchArgs],
    ) -> BatchObject:
        """Create a batch from inline chat-completion requests (``POST /v1/batches``).

        Pass a ``CreateBatchParams`` or its fields as keyword arguments (``requests=`` with
        ``BatchRequestItem`` objects or dicts, ``completion_window=``, ``metadata=``).
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(CreateBatchParams, params, fields), opts)
        return await self._http.request_model(BatchObject, "POST", _PATH, body=body, options=opts)

    async def list(
        self,
        *,
        after: Optional[str] = None,
        limit: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> BatchListResponse:
        """One page of batches, newest first (``GET /v1/batches``); ``after`` is the last id of the
        previous page, ``limit`` 1-100 (gateway default 20). See :meth:`iter_batches` for every page."""
        return await self._http.request_model(
            BatchListResponse,
            "GET",
            _PATH,
            params=cursor_query(after, limit),
            options=call_options(options),
        )

    async def get(
        self,
        batch_id: str,
        **options: Unpack[CallOptions],
    ) -> BatchObject:
        """A batch's status, with inline ``results`` once completed (``GET /v1/batches/{batch_id}``)."""
        return await self._http.request_model(
            BatchObject,
            "GET",
            _batch_path(batch_id),
            options=call_options(options),
        )

    async def cancel(
        self,
        batch_id: str,
        **options: Unpack[CallOptions],
    ) -> BatchObject:
        """Ask the gateway to cancel a batch (``POST /v1/batches/{batch_id}/cancel`` with body ``{}``)."""
        return await self._http.request_model(
            BatchObject,
            "POST",
            _batch_path(batch_id, "/cancel"),
            body={},
            options=call_options(options),
        )

    async def wait(
        self,
        batch_id: str,
        *,
        timeout: float = 3600.0,
        poll_interval: float = 5.0,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> BatchObject:
        """Poll :meth:`get` until the batch is terminal (``completed``, ``failed``, ``cancelled``,
        ``expired``) and return it. ``timeout`` is the overall deadline in seconds; past it
        ``WaitTimeoutError`` (an ``APITimeoutError``) is raised with the last batch seen in ``.last``.
        A failed batch is returned, not raised: check ``.status``. Polls start 0.25 s apart and double up
        to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        return await async_poll_until(
            lambda: self.get(batch_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_BATCH_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(batch_id, last, timeout),
        )

    def iter_batches(
        self, page_size: int = 20, *, extra_headers: Optional[Mapping[str, str]] = None
    ) -> AsyncIterator[BatchObject]:
        """Every batch, newest first, fetching pages of ``page_size`` (1-100) lazily with ``after``."""
        _check_page_size(page_size)
        return self._pages(page_size, extra_headers)

    async def _pages(
        self, page_size: int, extra_headers: Optional[Mapping[str, str]]
    ) -> AsyncIterator[BatchObject]:
        after: Optional[str] = None
        while True:
            page = await self.list(after=after, limit=page_size, extra_headers=extra_headers)
            for batch in page.data:
                yield batch
            if not page.has_more or not page.data:
                return
            after = page.last_id or page.data[-1].id


class BatchesViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``BatchesResource`` and its twin."""

    create = view(BatchesResource.create, AsyncBatchesResource.create)
    list = view(BatchesResource.list, AsyncBatchesResource.list)
    get = view(BatchesResource.get, AsyncBatchesResource.get)
    cancel = view(BatchesResource.cancel, AsyncBatchesResource.cancel)
    wait = view(BatchesResource.wait, AsyncBatchesResource.wait)
