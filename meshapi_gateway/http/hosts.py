"""Which ``Host`` a request may name and still be served: the gateway's guard against DNS rebinding.

A web page cannot read answers from ``http://127.0.0.1:8000`` (another origin), but it can point a
name of its own at 127.0.0.1 (DNS rebinding): the browser then sends the page's requests to the
local gateway as same-origin requests, with the page's name in ``Host``. So the gateway serves only
requests whose ``Host`` is a loopback name (``localhost``, ``*.localhost``, ``127.x.y.z``,
``[::1]``, with or without a port) or a name it was configured with: the interface it listens on
(``--host``; for a wildcard such as ``0.0.0.0``, that address only) and each ``--allowed-host`` (a
name put in front of it, such as a container name). Everything else is refused with a 421 by
``HostMiddleware`` (``middleware.py``). Pure code: the middleware does the I/O.
"""

from __future__ import annotations

import ipaddress
import re
from typing import FrozenSet, Iterable, Optional, Sequence

__all__ = ["host_name", "is_loopback", "refusal", "served_names"]

_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_SHOWN = 100  # characters of a refused Host echoed in the error message


def host_name(value: str) -> Optional[str]:
    """The host of a ``Host`` value (lower case, no port, no brackets, no final dot); ``None`` if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        literal, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port[:1] == ":" and port[1:].isdigit())):
            return None
        try:
            return str(ipaddress.IPv6Address(literal))
        except ValueError:
            return None
    name, colon, port = text.partition(":")
    if colon and not port.isdigit():
        return None  # an empty port, a second colon (a bare IPv6 address) or letters
    if name.endswith("."):
        name = name[:-1]
    return name if _NAME.fullmatch(name) else None


def is_loopback(name: str) -> bool:
    """``name`` (as :func:`host_name` gives it) can only mean this machine."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def served_names(host: str, allowed_hosts: Iterable[str]) -> FrozenSet[str]:
    """The configured names served besides loopback: the interface ``host`` and ``allowed_hosts``.

    A wildcard interface (``0.0.0.0``, ``::``) adds only its own address (the base URL ``meshapi
    gateway`` prints), never "every name". Raises ``ValueError`` naming an allowed host that is not a
    host name or address.
    """
    if isinstance(allowed_hosts, (str, bytes)):
        raise ValueError(f"allowed_hosts is a list of names, not one string: {allowed_hosts!r}")
    names = set()
    listen = host.strip().strip("[]")
    name = host_name(f"[{listen}]" if ":" in listen else listen)
    if name is not None:
        names.add(name)
    for entry in allowed_hosts:
        name = host_name(entry) if isinstance(entry, str) else None
        if name is None:
            raise ValueError(f"not a host name or address for allowed_hosts: {entry!r}")
        names.add(name)
    return frozenset(names)


def refusal(values: Sequence[str], http_version: str, served: FrozenSet[str]) -> Optional[str]:
    """Why a request with these ``Host`` header values is not served, or ``None`` when it is.

    HTTP/1.0 may leave ``Host`` out (it names no host then); any later version must send exactly one.
    """
    if not values:
        return None if http_version == "1.0" else "The request has no Host header."
    if len(values) > 1:
        return "The request has more than one Host header."
    name = host_name(values[0])
    if name is not None and (is_loopback(name) or name in served):
        return None
    shown = values[0] if len(values[0]) <= _SHOWN else values[0][:_SHOWN] + "[...]"
    return (
        f"This local gateway serves requests for localhost and its configured host names only, "
        f"not for Host {shown!r} (a name in front of it is allowed with --allowed-host)."
    )
