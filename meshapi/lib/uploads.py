"""The PUT of ``rag.upload_file()``: raw bytes to a signed storage URL, through the SDK's own client.

0.1.4 sent this PUT with a throwaway ``httpx`` client: proxies, transports and mocks configured on the
SDK were bypassed, nothing was retried and a failure surfaced as ``httpx.HTTPStatusError``. Here the PUT
goes through the same ``httpx`` client (and timeout) as every other call, is retried on the same
retryable failures (connection errors, 429/502/503/504) and fails with a ``MeshAPIError`` subclass.

The signed URL is its own credential: the request carries only ``Content-Type`` (plus what the
``httpx`` client itself adds), never the SDK's ``Authorization``, ``X-MeshAPI-SDK`` or default headers,
and an ``Authorization`` header configured on an injected ``httpx`` client is removed as well.

The sending itself is the transport's ``send_url()`` (the same retry loop as every other call).
"""

from __future__ import annotations

import io
import os
import pathlib
from typing import IO, Union

import httpx

from .._core.request import RequestOptions
from .._errors import InvalidParamsError, MeshAPIError
from .._transport.client import AsyncHttpClient, SyncHttpClient

__all__ = ["UploadContent", "read_content", "signed_put", "async_signed_put", "upload_failed"]

UploadContent = Union[bytes, bytearray, memoryview, str, os.PathLike[str], IO[bytes]]


def read_content(content: object) -> bytes:
    """The bytes to upload: ``bytes``-like as is, a ``str`` / ``Path`` is read from disk, a binary file
    object is read to its end. The whole body is held in memory so a retry can resend it."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    if isinstance(content, (str, os.PathLike)):
        path = pathlib.Path(os.fspath(content))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise InvalidParamsError(
                f"content: cannot read the file {str(path)!r}: {exc.strerror or exc}"
            ) from None
    read = getattr(content, "read", None)
    if callable(read):
        if isinstance(content, io.TextIOBase):
            raise InvalidParamsError("content: open the file in binary mode ('rb'), not text mode")
        data = read()
        if isinstance(data, str):
            raise InvalidParamsError("content: the file object returned text; open it in binary mode ('rb')")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidParamsError(f"content: read() returned {type(data).__name__}, expected bytes")
        return bytes(data)
    raise InvalidParamsError(
        f"content must be bytes, a file path (str or pathlib.Path) or a binary file object, got {type(content).__name__}"
    )


def upload_failed(error: MeshAPIError, file_id: str) -> MeshAPIError:
    """``error`` (the PUT's failure) reworded to say the file record exists without content."""
    error.message = (
        f"Uploading the content of file {file_id!r} failed: {error.message}. The file record {file_id!r} "
        "exists on the gateway without content; call upload_file() again (a new record is created) "
        "and ignore this one."
    )
    error.args = (error.message,)
    error.file_id = file_id  # type: ignore[attr-defined]
    return error


def signed_put(
    http: SyncHttpClient, url: str, data: bytes, mime_type: str, options: RequestOptions
) -> httpx.Response:
    """PUT ``data`` to the signed ``url`` (no API key), with the transport's retries; 2xx or a typed error."""
    return http.send_url("PUT", url, content=data, headers={"Content-Type": mime_type}, options=options)


async def async_signed_put(
    http: AsyncHttpClient, url: str, data: bytes, mime_type: str, options: RequestOptions
) -> httpx.Response:
    """Asyncio twin of :func:`signed_put`."""
    return await http.send_url("PUT", url, content=data, headers={"Content-Type": mime_type}, options=options)
