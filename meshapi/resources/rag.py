"""``client.rag``: files for retrieval (``/v1/files``): register, upload, embed, poll, search.

Beyond 0.1.4: ``upload_file`` sends its PUT through the SDK's own ``httpx`` client (retried, typed
errors, never the bearer token), accepts a path or a binary file object as ``content``;
``wait_until_ready`` polls a file until it is embedded (or uploaded); ``iter_files`` walks every page.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .._core.request import CallOptions, call_options, coerce_params, dump_body, split_options
from .._errors import MeshAPIError
from ..lib.rag import (
    _PATH,
    EMBEDDED_STATUSES,
    UPLOADED_STATUSES,
    AsyncRagWaitMixin,
    RagWaitMixin,
    _file_path,
    _list_query,
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
from ._base import AsyncAPIResource, SyncAPIResource, Unpack

__all__ = ["EMBEDDED_STATUSES", "UPLOADED_STATUSES", "AsyncRagResource", "RagResource"]


class InitUploadArgs(InitUploadFields, CallOptions, total=False):
    """The keywords of the methods that take a ``InitUploadRequest``: its fields and the per-call options."""


class BulkEmbedArgs(BulkEmbedFields, CallOptions, total=False):
    """The keywords of the methods that take a ``BulkEmbedRequest``: its fields and the per-call options."""


class SearchArgs(SearchFields, CallOptions, total=False):
    """The keywords of the methods that take a ``SearchRequest``: its fields and the per-call options."""


class RagResource(RagWaitMixin, SyncAPIResource):
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


class AsyncRagResource(AsyncRagWaitMixin, AsyncAPIResource):
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
