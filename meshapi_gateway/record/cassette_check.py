"""Every line of a cassette checked as it is loaded, so a broken or hostile file fails at start-up.

A cassette is a file anyone can edit, and replay sends what it says to the HTTP server almost as it is.
Unchecked, a line could crash start-up with a raw traceback (``1e400``, ``Infinity``, JSON nested
100,000 deep), or load and then answer with a 500 (a status of ``"abc"``), a dropped connection (a
status of 101, a header value with a line break, a ``content-length`` that does not match the body, a
body on a 204), an empty 200 (a chunk with neither ``text`` nor ``b64``) or a wait of ``1e300`` ms.

:func:`parse_exchange` turns one line into an exchange that replay can send as it is, or raises
:class:`BadExchange` with one line saying what is wrong; ``Cassette`` adds the file and line number.
The JSON itself is read by the same strict, bounded parser as request bodies (``http/json_input.py``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, Dict

from ..http.json_input import BadJson, parse_request_json

__all__ = ["MAX_CHUNK_MS", "BadExchange", "parse_exchange"]

#: Latest time (ms after the request) a recorded chunk may be due: the proxy's upstream timeout.
MAX_CHUNK_MS = 600_000
VERSION = 1

_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_LENGTH = re.compile(r"[0-9]{1,18}")
_METHOD = re.compile(r"[A-Za-z]{1,16}")
#: What the HTTP server can send as a header value: no control characters, no surrounding blanks.
_HEADER_VALUE = re.compile(r"(?:[^\x00-\x20\x7f]+(?:[ \t]+[^\x00-\x20\x7f]+)*)?")
#: Headers of the connection, not of the reply: the recorder never keeps them, replay never sends them.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
#: Statuses whose reply has no body.
_NO_BODY = frozenset({204, 304})


class BadExchange(ValueError):
    """One line of a cassette that is not a recorded exchange replay can send (the message says why)."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _base64(text: Any, where: str) -> bytes:
    if not isinstance(text, str):
        raise BadExchange(f"{where} must be base64 text, got {_show(text)}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadExchange(f"{where} is not valid base64") from None


def _check_request(request: Any) -> None:
    if not isinstance(request, dict):
        raise BadExchange(f"'request' must be an object, got {_show(request)}")
    method = request.get("method")
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise BadExchange(f"'request.method' must be an HTTP method name, got {_show(method)}")
    path = request.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadExchange(f"'request.path' must be a string starting with '/', got {_show(path)}")
    for name in ("query", "content_type"):
        if not isinstance(request.get(name, ""), str):
            raise BadExchange(f"'request.{name}' must be a string, got {_show(request[name])}")
    if "body_b64" in request:
        _base64(request["body_b64"], "'request.body_b64'")


def _check_headers(headers: Any) -> Dict[str, str]:
    if not isinstance(headers, dict):
        raise BadExchange(f"'response.headers' must be an object, got {_show(headers)}")
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise BadExchange(f"response header name {_show(name)} is not a valid header name")
        if name.lower() in _HOP_BY_HOP:
            raise BadExchange(f"response header {name!r} belongs to the connection and is never replayed")
        if not isinstance(value, str):
            raise BadExchange(f"response header {name!r} must be a string, got {_show(value)}")
        if not _HEADER_VALUE.fullmatch(value) or not _latin1(value):
            raise BadExchange(
                f"response header {name!r} has a value HTTP cannot carry "
                "(line breaks, control characters, surrounding blanks or non-Latin-1 text)"
            )
    return headers


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _body_size(chunks: Any) -> int:
    """The number of body bytes ``chunks`` hold (``BadExchange`` when one of them is malformed)."""
    if not isinstance(chunks, list):
        raise BadExchange(f"'response.chunks' must be a list, got {_show(chunks)}")
    size = 0
    for index, chunk in enumerate(chunks, 1):
        where = f"chunk {index}"
        if not isinstance(chunk, dict) or ("text" in chunk) == ("b64" in chunk):
            raise BadExchange(f"{where} must be an object with either 'text' or 'b64'")
        ms = chunk.get("ms", 0)
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms <= MAX_CHUNK_MS:
            raise BadExchange(f"{where}: 'ms' must be a number from 0 to {MAX_CHUNK_MS}, got {_show(ms)}")
        if "b64" in chunk:
            size += len(_base64(chunk["b64"], f"{where}: 'b64'"))
        elif isinstance(chunk["text"], str):
            size += len(chunk["text"].encode("utf-8"))
        else:
            raise BadExchange(f"{where}: 'text' must be a string, got {_show(chunk['text'])}")
    return size


def _check_response(response: Any) -> None:
    if not isinstance(response, dict):
        raise BadExchange(f"'response' must be an object, got {_show(response)}")
    status = response.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise BadExchange(f"'response.status' must be an integer from 200 to 599, got {_show(status)}")
    headers = _check_headers(response.get("headers", {}))
    size = _body_size(response.get("chunks", []))
    if status in _NO_BODY and size:
        raise BadExchange(f"a {status} reply has no body, but the chunks hold {size} bytes")
    for name, length in headers.items():
        if name.lower() != "content-length" or length == str(size):
            continue
        # a reply the upstream cut ("complete": false) is replayed cut: fewer bytes than announced
        cut = response.get("complete") is False and _LENGTH.fullmatch(length) and size < int(length)
        if not cut:
            raise BadExchange(
                f"response header {name!r} says {_show(length)}, but the chunks hold {size} bytes"
            )
    request_id = response.get("request_id")
    if request_id is not None and not isinstance(request_id, str):
        raise BadExchange(f"'response.request_id' must be a string or null, got {_show(request_id)}")
    for name in ("streamed", "complete"):
        if not isinstance(response.get(name, False), bool):
            raise BadExchange(f"'response.{name}' must be true or false, got {_show(response[name])}")


def parse_exchange(line: bytes) -> Dict[str, Any]:
    """One cassette line as an exchange replay can send, or :class:`BadExchange`."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadExchange("not UTF-8 text") from None
    exchange = parse_request_json(line)
    if isinstance(exchange, BadJson):
        raise BadExchange(f"not valid JSON ({exchange.error.msg})")
    if not isinstance(exchange, dict) or not {"request", "response"} <= set(exchange):
        raise BadExchange("not a recorded exchange (a JSON object with 'request' and 'response')")
    version = exchange.get("version", VERSION)
    if isinstance(version, bool) or version != VERSION:
        raise BadExchange(f"cassette version {_show(exchange['version'])} is not supported (only {VERSION})")
    recorded_at = exchange.get("recorded_at", 0)
    if isinstance(recorded_at, bool) or not isinstance(recorded_at, (int, float)):
        raise BadExchange(f"'recorded_at' must be a number, got {_show(recorded_at)}")
    _check_request(exchange["request"])
    _check_response(exchange["response"])
    return exchange
