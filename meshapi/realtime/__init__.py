"""Realtime sessions: the sans-I/O protocol core shared by the sync and asyncio sessions.

The public classes live in :mod:`meshapi.resources.realtime` (as in 0.1.4); this package holds what both
session flavours share and what can be tested without a socket: :mod:`meshapi.realtime.protocol`.
"""
