"""Exact token counts with tiktoken (extra ``tokens``), used only when no network is needed for them.

Why it exists: tiktoken downloads an encoding's file the first time the encoding is used, and where the
SDK runs there is often no way out to the internet, so a first use could stall or fail. An encoding is
therefore used only when its file already sits in tiktoken's cache, checked here the way tiktoken looks it
up (``TIKTOKEN_CACHE_DIR``, else ``DATA_GYM_CACHE_DIR``, else ``<temp dir>/data-gym-cache``; the file is
named after the SHA-1 of its URL) and against the SHA-256 tiktoken expects (a file that does not match
would make tiktoken fetch it again). Then ``tiktoken.get_encoding`` reads it from there without opening a
socket. Otherwise, and for models tiktoken does not know (other providers), :func:`text_counter` gives
``None`` and the heuristic of ``meshapi._core.tokens`` is used. To make an encoding available offline,
load it once where the internet is reachable with the same cache directory, or copy its cache file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from typing import Any, Callable, Dict, Optional, Tuple

__all__ = ["ENCODINGS", "cache_dir", "cached_file", "encoding_name", "text_counter"]

_BLOBS = "https://openaipublic.blob.core.windows.net/encodings/"
#: The encodings counted exactly: their file's URL and SHA-256, as tiktoken publishes them.
ENCODINGS: Dict[str, Tuple[str, str]] = {
    "o200k_base": (_BLOBS + "o200k_base.tiktoken", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"),
    "cl100k_base": (_BLOBS + "cl100k_base.tiktoken", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"),
    "p50k_base": (_BLOBS + "p50k_base.tiktoken", "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069"),
    "r50k_base": (_BLOBS + "r50k_base.tiktoken", "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"),
}  # fmt: skip

_lock = threading.Lock()
_loaded: Dict[str, Any] = {}  # encoding name -> tiktoken.Encoding, once read from the cache


def cache_dir(environ: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The directory tiktoken reads its cache from, or ``None`` when its cache is off (set to ``""``)."""
    env = os.environ if environ is None else environ
    if "TIKTOKEN_CACHE_DIR" in env:
        found = env["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in env:
        found = env["DATA_GYM_CACHE_DIR"]
    else:
        found = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return found or None


def cached_file(url: str, sha256: str, directory: Optional[str]) -> Optional[str]:
    """The cached copy of ``url`` in ``directory`` when it is there and its SHA-256 is ``sha256``."""
    if directory is None:
        return None
    path = os.path.join(directory, hashlib.sha1(url.encode()).hexdigest())
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    return path if hashlib.sha256(data).hexdigest() == sha256 else None


def encoding_name(model: str) -> Optional[str]:
    """The tiktoken encoding of ``model`` (``openai/gpt-4o`` or ``gpt-4o``), or ``None``: not an OpenAI
    model, tiktoken not installed, or a model it does not know."""
    provider, _, name = model.rpartition("/")
    if provider not in ("", "openai"):
        return None
    try:
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        return None
    try:
        found = encoding_name_for_model(name)
    except KeyError:
        return None
    return found if found in ENCODINGS else None


def text_counter(model: str) -> Optional[Tuple[str, Callable[[str], int]]]:
    """``(encoding name, count)`` for ``model`` when tiktoken can count its text offline, else ``None``."""
    name = encoding_name(model)
    if name is None:
        return None
    with _lock:
        encoding = _loaded.get(name)
        if encoding is None:
            url, sha256 = ENCODINGS[name]
            if cached_file(url, sha256, cache_dir()) is None:
                return None  # tiktoken would download it: not here
            import tiktoken

            encoding = _loaded[name] = tiktoken.get_encoding(name)
    return name, lambda text: len(encoding.encode(text, disallowed_special=()))
