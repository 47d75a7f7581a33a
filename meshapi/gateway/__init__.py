"""``meshapi.gateway``: the local gateway's import path of 0.1.x, kept as a re-export of :mod:`meshapi_gateway`.

The gateway lives in its own top-level package, ``meshapi_gateway`` (same distribution, extra
``gateway``), so that "the gateway imports nothing of the SDK" can be checked. This package only
re-exports it: ``from meshapi.gateway import serve`` gives the very object ``meshapi_gateway.serve``
is, and the old submodule paths (``meshapi.gateway.routing``, ``meshapi.gateway.proxy``,
...) are the new modules themselves, registered under their old names in ``sys.modules`` (table
:data:`MOVED`) when this package is imported; ``server`` and ``faults`` (whose contents now live in two
modules each), ``routing`` and ``proxy`` (documented in the README) are small re-export modules. That costs nothing: importing
``meshapi_gateway`` has already loaded every one of them. Without the ``gateway`` extra, importing
this package raises the same ``ImportError`` (naming the extra) as ``meshapi_gateway`` does. Nothing
inside ``meshapi`` imports this package; the SDK's own uses import ``meshapi_gateway``.
"""

from __future__ import annotations

import importlib
import sys

import meshapi_gateway
from meshapi_gateway import *  # noqa: F403  (the public names, and only those)
from meshapi_gateway.routes import MODULES as _ROUTE_MODULES

__all__ = list(meshapi_gateway.__all__)

#: Old submodule of ``meshapi.gateway`` -> the module of ``meshapi_gateway`` that replaced it.
MOVED = {
    "admin": "http.admin",
    "app": "http.app",
    "cassette": "record.cassette",
    "catalog": "fakes.catalog",
    "catalog_data": "fakes.catalog_data",
    "common": "http.context",
    "conversation": "routes._conversation",
    "corpus": "fakes.corpus",
    "engine": "fakes.engine",
    "errors": "errors",
    "extract": "fakes.extract",
    "fault_injection": "faults.exchange",
    "idempotency": "store.idempotency",
    "ids": "ids",
    "inspector": "record.inspector",
    "json_input": "http.json_input",
    "movie": "fakes.movie",
    "multipart": "http.multipart",
    "png": "fakes.png",
    "realtime": "realtime.endpoint",
    "realtime_parts": "realtime.parts",
    "realtime_session": "realtime.session",
    "realtime_vad": "realtime.vad",
    "redact": "record.redact",
    "replies": "fakes.replies",
    "reqlog": "record.reqlog",
    "routes": "routes",
    "safety": "fakes.safety",
    "schemas": "fakes.schemas",
    "settings": "settings",
    "slow_clients": "http.slow_clients",
    "sound": "fakes.sound",
    "sse": "http.sse",
    "state": "store.state",
    "storage": "store.storage",
    "structured": "fakes.structured",
    "templating": "fakes.templating",
    "validation": "http.validation",
    "vectors": "fakes.vectors",
    "voices": "fakes.voices",
}


for _old, _new in MOVED.items():
    _module = importlib.import_module(f"meshapi_gateway.{_new}")
    sys.modules[f"{__name__}.{_old}"] = _module
    globals()[_old] = _module  # attribute access, as after a real submodule import
# real re-export modules beside this one: two old modules whose contents now live in two places each,
# and the two the README documents (a type checker resolves a real module, not a sys.modules alias)
from . import faults as faults  # noqa: E402
from . import proxy as proxy  # noqa: E402
from . import routing as routing  # noqa: E402
from . import server as server  # noqa: E402

# the resource modules keep their old paths too (meshapi.gateway.routes.chat, ...)
for _module in _ROUTE_MODULES:
    sys.modules[f"{__name__}.routes.{_module.__name__.rpartition('.')[2]}"] = _module
del _old, _new, _module
