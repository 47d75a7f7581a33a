"""Which headers a request carries: the client's own set, a call's additions, and what a call takes away.

Split from ``meshapi._transport.base`` (which builds the request around them) so the header rules read in
one place: the token, ``X-MeshAPI-SDK``, ``X-Mesh-Version``, ``x-mem-id`` and ``X-Mesh-Cache`` of the
client; ``MESHAPI_CUSTOM_HEADERS`` under the explicit ``default_headers``; per call the stream ``Accept``,
the idempotency key of a POST, the caller's ``X-Request-Id``, a pinned version / memory / cache choice and
``extra_headers`` last. No I/O here.
"""

from __future__ import annotations

from typing import Dict, MutableMapping

from .._api_version import API_VERSION_HEADER
from .._config import MeshAPIConfig, custom_headers_from_env
from .._core.request import RequestOptions, new_idempotency_key
from .._memory import MEMORY_HEADER, memory_header
from .._response_cache import NO_STORE, RESPONSE_CACHE_HEADER
from .._version import __version__
from .hooks import RETRY_COUNT_HEADER

__all__ = ["SDK_HEADER_VALUE", "call_headers", "client_headers", "drop_unpinned"]

SDK_HEADER_VALUE = f"python/{__version__}"


def client_headers(config: MeshAPIConfig) -> Dict[str, str]:
    """The headers every request of a client with ``config`` carries (a call's own go over them)."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-MeshAPI-SDK": SDK_HEADER_VALUE,
        RETRY_COUNT_HEADER: "0",
    }
    if not callable(config.token):
        headers["Authorization"] = f"Bearer {config.token}"
    if config.api_version is not None:
        headers[API_VERSION_HEADER] = config.api_version
    if config.memory:
        headers[MEMORY_HEADER] = memory_header(tuple(config.memory))
    if not config.response_cache:
        headers[RESPONSE_CACHE_HEADER] = NO_STORE
    headers.update(custom_headers_from_env())  # under the explicit default headers
    if config.default_headers:
        headers.update(config.default_headers)
    return headers


def call_headers(method: str, options: RequestOptions, stream: bool) -> Dict[str, str]:
    """One call's own headers, sent over the client's."""
    headers: Dict[str, str] = {}
    if stream:
        headers["Accept"] = "text/event-stream"
    if method == "POST":
        headers["Idempotency-Key"] = new_idempotency_key()
    if options.request_id is not None:
        headers["X-Request-Id"] = options.request_id
    if options.api_version is not None:  # only set when the call pins its own (pins_version)
        headers[API_VERSION_HEADER] = options.api_version
    if options.memory:  # only set when the call names its own (pins_memory)
        headers[MEMORY_HEADER] = memory_header(options.memory)
    if options.response_cache is False:
        headers[RESPONSE_CACHE_HEADER] = NO_STORE
    if options.extra_headers:
        headers.update(options.extra_headers)
    return headers


def drop_unpinned(headers: MutableMapping[str, str], options: RequestOptions) -> None:
    """Remove from the merged ``headers`` the client's headers this call asked to go without."""
    if options.pins_version and options.api_version is None:
        headers.pop(API_VERSION_HEADER, None)  # this call asked for no version header
    if options.pins_memory and not options.memory:
        headers.pop(MEMORY_HEADER, None)  # this call asked for no memory
    if options.response_cache:
        headers.pop(RESPONSE_CACHE_HEADER, None)  # this call uses the cache the client opted out of
