"""Event handlers of realtime sessions (``session.on(type, fn)`` / ``once`` / ``off``), without I/O.

The registry only records who wants which event type (``"*"`` matches every type) and hands back the
callables to run for one event, forgetting ``once`` handlers as it does; the sessions run them (the
asyncio session awaits coroutine handlers) and wrap a handler's exception in ``RealtimeError`` code
``handler_error`` (the original is its ``__cause__``), so a failing handler stops ``run()`` loudly.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

from .._errors import InvalidParamsError, RealtimeError

__all__ = ["ANY_EVENT", "HandlerRegistry", "handler_error"]

ANY_EVENT = "*"
Handler = Callable[[Any], Any]


def handler_error(kind: str, handler: Handler, exc: BaseException) -> RealtimeError:
    name = getattr(handler, "__qualname__", None) or repr(handler)
    error = RealtimeError(
        "handler_error", f"the handler {name} for {kind!r} raised {type(exc).__name__}: {exc}"
    )
    error.__cause__ = exc
    return error


class HandlerRegistry:
    """Handlers by event type, in registration order; thread-safe."""

    def __init__(self, *, allow_async: bool) -> None:
        self._allow_async = allow_async
        self._lock = threading.Lock()
        self._entries: Dict[str, List[Tuple[Handler, bool]]] = {}

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def add(self, kind: str, handler: Handler, *, once: bool) -> Handler:
        if not isinstance(kind, str) or not kind:
            raise InvalidParamsError(f"the event type must be a non-empty string (or '*'), got {kind!r}")
        if not callable(handler):
            raise InvalidParamsError(f"a handler must be callable, got {type(handler).__name__}")
        if not self._allow_async and inspect.iscoroutinefunction(handler):
            raise InvalidParamsError(
                "a blocking RealtimeSession cannot await a coroutine handler; use AsyncRealtimeSession"
            )
        with self._lock:
            self._entries.setdefault(kind, []).append((handler, once))
        return handler

    def remove(self, kind: str, handler: Optional[Handler] = None) -> int:
        """Forget ``handler`` for ``kind`` (every handler of ``kind`` when ``None``); returns how many."""
        with self._lock:
            entries = self._entries.get(kind, [])
            keep = [e for e in entries if handler is not None and e[0] is not handler and e[0] != handler]
            removed = len(entries) - len(keep)
            if keep:
                self._entries[kind] = keep
            else:
                self._entries.pop(kind, None)
        return removed

    def take(self, kind: str) -> List[Handler]:
        """The handlers to run for one event of ``kind`` (``once`` handlers are forgotten now)."""
        with self._lock:
            out: List[Handler] = []
            for key in (kind, ANY_EVENT):
                entries = self._entries.get(key)
                if not entries:
                    continue
                out.extend(h for h, _ in entries)
                keep = [e for e in entries if not e[1]]
                if len(keep) != len(entries):
                    if keep:
                        self._entries[key] = keep
                    else:
                        del self._entries[key]
            return out

    def wants(self, kind: str) -> bool:
        with self._lock:
            return bool(self._entries.get(kind))
