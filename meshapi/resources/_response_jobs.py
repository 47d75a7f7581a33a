"""``client.responses``' background responses: ``get()``, ``list()``, ``cancel()`` and ``wait()``, as
mixins the classes of ``responses.py`` inherit.

Why a module of its own: these methods manage responses made with ``background=True`` rather than make
one, and they share helpers of their own (the id taken from a response or given as is, the wait's
time-out error); apart, ``responses.py`` stays under the size limit. Its ``TERMINAL_RESPONSE_STATUSES``
and its path are defined here (it re-exports the first and sends to the second).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Optional, Union

from .._core.request import CallOptions, call_options, path_param
from .._errors import InvalidParamsError
from .._transport.client import AsyncHttpClient, SyncHttpClient
from ..lib.polling import Deadline, WaitTimeoutError, async_poll_until, check_wait_args, poll_until
from ..types.responses import ResponsesListResponse, ResponsesResponse
from ._base import Unpack, cursor_query, spell_out_keywords

__all__ = ["PATH", "TERMINAL_RESPONSE_STATUSES", "AsyncResponseJobs", "ResponseJobs"]

PATH = "/v1/responses"  # responses.py's _PATH
#: The statuses a response does not leave; ``wait()`` returns at the first of them.
TERMINAL_RESPONSE_STATUSES = frozenset({"completed", "incomplete", "failed", "cancelled"})


def _response_path(response_id: str, suffix: str = "") -> str:
    return f"{PATH}/{path_param(response_id, name='response_id')}{suffix}"


def _id_of(response: Union[str, ResponsesResponse]) -> str:
    """The id of ``response`` (an id, or a response such as ``create(background=True)`` returned)."""
    if isinstance(response, ResponsesResponse):
        if response.id is None:
            raise InvalidParamsError("this response has no id: it cannot be fetched or cancelled")
        return response.id
    return response


def _timed_out(response_id: str, last: Optional[ResponsesResponse], timeout: float) -> WaitTimeoutError:
    status = last.status if last is not None else None
    return WaitTimeoutError(
        f"Response {response_id!r} did not finish within {timeout:g}s (last status: {status!r}); "
        "it keeps running on the gateway: wait again or cancel it.",
        last=last,
        resource_id=response_id,
    )


class ResponseJobs:
    """``ResponsesResource``'s methods for background responses."""

    if TYPE_CHECKING:
        _http: SyncHttpClient  # SyncAPIResource's

    def get(
        self,
        response_id: str,
        **options: Unpack[CallOptions],
    ) -> ResponsesResponse:
        """Fetch one response (``GET /v1/responses/{response_id}``), e.g. to poll a background job."""
        path = _response_path(response_id)
        return self._http.request_model(
            ResponsesResponse,
            "GET",
            path,
            options=call_options(options),
        )

    def list(
        self,
        *,
        after: Optional[str] = None,
        limit: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> ResponsesListResponse:
        """List stored (background) responses (``GET /v1/responses``), newest first; page with ``after``."""
        return self._http.request_model(
            ResponsesListResponse,
            "GET",
            PATH,
            params=cursor_query(after, limit),
            options=call_options(options),
        )

    def cancel(
        self,
        response_id: Union[str, ResponsesResponse],
        **options: Unpack[CallOptions],
    ) -> ResponsesResponse:
        """Cancel a background response (``POST /v1/responses/{response_id}/cancel``); returns it.

        ``response_id``: the id, or the response itself (what ``create(background=True)`` returned).

        A queued or in-progress response becomes ``cancelled``; a finished one comes back unchanged. A
        response not created with ``background=True`` is a ``BadRequestError``.
        """
        return self._http.request_model(
            ResponsesResponse,
            "POST",
            _response_path(_id_of(response_id), "/cancel"),
            options=call_options(options),
        )

    def wait(
        self,
        response_id: Union[str, ResponsesResponse],
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ResponsesResponse:
        """Poll :meth:`get` until a background response is terminal (``completed``, ``incomplete``,
        ``failed``, ``cancelled``) and return it; ``response_id`` is the id or the response itself.
        ``timeout`` is the overall deadline in seconds; past it
        ``WaitTimeoutError`` (an ``APITimeoutError``) is raised with the last response seen in ``.last``.
        A failed or cancelled response is returned, not raised: check ``.status``. Polls start 0.25 s
        apart and double up to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        response_id = _id_of(response_id)
        return poll_until(
            lambda: self.get(response_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_RESPONSE_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(response_id, last, timeout),
        )


class AsyncResponseJobs:
    """``AsyncResponsesResource``'s methods for background responses."""

    if TYPE_CHECKING:
        _http: AsyncHttpClient  # AsyncAPIResource's

    async def get(
        self,
        response_id: str,
        **options: Unpack[CallOptions],
    ) -> ResponsesResponse:
        """Fetch one response (``GET /v1/responses/{response_id}``), e.g. to poll a background job."""
        path = _response_path(response_id)
        return await self._http.request_model(
            ResponsesResponse,
            "GET",
            path,
            options=call_options(options),
        )

    async def list(
        self,
        *,
        after: Optional[str] = None,
        limit: Optional[int] = None,
        **options: Unpack[CallOptions],
    ) -> ResponsesListResponse:
        """List stored (background) responses (``GET /v1/responses``), newest first; page with ``after``."""
        return await self._http.request_model(
            ResponsesListResponse,
            "GET",
            PATH,
            params=cursor_query(after, limit),
            options=call_options(options),
        )

    async def cancel(
        self,
        response_id: Union[str, ResponsesResponse],
        **options: Unpack[CallOptions],
    ) -> ResponsesResponse:
        """Cancel a background response (``POST /v1/responses/{response_id}/cancel``); returns it.

        ``response_id``: the id, or the response itself (what ``create(background=True)`` returned).

        A queued or in-progress response becomes ``cancelled``; a finished one comes back unchanged. A
        response not created with ``background=True`` is a ``BadRequestError``.
        """
        return await self._http.request_model(
            ResponsesResponse,
            "POST",
            _response_path(_id_of(response_id), "/cancel"),
            options=call_options(options),
        )

    async def wait(
        self,
        response_id: Union[str, ResponsesResponse],
        *,
        timeout: float = 600.0,
        poll_interval: float = 2.0,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ResponsesResponse:
        """Poll :meth:`get` until a background response is terminal (``completed``, ``incomplete``,
        ``failed``, ``cancelled``) and return it; ``response_id`` is the id or the response itself.
        ``timeout`` is the overall deadline in seconds; past it
        ``WaitTimeoutError`` (an ``APITimeoutError``) is raised with the last response seen in ``.last``.
        A failed or cancelled response is returned, not raised: check ``.status``. Polls start 0.25 s
        apart and double up to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        response_id = _id_of(response_id)
        return await async_poll_until(
            lambda: self.get(response_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_RESPONSE_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(response_id, last, timeout),
        )


for _mixin in (ResponseJobs, AsyncResponseJobs):  # help() lists their options by name, as a resource's
    spell_out_keywords(_mixin)
