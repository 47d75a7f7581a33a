"""A fork at any moment leaves the child a usable SDK, even while other threads make their first calls.

A forked child has one thread; every lock another thread of the parent held at the fork stays held
in the child for ever. A first call holds four kinds for a while: the module lock of each lazy import
(``meshapi`` resolves its names, resources and optional parts on first use), pydantic's global
rebuild lock (models build their validators on first use, ``defer_build``), the per-property lock
that ``functools.cached_property`` takes on Python 3.8 to 3.11 (one lock per property, shared by every
instance), and OpenSSL's own locks while a client's SSL context loads the CA bundle. A child that
needed any of them hung before sending a byte, so no timeout applied.

So, from ``import meshapi`` on (``os.register_at_fork``):

* before the fork, the forking thread waits (bounded, :data:`WAIT_SECONDS`) until no other thread is
  inside an import, then takes :data:`LOCK` (held by SDK work a fork must not cut in half: loading
  the CA bundle into the shared SSL context, ``meshapi._transport.fork.ssl_context``), pydantic's
  rebuild lock where it has one (2.14 on) and :data:`BUILD_LOCK` (the SDK's models build under it
  where pydantic has none), waiting for a build in progress, and last the interpreter's import lock
  once no import is in progress (so none can start before the fork); it holds them all across the
  fork, and parent and child release them right after. The child thus inherits finished modules,
  models and SSL context, and no lock held by a thread that does not exist there (these hooks are
  registered by ``import meshapi``, before any SDK code can take a lock);
* the client's lazy resources use :class:`lazy_property`, which takes no lock (two threads racing on
  the first access build two resource objects and keep the first stored; they hold no state yet).

The async client's warm-up thread is waited for by ``meshapi._warmup`` (its own hook, run first).
"""

from __future__ import annotations

import _imp
import importlib
import os
import sys
import threading
import time
from typing import Any, Callable, Generic, List, TypeVar, overload

__all__ = ["BUILD_LOCK", "LOCK", "WAIT_SECONDS", "lazy_property", "resource"]

#: The longest a fork waits for other threads' imports, then for a pydantic build in progress.
WAIT_SECONDS = 10.0
_POLL = 0.001

_T = TypeVar("_T")
#: Held by SDK work that a fork must not cut in half; a fork holds it (see the module docstring).
LOCK = threading.Lock()
#: Held while one of the SDK's models builds its validators where pydantic has no lock of its own for
#: that (before 2.14: ``meshapi.types._base``); a fork holds it too, so no child inherits a half-built
#: model (or pydantic-core's internals in the middle of a build, which hung the child).
BUILD_LOCK = threading.RLock()
_held: List[Any] = []  # the locks this process holds while it forks


class lazy_property(Generic[_T]):
    """``functools.cached_property`` without a lock: computed on first access, then kept on the instance."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: Any, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: Any = None) -> lazy_property[_T]: ...

    @overload
    def __get__(self, instance: object, owner: Any = None) -> _T: ...

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.name, _MISSING)
        if value is _MISSING:
            value = instance.__dict__.setdefault(self.name, self.func(instance))
        return value


_MISSING: Any = object()


class resource(lazy_property[_T]):
    """A client's resource (``client.chat``): ``meshapi.resources.<module>.<name>`` imported on first use
    (so ``import meshapi`` and a client stay cheap), made with the client's ``_http`` (or ``_config``) and
    then kept, as :class:`lazy_property` keeps it. Declared as ``chat: lazy_property[ChatResource] =
    resource("chat", "ChatResource")``: one line per resource for both facades."""

    def __init__(self, module: str, name: str, argument: str = "_http") -> None:
        def make(client: Any) -> Any:
            found = getattr(importlib.import_module(f"meshapi.resources.{module}"), name)
            return found(getattr(client, argument))

        make.__name__ = make.__qualname__ = module
        super().__init__(make)


def _imports_in_progress() -> bool:
    """Whether another thread holds a module's import lock (it is inside that import)."""
    bootstrap = sys.modules.get("importlib._bootstrap")
    locks = getattr(bootstrap, "_module_locks", None)
    if not locks:
        return False
    me = threading.get_ident()
    blocked = getattr(bootstrap, "_blocking_on", {})
    for ref in list(locks.values()):
        lock = ref() if callable(ref) else None
        owner = getattr(lock, "owner", me)
        if lock is None or not getattr(lock, "count", 0) or owner == me:
            continue
        waits = blocked.get(owner)  # a lock (3.9 to 3.11) or a list of them (3.12+)
        if any(getattr(w, "owner", None) == me for w in (waits if isinstance(waits, list) else [waits])):
            continue  # that import waits for one this thread is inside (a fork from an import)
        return True
    return False


def _wait_for_imports(deadline: float) -> None:
    while _imports_in_progress() and time.monotonic() < deadline:
        time.sleep(_POLL)


def _before_fork() -> None:
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        _wait_for_imports(deadline)
        pydantic_main = sys.modules.get("pydantic.main")
        for lock in (LOCK, getattr(pydantic_main, "_rebuild_lock", None), BUILD_LOCK):
            if lock is not None and lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                _held.append(lock)
        _hold_import_lock(deadline)  # what a build that just ended had started, then no new import
    except Exception:  # pragma: no cover - never let the SDK stop a fork
        pass


def _hold_import_lock(deadline: float) -> None:
    """Wait until no other thread is inside an import, then hold the interpreter's import lock across
    the fork: a thread must take it to start an import, so none can begin one between this check and
    the fork (the interpreter takes the same lock itself only after these hooks, and another thread
    could start an import in that gap; seen as a child hung on a module lock, 1 fork in 150)."""
    while True:
        _wait_for_imports(deadline)
        _imp.acquire_lock()
        if not _imports_in_progress() or time.monotonic() >= deadline:
            _held.append(_imp)
            return
        _imp.release_lock()  # an import began meanwhile: let it finish without us holding its lock
        time.sleep(_POLL)


def _after_fork() -> None:
    while _held:
        held = _held.pop()
        if held is _imp:
            held.release_lock()  # the child keeps the lock for its forking thread, so both release
        else:
            held.release()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork, after_in_child=_after_fork)
