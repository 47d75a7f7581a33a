"""``client.rag``: files for retrieval (``/v1/files``): register, upload, embed, poll, search.

Beyond 0.1.4: ``upload_file`` sends its PUT through the SDK's own ``httpx`` client (retried, typed
errors, never the bearer token), accepts a path or a binary file object as ``content``;
``wait_until_ready`` polls a file until it is embedded (or uploaded); ``iter_files`` walks every page.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional

from .._core.request import CallOptions, call_options, coerce_params, dump_body, path_param, split_options
from .._errors import InvalidParamsError, MeshAPIError
from ..lib.polling import (
    Deadline,
    ProcessingFailedError,
    WaitTimeoutError,
    async_poll_until,
    check_wait_args,
    poll_until,
)
from ..lib.uploads import UploadContent, async_signed_put, read_content, signed_put, upload_failed
from ..types.rag import (
    BulkEmbedFields,
    BulkEmbedRequest,
    BulkEmbedResponse,
    InitUploadFields,
    InitUploadRequest,
    InitUploadResponse,
    RagFileListResponse,
    RagFileStatus,
    SearchFields,
    SearchRequest,
    SearchResponse,
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
    view,
)

__all__ = ["EMBEDDED_STATUSES", "UPLOADED_STATUSES", "AsyncRagResource", "RagResource"]

_PATH = "/v1/files"
# ``ready`` is authoritative; the others appear in generated API-reference examples (docs/protocol.md §5.3).
UPLOADED_STATUSES = frozenset({"ready", "completed", "uploaded"})
EMBEDDED_STATUSES = frozenset({"ready", "embedded", "processed", "completed"})
_UNTIL = ("embedded", "uploaded")


def _list_query(limit: Optional[int], offset: Optional[int]) -> Optional[Dict[str, int]]:
    query: Dict[str, int] = {}
    for name, value in (("limit", limit), ("offset", offset)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParamsError(f"{name} must be a non-negative integer, got {value!r}")
        query[name] = value
    return query or None


def _file_path(file_id: str) -> str:
    return f"{_PATH}/{path_param(file_id, name='file_id')}"


def _check_until(until: object) -> None:
    if until not in _UNTIL:
        raise InvalidParamsError(f"until must be 'embedded' or 'uploaded', got {until!r}")


def _check_page_size(page_size: object) -> None:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 200:
        raise InvalidParamsError(f"page_size must be an integer from 1 to 200, got {page_size!r}")


def _ready(status: RagFileStatus, until: str, file_id: str) -> bool:
    """Whether the wait is over; raises ``ProcessingFailedError`` for a failed file."""
    failed_upload = status.upload_status == "failed"
    failed_embedding = until == "embedded" and status.embedding_status == "failed"
    if failed_upload or failed_embedding:
        what = "upload" if failed_upload else "embedding"
        code = status.last_error_code
        raise ProcessingFailedError(
            f"The {what} of file {file_id!r} failed"
            + (f" ({code})" if code else "")
            + (
                "; retry the embedding with rag.embed(file_ids=[...])"
                if not failed_upload
                else "; upload the file again"
            ),
            error_code=code or f"{what}_failed",
            request_id=status._request_id or "",
            last=status,
            resource_id=file_id,
        )
    if until == "uploaded":
        return status.upload_status in UPLOADED_STATUSES
    return status.embedding_status in EMBEDDED_STATUSES


def _timed_out(file_id: str, last: RagFileStatus, until: str, timeout: float) -> WaitTimeoutError:
    return WaitTimeoutError(
        f"File {file_id!r} was not {until} within {timeout:g}s (upload_status={last.upload_status!r}, "
        f"embedding_status={last.embedding_status!r}); it may still finish: wait again or check rag.get().",
        last=last,
        resource_id=file_id,
        request_id=last._request_id or "",
    )


class InitUploadArgs(InitUploadFields, CallOptions, total=False):
    """The keywords of the methods that take a ``InitUploadRequest``: its fields and the per-call options."""


class BulkEmbedArgs(BulkEmbedFields, CallOptions, total=False):
    """The keywords of the methods that take a ``BulkEmbedRequest``: its fields and the per-call options."""


class SearchArgs(SearchFields, CallOptions, total=False):
    """The keywords of the methods that take a ``SearchRequest``: its fields and the per-call options."""


class RagResource(SyncAPIResource["RagViews[Raw]", "RagViews[Streaming]"]):
    def init_upload(
        self,
        params: Optional[InitUploadRequest] = None,
        **kwargs: Unpack[InitUploadArgs],
    ) -> InitUploadResponse:
        """Register a file and get a signed upload URL (``POST /v1/files``).

        Pass an ``InitUploadRequest`` or its fields as keyword arguments (``file_name=``, ``mime_type=``,
        ``embed=``, ``metadata=``). :meth:`upload_file` does this and the upload in one call.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(InitUploadRequest, params, fields), opts)
        return self._http.request_model(InitUploadResponse, "POST", _PATH, body=body, options=opts)

    def list(
        self,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> RagFileListResponse:
        """One page of your files (``GET /v1/files``; ``limit`` 1-200, default 50; ``offset``).
        See :meth:`iter_files` for every page."""
        return self._http.request_model(
            RagFileListResponse,
            "GET",
            _PATH,
            params=_list_query(limit, offset),
            options=call_options(options),
        )

    def get(
        self,
        file_id: str,
        **options: Unpack[CallOptions],
    ) -> RagFileStatus:
        """A file's upload and embedding status (``GET /v1/files/{file_id}``)."""
        return self._http.request_model(
            RagFileStatus,
            "GET",
            _file_path(file_id),
            options=call_options(options),
        )

    def embed(
        self,
        params: Optional[BulkEmbedRequest] = None,
        **kwargs: Unpack[BulkEmbedArgs],
    ) -> BulkEmbedResponse:
        """(Re)embed up to 100 uploaded files (``POST /v1/files/embed``); per-file errors are in the
        results. Pass a ``BulkEmbedRequest`` or ``file_ids=``, ``wait=``, ``metadata=``."""
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(BulkEmbedRequest, params, fields), opts)
        return self._http.request_model(BulkEmbedResponse, "POST", f"{_PATH}/embed", body=body, options=opts)

    def search(
        self,
        params: Optional[SearchRequest] = None,
        **kwargs: Unpack[SearchArgs],
    ) -> SearchResponse:
        """Vector search over your embedded files (``POST /v1/files/search``), best match first.
        Pass a ``SearchRequest`` or ``query=``, ``top_k=``, ``file_ids=``, ``filter=``, ..."""
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(SearchRequest, params, fields), opts)
        return self._http.request_model(SearchResponse, "POST", f"{_PATH}/search", body=body, options=opts)

    def upload_file(
        self,
        *,
        file_name: str,
        mime_type: str,
        content: UploadContent,
        embed: Optional[bool] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **options: Unpack[CallOptions],
    ) -> InitUploadResponse:
        """Register a file and upload its content; returns the registration (``file_id``, ...).

        ``content`` is bytes, a path (``str`` or ``pathlib.Path``) or a binary file object. The PUT to
        the signed URL goes through this client's ``httpx`` client (same proxies, transport and
        timeout), carries only ``Content-Type: <mime_type>`` (never your API key) and is retried like
        any call. If it fails, the error (a ``MeshAPIError`` subclass) has ``file_id`` and says that the
        record exists without content. ``extra_headers`` apply to the registration call only.
        """
        opts = call_options(options)
        data = read_content(content)  # a bad path fails before a file record is created
        created = self.init_upload(
            file_name=file_name,
            mime_type=mime_type,
            embed=embed,
            metadata=metadata,
            **options,
        )
        try:
            signed_put(self._http, created.signed_url, data, mime_type, opts)
        except MeshAPIError as exc:
            raise upload_failed(exc, created.file_id) from exc.__cause__
        return created

    def wait_until_ready(
        self,
        file_id: str,
        *,
        timeout: float = 120.0,
        poll_interval: float = 1.0,
        until: str = "embedded",
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> RagFileStatus:
        """Poll :meth:`get` until the file is searchable (``until="embedded"``: ``embedding_status``
        ``ready``) or stored (``until="uploaded"``: ``upload_status`` ``ready``); return its status.

        Raises ``ProcessingFailedError`` when the file fails (``error_code`` is its
        ``last_error_code``) and ``WaitTimeoutError`` (an ``APITimeoutError``, with the last status
        in ``.last``) when ``timeout`` seconds pass first. A file registered with ``embed=False`` is
        only embedded after :meth:`embed`. Polls start 0.25 s apart and double up to ``poll_interval``.
        """
        check_wait_args(timeout, poll_interval)
        _check_until(until)
        return poll_until(
            lambda: self.get(file_id, extra_headers=extra_headers),
            lambda status: _ready(status, until, file_id),
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda status: _timed_out(file_id, status, until, timeout),
        )

    def iter_files(
        self, page_size: int = 50, *, extra_headers: Optional[Mapping[str, str]] = None
    ) -> Iterator[RagFileStatus]:
        """Every file, fetching pages of ``page_size`` (1-200) lazily by ``offset``."""
        _check_page_size(page_size)
        return self._pages(page_size, extra_headers)

    def _pages(self, page_size: int, extra_headers: Optional[Mapping[str, str]]) -> Iterator[RagFileStatus]:
        offset = 0
        while True:
            page = self.list(page_size, offset, extra_headers=extra_headers)
            yield from page.files
            offset += len(page.files)
            if not page.files or offset >= page.total:
                return


class AsyncRagResource(AsyncAPIResource["RagViews[AsyncRaw]", "RagViews[AsyncStreaming]"]):
    async def init_upload(
        self,
        params: Optional[InitUploadRequest] = None,
        **kwargs: Unpack[InitUploadArgs],
    ) -> InitUploadResponse:
        """Register a file and get a signed upload URL (``POST /v1/files``).

        Pass an ``InitUploadRequest`` or its fields as keyword arguments (``file_name=``, ``mime_type=``,
        ``embed=``, ``metadata=``). :meth:`upload_file` does this and the upload in one call.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(InitUploadRequest, params, fields), opts)
        return await self._http.request_model(InitUploadResponse, "POST", _PATH, body=body, options=opts)

    async def list(
        self,
        limit: Optional[int] = None,
        offset: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> RagFileListResponse:
        """One page of your files (``GET /v1/files``; ``limit`` 1-200, default 50; ``offset``).
        See :meth:`iter_files` for every page."""
        return await self._http.request_model(
            RagFileListResponse,
            "GET",
            _PATH,
            params=_list_query(limit, offset),
            options=call_options(options),
        )

    async def get(
        self,
        file_id: str,
        **options: Unpack[CallOptions],
    ) -> RagFileStatus:
        """A file's upload and embedding status (``GET /v1/files/{file_id}``)."""
        return await self._http.request_model(
            RagFileStatus,
            "GET",
            _file_path(file_id),
            options=call_options(options),
        )

    async def embed(
        self,
        params: Optional[BulkEmbedRequest] = None,
        **kwargs: Unpack[BulkEmbedArgs],
    ) -> BulkEmbedResponse:
        """(Re)embed up to 100 uploaded files (``POST /v1/files/embed``); per-file errors are in the
        results. Pass a ``BulkEmbedRequest`` or ``file_ids=``, ``wait=``, ``metadata=``."""
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(BulkEmbedRequest, params, fields), opts)
        return await self._http.request_model(
            BulkEmbedResponse, "POST", f"{_PATH}/embed", body=body, options=opts
        )

    async def search(
        self,
        params: Optional[SearchRequest] = None,
        **kwargs: Unpack[SearchArgs],
    ) -> SearchResponse:
        """Vector search over your embedded files (``POST /v1/files/search``), best match first.
        Pass a ``SearchRequest`` or ``query=``, ``top_k=``, ``file_ids=``, ``filter=``, ..."""
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(SearchRequest, params, fields), opts)
        return await self._http.request_model(
            SearchResponse, "POST", f"{_PATH}/search", body=body, options=opts
        )

    async def upload_file(
        self,
        *,
        file_name: str,
        mime_type: str,
        content: UploadContent,
        embed: Optional[bool] = None,
        metadata: Optional[Dict[str, Any]] = None,
        **options: Unpack[CallOptions],
    ) -> InitUploadResponse:
        """Register a file and upload its content; returns the registration (``file_id``, ...).

        ``content`` is bytes, a path (``str`` or ``pathlib.Path``) or a binary file object. The PUT to
        the signed URL goes through this client's ``httpx`` client (same proxies, transport and
        timeout), carries only ``Content-Type: <mime_type>`` (never your API key) and is retried like
        any call. If it fails, the error (a ``MeshAPIError`` subclass) has ``file_id`` and says that the
        record exists without content. ``extra_headers`` apply to the registration call only.
        """
        opts = call_options(options)
        data = read_content(content)  # a bad path fails before a file record is created
        created = await self.init_upload(
            file_name=file_name,
            mime_type=mime_type,
            embed=embed,
            metadata=metadata,
            **options,
        )
        try:
            await async_signed_put(self._http, created.signed_url, data, mime_type, opts)
        except MeshAPIError as exc:
            raise upload_failed(exc, created.file_id) from exc.__cause__
        return created

    async def wait_until_ready(
        self,
        file_id: str,
        *,
        timeout: float = 120.0,
        poll_interval: float = 1.0,
        until: str = "embedded",
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> RagFileStatus:
        """Poll :meth:`get` until the file is searchable (``until="embedded"``: ``embedding_status``
        ``ready``) or stored (``until="uploaded"``: ``upload_status`` ``ready``); return its status.

        Raises ``ProcessingFailedError`` when the file fails (``error_code`` is its
        ``last_error_code``) and ``WaitTimeoutError`` (an ``APITimeoutError``, with the last status
        in ``.last``) when ``timeout`` seconds pass first. A file registered with ``embed=False`` is
        only embedded after :meth:`embed`. Polls start 0.25 s apart and double up to ``poll_interval``.
        """
        check_wait_args(timeout, poll_interval)
        _check_until(until)
        return await async_poll_until(
            lambda: self.get(file_id, extra_headers=extra_headers),
            lambda status: _ready(status, until, file_id),
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda status: _timed_out(file_id, status, until, timeout),
        )

    def iter_files(
        self, page_size: int = 50, *, extra_headers: Optional[Mapping[str, str]] = None
    ) -> AsyncIterator[RagFileStatus]:
        """Every file, fetching pages of ``page_size`` (1-200) lazily by ``offset``."""
        _check_page_size(page_size)
        return self._pages(page_size, extra_headers)

    async def _pages(
        self, page_size: int, extra_headers: Optional[Mapping[str, str]]
    ) -> AsyncIterator[RagFileStatus]:
        offset = 0
        while True:
            page = await self.list(page_size, offset, extra_headers=extra_headers)
            for item in page.files:
                yield item
            offset += len(page.files)
            if not page.files or offset >= page.total:
                return


class RagViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``RagResource`` and its twin."""

    init_upload = view(RagResource.init_upload, AsyncRagResource.init_upload)
    list = view(RagResource.list, AsyncRagResource.list)
    get = view(RagResource.get, AsyncRagResource.get)
    embed = view(RagResource.embed, AsyncRagResource.embed)
    search = view(RagResource.search, AsyncRagResource.search)
    upload_file = view(RagResource.upload_file, AsyncRagResource.upload_file)
    wait_until_ready = view(RagResource.wait_until_ready, AsyncRagResource.wait_until_ready)
