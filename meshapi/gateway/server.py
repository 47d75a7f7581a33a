"""``meshapi.gateway.server``: the 0.1.x module path of the gateway's runner, kept as a re-export.

It held both ``serve()`` / ``Gateway`` and the ``meshapi gateway`` command, which now live apart in
``meshapi_gateway.http.server`` and ``meshapi_gateway.http.cli``; this module gives both under the old path.
"""

from meshapi_gateway.http.cli import _parser, main
from meshapi_gateway.http.server import Gateway, serve

__all__ = ["Gateway", "_parser", "main", "serve"]
