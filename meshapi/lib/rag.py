"""RAG file helpers behind ``client.rag``: status checks, the wait loop and the page walk.

The wait and page helpers are mixins of ``RagResource`` / ``AsyncRagResource`` (sync and async twins
side by side) so ``meshapi.resources.rag`` holds only the endpoint methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, AsyncIterator, Dict, Iterator, Mapping, Optional

from .._core.request import path_param
from .._errors import InvalidParamsError
from ..types.rag import RagFileListResponse, RagFileStatus
from .polling import Deadline, ProcessingFailedError, WaitTimeoutError, check_wait_args

if TYPE_CHECKING:
    from .._transport.client import AsyncHttpClient, SyncHttpClient

__all__ = ["EMBEDDED_STATUSES", "UPLOADED_STATUSES", "AsyncRagWaitMixin", "RagWaitMixin"]

_PATH = "/v1/files"
# ``ready`` is authoritative; the others appear in generated API-reference examples (API.md §5.3).
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


class RagWaitMixin:
    if TYPE_CHECKING:  # provided by RagResource
        _http: SyncHttpClient

        def get(
            self, file_id: str, *, extra_headers: Optional[Mapping[str, str]] = None
        ) -> RagFileStatus: ...

        def list(
            self,
            limit: Optional[int] = None,
            offset: Optional[int] = None,
            *,
            extra_headers: Optional[Mapping[str, str]] = None,
        ) -> RagFileListResponse: ...

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
        deadline = Deadline(timeout, poll_interval)
        while True:
            status = self.get(file_id, extra_headers=extra_headers)
            if _ready(status, until, file_id):
                return status
            delay = deadline.next_sleep()
            if delay is None:
                raise _timed_out(file_id, status, until, timeout)
            self._http._sleep(delay)

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


class AsyncRagWaitMixin:
    if TYPE_CHECKING:  # provided by AsyncRagResource
        _http: AsyncHttpClient

        async def get(
            self, file_id: str, *, extra_headers: Optional[Mapping[str, str]] = None
        ) -> RagFileStatus: ...

        async def list(
            self,
            limit: Optional[int] = None,
            offset: Optional[int] = None,
            *,
            extra_headers: Optional[Mapping[str, str]] = None,
        ) -> RagFileListResponse: ...

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
        deadline = Deadline(timeout, poll_interval)
        while True:
            status = await self.get(file_id, extra_headers=extra_headers)
            if _ready(status, until, file_id):
                return status
            delay = deadline.next_sleep()
            if delay is None:
                raise _timed_out(file_id, status, until, timeout)
            await self._http._sleep(delay)

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
