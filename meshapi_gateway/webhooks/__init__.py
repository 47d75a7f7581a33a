"""Webhook deliveries from the local gateway (docs/protocol.md §V9): who receives what, when, signed how.

``hub.py`` ties the parts together (``GatewayState.webhooks``); ``endpoints.py`` the destinations and
their secrets; ``alerts.py`` which thresholds raise which events; ``delivery.py`` the background worker
and the retry schedule; ``signing.py`` the signature.
"""

from .endpoints import EVENT_TYPES, Endpoint
from .hub import WebhookHub

__all__ = ["EVENT_TYPES", "Endpoint", "WebhookHub"]
