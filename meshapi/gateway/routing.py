"""``meshapi.gateway.routing``: the documented 0.1.x path of the gateway's routing policies, a re-export.

A real module (not only a ``sys.modules`` alias) so type checkers resolve ``from meshapi.gateway.routing
import RoutingPolicy`` as readers of the README write it; the policies live in
``meshapi_gateway.fakes.routing``.
"""

from meshapi_gateway.fakes.routing import (
    ProviderFault,
    ProviderFaults,
    RoutingPolicy,
    check_policies,
    for_request,
    parse_policy,
    policy_for,
    route,
)

__all__ = [
    "ProviderFault",
    "ProviderFaults",
    "RoutingPolicy",
    "check_policies",
    "for_request",
    "parse_policy",
    "policy_for",
    "route",
]
