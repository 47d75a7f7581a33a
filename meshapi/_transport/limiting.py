"""The client's ``limiter=`` (``meshapi.RateLimiter``) around each attempt: the one place that asks it.

``meshapi._transport.hooks.start_attempt`` (and its async twin) calls :func:`limit` / :func:`alimit` first,
before the token and the time left are set, for every attempt (each retry is a request of its own); the
send loops settle the :class:`Grant` once the answer is known (``hooks.attempt_answered`` /
``attempt_failed``): a non-streamed reply releases it at once, with the tokens its ``usage`` reports; a
stream holds it (its concurrency slot) until its body is closed.
An adaptive limiter's first caller fetches ``GET /v1/usage/rate-limits`` first (:func:`seed`; that request
waits for the limiter too). A call's ``total_timeout`` bounds the wait (``deadline_error`` at it, the
caller out of the queue). Time spent waiting is a DEBUG line on the ``meshapi`` logger and, when tracing,
a ``meshapi.rate_limiter.wait`` event on the call's span (``meshapi._transport.otel.add_wait``).
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Iterator, Optional

import httpx

from .._core.rate_limit import Ticket, estimate_tokens, tokens_used
from .._core.request import RequestOptions
from .._core.retry import RetryState
from .._core.timeouts import deadline_error
from .._errors import MeshAPIError
from .._rate_limiter import RateLimiter
from . import otel as _otel

__all__ = ["RATE_LIMITS_PATH", "Grant", "alimit", "give_back", "limit", "seed"]

log = logging.getLogger("meshapi")

RATE_LIMITS_PATH = "/v1/usage/rate-limits"
_NO_OPTIONS = RequestOptions()


def _tokens(limiter: RateLimiter, request: httpx.Request) -> int:
    """What the request is charged before sending (only when the limiter counts tokens)."""
    if limiter.core.tpm is None:
        return 1
    try:
        body = json.loads(request.content) if request.content else None
    except ValueError:  # not JSON (an upload): its size stands for it
        return max(1, len(request.content) // 4)
    return estimate_tokens(body)


def _waited(request: httpx.Request, state: RetryState, ticket: Ticket) -> None:
    if ticket.waited <= 0.0:
        return
    log.debug(
        "%s %s waited %.3fs for the rate limiter (%d ahead of it)",
        request.method,
        request.url.path,
        ticket.waited,
        ticket.position,
    )
    if state.span is not None:
        _otel.add_wait(state.span, ticket.waited, ticket.position)


class Grant:
    """One attempt's grant from the limiter, settled once its answer is known."""

    __slots__ = ("limiter", "ticket")

    def __init__(self, limiter: RateLimiter, ticket: Ticket) -> None:
        self.limiter = limiter
        self.ticket = ticket

    def settle(self, response: Optional[httpx.Response], stream: bool) -> None:
        """Release the grant (``response`` ``None``: the attempt failed in transport); an open 2xx stream
        releases it when its body is closed, a reply with the tokens its ``usage`` reports."""
        limiter, ticket = self.limiter, self.ticket
        if response is None:
            limiter.release(ticket)
            return
        status = response.status_code
        if stream and status < 300 and not response.is_closed:
            response.stream = _Held(response.stream, limiter, ticket, status)
            return
        used = None
        if limiter.core.tpm is not None and status < 300 and not stream:
            try:
                used = tokens_used(json.loads(response.content))
            except ValueError:
                used = None
        limiter.release(ticket, used=used, status=status)


def limit(http: Any, request: httpx.Request, state: RetryState) -> Grant:
    """Wait (blocking) for the grant of this attempt from ``http``'s limiter (an adaptive one started
    first from the published limits, by its first caller)."""
    limiter: RateLimiter = http.config.limiter
    if _wants_seed(limiter):
        try:
            args = http._build("GET", RATE_LIMITS_PATH, None, None, _NO_OPTIONS, False)
            seed(limiter, http._send_with_retries(*args, stream=False))
        except MeshAPIError:
            seed(limiter, None)
    try:
        ticket = limiter.acquire(_tokens(limiter, request), timeout=state.remaining())
    except TimeoutError:
        raise deadline_error() from None
    _waited(request, state, ticket)
    return Grant(limiter, ticket)


async def alimit(http: Any, request: httpx.Request, state: RetryState) -> Grant:
    """The async twin of :func:`limit`."""
    limiter: RateLimiter = http.config.limiter
    if _wants_seed(limiter):
        try:
            args = http._build("GET", RATE_LIMITS_PATH, None, None, _NO_OPTIONS, False)
            seed(limiter, await http._send_with_retries(*args, stream=False))
        except MeshAPIError:
            seed(limiter, None)
    try:
        ticket = await limiter.aacquire(_tokens(limiter, request), timeout=state.remaining())
    except TimeoutError:
        raise deadline_error() from None
    _waited(request, state, ticket)
    return Grant(limiter, ticket)


def give_back(grant: Optional[Grant]) -> None:
    """An attempt that took a grant and then failed before sending (a hook, the token provider)."""
    if grant is not None:
        grant.settle(None, False)


def _wants_seed(limiter: RateLimiter) -> bool:
    """True once for an adaptive limiter: this caller fetches the rate limits first."""
    return not limiter.core.seed_claimed and limiter.core.claim_seed()


def seed(limiter: RateLimiter, response: Optional[httpx.Response]) -> None:
    """Start an adaptive limiter from the rate-limits answer (``None`` or an error: the configured limits)."""
    payload = None
    if response is not None and response.status_code < 300:
        try:
            payload = json.loads(response.content)
        except ValueError:
            payload = None
    if payload is None:
        log.debug("rate limiter: %s unavailable; the configured limits stay", RATE_LIMITS_PATH)
        return
    limiter.core.seed(payload)
    log.debug("rate limiter: started from %s (rpm %s, tpm %s)", RATE_LIMITS_PATH, limiter.rpm, limiter.tpm)


class _Held(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed body whose grant is released when it is closed (the stream's concurrency slot)."""

    def __init__(self, inner: Any, limiter: RateLimiter, ticket: Ticket, status: int) -> None:
        self._inner = inner
        self._limiter = limiter
        self._ticket = ticket
        self._status = status

    def __iter__(self) -> Iterator[bytes]:
        yield from self._inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._limiter.release(self._ticket, status=self._status)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._limiter.release(self._ticket, status=self._status)
