"""The local MeshAPI gateway: a Starlette + uvicorn server that speaks the MeshAPI wire protocol.

It serves deterministic stand-in models (chat, compare, responses, embeddings, images, audio, video),
templates, RAG files with signed uploads, batches and a realtime WebSocket, with a fault plan for
tests::

    from meshapi_gateway import serve    # or, as in 0.1.x: from meshapi.gateway import serve

    with serve() as gw:          # a free port on 127.0.0.1, token gw.token
        gw.faults.add("/v1/chat/completions", status=503, retry_after="1")
        ...                      # point a client at gw.base_url

``meshapi gateway`` or ``python -m meshapi_gateway`` (:func:`main`) runs it in the foreground.

It is its own package, shipped in the ``meshapi`` distribution (extra ``gateway``), and imports
nothing of the SDK: it builds its JSON with its own code, so a bug in one cannot hide the same bug in
the other (a test walks every import to keep it so). ``meshapi.gateway`` re-exports it.

Inside, grouped by concern: ``http/`` (the app, its middlewares in a documented order, the server),
``routes/`` (one module per SDK resource), ``faults/``, ``record/`` (request log, cassettes, proxy,
inspector), ``store/``, ``fakes/`` (the deterministic stand-ins), ``realtime/``, ``webhooks/`` (signed
deliveries of alerts) and ``settings.py``.
"""

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("The local gateway needs the 'gateway' extra: pip install 'meshapi[gateway]'") from exc

from .fakes.replies import RepliesError, ReplyRule
from .faults.plan import Fault, FaultPlan
from .http.app import create_app
from .http.cli import main
from .http.server import Gateway, serve
from .record.reqlog import RequestLog, RequestRecord
from .settings import DEFAULT_TOKEN, GatewaySettings, ProxySettings
from .store.storage import DataDirInUseError

__all__ = [
    "DEFAULT_TOKEN",
    "DataDirInUseError",
    "Fault",
    "FaultPlan",
    "Gateway",
    "GatewaySettings",
    "ProxySettings",
    "RepliesError",
    "ReplyRule",
    "RequestLog",
    "RequestRecord",
    "create_app",
    "main",
    "serve",
]
