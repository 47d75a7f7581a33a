"""Realtime sessions beyond 0.1.x: typed events, senders, handlers, flow control, reconnect, voice I/O.

The 0.1.4 names stay importable from :mod:`meshapi.resources.realtime`. This package holds how they
work, split by concern:

* :mod:`~meshapi.realtime.protocol` (with :mod:`~meshapi.realtime.handshake`,
  :mod:`~meshapi.realtime.messages`, :mod:`~meshapi.realtime.collect`): the sans-I/O core.
* :mod:`~meshapi.realtime._base`: the state both sessions share; :mod:`~meshapi.realtime.sync_session`
  and :mod:`~meshapi.realtime.async_session`: the twins; :mod:`~meshapi.realtime._ws`: websockets.
* :mod:`~meshapi.realtime.senders`, :mod:`~meshapi.realtime.handlers`, :mod:`~meshapi.realtime.flow`.
* :mod:`~meshapi.realtime.voice`: PCM16 / WAV conversion and resampling, microphone and speaker.

Typed events are in :mod:`meshapi.types.realtime_server` and :mod:`meshapi.types.realtime_client`.
Nothing here imports ``websockets`` until a session is opened.
"""

from __future__ import annotations

from .flow import FlowControl, ReconnectPolicy

__all__ = ["FlowControl", "ReconnectPolicy"]
