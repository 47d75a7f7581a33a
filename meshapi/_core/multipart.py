"""``multipart/form-data`` bodies built once, as bytes: pure code, no I/O.

Uploads (audio transcription and translation) go through the same retry loop as every other call, so
the body must be replayable: it is encoded here to ``bytes`` once and the same bytes are resent on each
attempt (with the same ``Idempotency-Key``). 0.1.12 handed httpx a file object instead, did not retry,
and sent every form value as ``str(value)`` (a list became ``"['a', 'b']"``, a boolean ``"True"``).

Field values are encoded as a form-reading server expects:

* ``None`` is left out;
* ``True``/``False`` become ``true``/``false``;
* a list or tuple of scalars becomes one repeated field per item (``keyterms=a``, ``keyterms=b``);
* a dict, or a list holding dicts or lists, becomes its JSON text;
* anything else becomes ``str(value)``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from .._errors import InvalidParamsError

__all__ = ["FilePart", "MultipartBody", "encode_multipart", "form_values"]


@dataclass(frozen=True)
class FilePart:
    """One uploaded file: the form field name, the file name sent, its bytes and content type."""

    field: str
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class MultipartBody:
    """An encoded body and the ``Content-Type`` header (with its boundary) that goes with it."""

    content: bytes
    content_type: str


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def form_values(value: Any) -> List[str]:
    """The form values one field contributes (empty for ``None``); see the module docstring."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [json.dumps(value, separators=(",", ":"), ensure_ascii=False)]
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (Mapping, list, tuple)) for item in value):
            return [json.dumps(list(value), separators=(",", ":"), ensure_ascii=False)]
        return [_scalar(item) for item in value if item is not None]
    return [_scalar(value)]


def _quote(text: str) -> str:
    # RFC 7578 section 4.2: a quoted name; quotes and line breaks percent-encoded as browsers do
    return text.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidParamsError(f"form field names must be non-empty strings, got {name!r}")


def _parts(fields: Mapping[str, Any], files: Sequence[FilePart]) -> Iterator[Tuple[str, bytes]]:
    for name, value in fields.items():
        _check_name(name)
        for item in form_values(value):
            yield f'Content-Disposition: form-data; name="{_quote(name)}"', item.encode("utf-8")
    for part in files:
        _check_name(part.field)
        if not isinstance(part.data, (bytes, bytearray, memoryview)):
            raise InvalidParamsError(
                f"file must be bytes (read the file first, e.g. Path(...).read_bytes()), "
                f"got {type(part.data).__name__}"
            )
        header = (
            f'Content-Disposition: form-data; name="{_quote(part.field)}"; filename="{_quote(part.filename)}"'
            f"\r\nContent-Type: {part.content_type}"
        )
        yield header, bytes(part.data)


def encode_multipart(
    fields: Mapping[str, Any], files: Sequence[FilePart] = (), *, boundary: Optional[str] = None
) -> MultipartBody:
    """Encode ``fields`` and ``files`` into one ``multipart/form-data`` body (bytes, replayable)."""
    chunks: List[bytes] = []
    parts = list(_parts(fields, files))
    boundary = boundary or f"meshapi-{os.urandom(12).hex()}"
    marker = f"--{boundary}".encode("ascii")
    for headers, payload in parts:
        if marker in payload:  # cannot happen with a random boundary unless chosen by the caller
            raise InvalidParamsError("the multipart boundary occurs inside a part; choose another")
        chunks.extend((marker, b"\r\n", headers.encode("utf-8"), b"\r\n\r\n", payload, b"\r\n"))
    chunks.extend((marker, b"--\r\n"))
    return MultipartBody(b"".join(chunks), f"multipart/form-data; boundary={boundary}")
