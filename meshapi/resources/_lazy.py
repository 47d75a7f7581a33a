"""Names a resource module imports on first use instead of at its import (``chat.py``: its models).

Why this exists: ``client.chat`` is often first read inside a running event loop, where building the chat
models' classes would stall it for about 100 ms; ``meshapi._warmup`` builds them in a thread instead and
runs the module's load when it ends. :class:`LazyNames` is that load, written once for every module that
needs it: a module configures it in a few lines (a function that imports and returns the names, what to
do once they are there) and gets the load, the module ``__getattr__`` that serves the names before it
ran, and what an async method awaits first.

Rules: the load runs once (the warm-up thread and another thread's client at once: one of them does it,
under a lock); a load cut short is simply run again; the module's own ``_loaded`` says whether it ran
(kept in the module, where tests and debuggers look); a fork child gets new locks (a fork while another
thread loads: the child has no such thread, so not its lock either; the fork waited for the imports the
load makes, ``meshapi._forksafe``).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Dict, List, Mapping, MutableMapping, Optional

from .. import _warmup

__all__ = ["LazyNames"]

_every: List[LazyNames] = []  # the module-level instances, for the fork child's new locks


class LazyNames:
    """The names ``importer()`` returns, set in ``namespace`` (a module's ``globals()``) on first need;
    ``then()`` runs after each load that set them (``spell_out_keywords`` of the module's classes)."""

    def __init__(
        self,
        namespace: MutableMapping[str, Any],
        importer: Callable[[], Mapping[str, Any]],
        then: Optional[Callable[[], None]] = None,
    ) -> None:
        self._namespace = namespace
        self._importer = importer
        self._then = then
        self._names: Dict[str, Any] = {}
        self._lock = threading.Lock()
        namespace["_loaded"] = False
        _every.append(self)

    def load(self) -> None:
        """Set the names (at once when they are there: the common case)."""
        if self._namespace["_loaded"]:
            return
        with self._lock:
            if not self._namespace["_loaded"]:
                self._names = dict(self._importer())
                self._namespace.update(self._names)
                if self._then is not None:
                    self._then()
                self._namespace["_loaded"] = True

    def names(self) -> Dict[str, Any]:
        """The names the load sets (loading them first if need be), for a module that offers them too."""
        self.load()
        return dict(self._names)

    def module_getattr(self, name: str) -> Any:
        """The module's ``__getattr__``: a name the load sets, asked for before it ran (``from module
        import name``); never a dunder (the import system asks every module for ``__path__``)."""
        namespace = self._namespace
        if not namespace["_loaded"] and not name.startswith("__"):
            self.load()
            if name in namespace:
                return namespace[name]
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    async def ready(self) -> None:
        """What an async method awaits first: the warm-up's builds (off the loop), then the load."""
        await _warmup.ready()
        self.load()


def _new_locks_in_child() -> None:
    for lazy in _every:
        lazy._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_new_locks_in_child)
