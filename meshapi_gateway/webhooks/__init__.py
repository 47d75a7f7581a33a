"""Webhook deliveries from the local gateway (docs/protocol.md §V9): who receives what, when, signed how.

``hub.py`` ties the parts together (``GatewayState.webhooks``); ``endpoints.py`` the destinations and
their secrets; ``alerts.py`` which thresholds raise which events; ``delivery.py`` the background worker
and the retry schedule; ``signing.py`` the signature.

Modules import what they need from the module itself; this package imports nothing.
"""
