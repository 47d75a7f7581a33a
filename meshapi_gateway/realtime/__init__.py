"""The realtime WebSocket of the gateway: the endpoint (handshake, refusals), one session (events,
answers, cancel), voice activity detection and the session's pure helpers. Its faults are in
``faults/realtime.py``.

Modules import what they need from the module itself; this package imports nothing.
"""
