"""``meshapi.gateway.proxy``: the documented 0.1.x path of the record/replay settings, a re-export.

A real module so type checkers resolve it too; ``ProxySettings`` is declared in
``meshapi_gateway.settings`` and the proxy layer lives in ``meshapi_gateway.record.proxy``.
"""

from meshapi_gateway.record.proxy import ProxyLayer
from meshapi_gateway.settings import ProxySettings

__all__ = ["ProxyLayer", "ProxySettings"]
