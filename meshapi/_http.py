"""The 0.1.4 / 0.1.12 import path ``meshapi._http``, kept for code written against those releases.

Re-exports only (and the post-0.1.12 private names ``_SDK_VERSION_VALUE`` and ``_frame_request_id`` as
aliases): the transport lives in ``meshapi._transport``, settings in ``meshapi._config`` and
decoding in ``meshapi._core.response``. Nothing inside the package imports this module.
"""

from ._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MeshAPIConfig,
    RedactedStr,
    redact_token,
    resolve_settings,
)
from ._core.frames import DONE_SENTINEL as _DONE_SENTINEL
from ._core.frames import _iter_sse, _try_parse_sse_frame
from ._core.response import (
    ListResponse,
    map_transport_error,
    parse_json_response,
    parse_list,
    stream_error_from_frame,
    validate_model,
)
from ._core.response import (
    frame_request_id as _frame_request_id,
)
from ._transport.base import ASYNC_DEFAULT_LIMITS, DEFAULT_LIMITS, MAX_BODY_BYTES, SDK_HEADER_VALUE
from ._transport.client import AsyncHttpClient, SyncHttpClient

#: The name the official SDK gave the ``X-MeshAPI-SDK`` value after 0.1.12 (``python/<version>``).
_SDK_VERSION_VALUE = SDK_HEADER_VALUE

__all__ = [
    "ASYNC_DEFAULT_LIMITS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_BODY_BYTES",
    "SDK_HEADER_VALUE",
    "AsyncHttpClient",
    "ListResponse",
    "MeshAPIConfig",
    "RedactedStr",
    "SyncHttpClient",
    "map_transport_error",
    "parse_json_response",
    "parse_list",
    "redact_token",
    "resolve_settings",
    "stream_error_from_frame",
    "validate_model",
    "_DONE_SENTINEL",
    "_SDK_VERSION_VALUE",
    "_frame_request_id",
    "_iter_sse",
    "_try_parse_sse_frame",
]
