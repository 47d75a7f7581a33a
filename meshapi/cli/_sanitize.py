"""Making server text and argument errors safe to print on a terminal.

Text from the gateway (model output, error messages, file names) can carry terminal control
sequences: an ESC ``[`` ... sequence recolours or moves the cursor, an OSC one retitles the window or
writes a hyperlink, a lone CR rewrites the line already shown. :func:`clean` removes every escape
sequence and every C0/C1 control character except newline and tab; the ``UI`` applies it to all
human output. ``--json`` output needs nothing: JSON escapes control characters itself.

argparse repeats a mistyped option and its value in its usage error (``unrecognized arguments:
--tokn rsk_...``); :func:`redact_secrets` hides anything token-like in such a message first.
"""

from __future__ import annotations

import os
import re
from typing import Sequence

__all__ = ["clean", "redact_secrets"]

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte ESC sequences, 8-bit CSI/OSC.
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x9c]*[\x07\x9c]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_TOKEN_LIKE = re.compile(r"\b(?:rsk|sk|adm)_[A-Za-z0-9_\-]{4,}")
_SECRET_NAME = re.compile(r"tok|key|secret|pass", re.IGNORECASE)
_AFTER_SECRET_OPTION = re.compile(r"(--?[\w-]*(?:tok|key|secret|pass)[\w-]*)(=|\s+)(\S+)", re.IGNORECASE)


def clean(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (newline and tab kept)."""
    if text.isprintable():
        return text
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


_SECRET_OPTIONS = ("--token", "--api-key", "--admin-token")


def _abbreviates_secret(name: str) -> bool:
    """``--t``, ``--to``, ...: argparse may read (or refuse, as ambiguous) these as ``--token``."""
    return len(name) >= 3 and any(option.startswith(name) for option in _SECRET_OPTIONS)


def redact_secrets(message: str, argv: Sequence[str] = ()) -> str:
    """``message`` with token-like words, values of secret-looking options and ``$MESHAPI_TOKEN`` hidden.

    ``argv``: the words parsed; the word after an option whose name looks secret (``--tokn X``, a
    typo argparse does not know) is hidden wherever the message repeats it.
    """
    secrets = [os.environ.get("MESHAPI_TOKEN", "")]
    for index, word in enumerate(argv):
        name = word.partition("=")[0]
        if word.startswith("-") and (_SECRET_NAME.search(name) or _abbreviates_secret(name)):
            _, eq, value = word.partition("=")
            if eq:
                secrets.append(value)
            elif index + 1 < len(argv):
                secrets.append(argv[index + 1])
    for secret in secrets:
        if len(secret) >= 4:
            message = message.replace(secret, "[redacted]")
    message = _AFTER_SECRET_OPTION.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", message)
    return _TOKEN_LIKE.sub("[redacted]", message)
