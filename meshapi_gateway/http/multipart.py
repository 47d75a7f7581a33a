"""A small ``multipart/form-data`` reader for the audio upload routes (no extra dependency).

Starlette's own form parser needs ``python-multipart``; the gateway only has to read a few fields and
one file part from bodies it already holds in memory, which this module does. A body that does not
parse is a ``400 invalid_request``, as upstream answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..errors import ApiError

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class FilePart:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    fields: Dict[str, List[str]] = field(default_factory=dict)
    files: Dict[str, FilePart] = field(default_factory=dict)

    def get(self, name: str) -> Optional[str]:
        values = self.fields.get(name)
        return values[-1] if values else None

    def getlist(self, name: str) -> List[str]:
        return list(self.fields.get(name, []))


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def parse_form(content_type: str, body: bytes) -> Form:
    """Parse a ``multipart/form-data`` body (raises ``ApiError`` 400 when it is not one)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise _bad("Expected a multipart/form-data body.")
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise _bad("The multipart body has no boundary.")
    delimiter = b"--" + match.group(1).encode("latin-1")
    form = Form()
    sections = body.split(delimiter)
    if len(sections) < 3:
        raise _bad("The multipart body has no parts.")
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        section = section[2:] if section.startswith(b"\r\n") else section
        head, sep, content = section.partition(b"\r\n\r\n")
        if not sep:
            raise _bad("A multipart part has no header block.")
        content = content[:-2] if content.endswith(b"\r\n") else content
        headers: Dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        params: Dict[str, str] = dict(_DISPOSITION.findall(headers.get("content-disposition", "")))
        name = params.get("name", "")
        if not name:
            raise _bad("A multipart part has no name.")
        if "filename" in params:
            kind = headers.get("content-type", "application/octet-stream")
            form.files[name] = FilePart(params["filename"], kind, content)
        else:
            form.fields.setdefault(name, []).append(content.decode("utf-8", "replace"))
    return form
