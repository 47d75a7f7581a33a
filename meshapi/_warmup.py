"""The async client's first chat call, prepared in a background thread instead of inside the event loop.

Why: models are built lazily (``defer_build``) and families, resources and the transport's asyncio
pieces are imported on first use; that keeps ``import meshapi`` and a cold start cheap. Under asyncio,
though, the first call used to pay for all of it inside one loop step (about 120 ms: imports, validator
builds), which stalls every other task and which asyncio's debug mode reports as a slow callback.

``AsyncMeshAPI()`` calls :func:`start`: one daemon thread imports what the first chat call imports and
builds the validators it uses, in the order the call needs them. A client made at start-up (module level,
an app's lifespan) therefore finds them ready, and its first call only waits for the network. The thread
runs Python code, so it shares the GIL with the loop: the interpreter switches between them every few
milliseconds, and the loop keeps running while the models build. A call made at the very same moment
waits for what it needs (an import lock, at worst the same work it used to do itself). A client made
inside the loop and used at once does not wait that way: ``__aenter__`` and the async ``create()``
await :func:`ready` first, which polls the thread with the loop's own ``sleep`` (asyncio or trio).

Rules: at most one warm-up at a time and none once everything is built (the second client starts
nothing); a ``fork()`` waits for a running warm-up first (``os.register_at_fork``), so a child never
inherits an import lock held by a thread that does not exist in it; interpreter exit waits for it too
(``atexit``, bounded), so no thread outlives the program. A failure here is ignored on purpose: the call
that needs the same piece raises it where the caller sees it.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
import time
from typing import Any, Optional

__all__ = ["THREAD_NAME", "is_needed", "ready", "start", "wait"]

THREAD_NAME = "meshapi-warmup"
_JOIN_TIMEOUT = 10.0  # seconds a fork or the interpreter's exit waits for a warm-up still running
_POLL = 0.002  # seconds between two looks at a running warm-up from inside an event loop

_lock = threading.Lock()
_thread: Optional[threading.Thread] = None
_done = False


def is_needed() -> bool:
    """Whether the first chat call would still import or build something this warm-up covers."""
    if _done:
        return False
    chat = sys.modules.get("meshapi.types.chat")
    if chat is None or "anyio._backends._asyncio" not in sys.modules:
        return True
    models = (chat.ChatCompletionParams, chat.ChatCompletionResponse, chat.ChatCompletionChunk)
    return not all(model.__pydantic_complete__ for model in models)


def start() -> None:
    """Start the warm-up thread unless one is running or there is nothing left to build."""
    global _thread
    with _lock:
        if _thread is not None or not is_needed():
            return
        thread = threading.Thread(target=_run, name=THREAD_NAME, daemon=True)
        thread.start()
        _thread = thread  # published once started: a fork's wait() may join it at any moment


def wait(timeout: float = _JOIN_TIMEOUT) -> None:
    """Block until a running warm-up ends (or ``timeout`` seconds pass)."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


async def ready(timeout: float = _JOIN_TIMEOUT) -> None:
    """Wait, without blocking the event loop, until a running warm-up ends (at once if none runs).

    Bounded like :func:`wait`: after ``timeout`` seconds the call goes on and does its own builds.

    Polled with the running library's own ``sleep`` (asyncio's or trio's: ``anyio.sleep`` would import
    anyio's asyncio backend here, on the loop, which is one of the things the thread imports).
    """
    thread = _thread
    if _done or thread is None or thread is threading.current_thread() or not thread.is_alive():
        return  # the common case after the first call: nothing to look up
    sleep = _sleep_function()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        await sleep(_POLL)


def _sleep_function() -> Any:
    """The running async library's ``sleep``: asyncio's, trio's, else anyio's."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return asyncio.sleep
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
        except RuntimeError:
            pass
        else:
            return trio.sleep
    import anyio

    return anyio.sleep


def _run() -> None:
    global _done
    try:
        _warm()
        _done = True
    except Exception:  # best effort: the call that needs the same piece raises it to its caller
        pass


def _warm() -> None:
    # what meshapi.resources.chat imports (types.chat, lib.chat and its stream classes), not that module
    # itself: it awaits ready() (an import circle), and its own few milliseconds run fine on the loop
    importlib.import_module("meshapi.resources._base")
    importlib.import_module("meshapi.lib.chat_request")
    importlib.import_module("meshapi.lib.tool_runner_async")  # run_tools' runners (and tool_runner)
    from .types.chat import ChatCompletionChunk, ChatCompletionParams, ChatCompletionResponse

    _build(ChatCompletionParams)  # in the order the call needs them: params, the request, the reply
    _import_asyncio_transport()
    _build(ChatCompletionResponse)
    _build(ChatCompletionChunk)


def _build(model: Any) -> None:
    """Build a deferred model's validator and serializer (what its first use would do)."""
    if not model.__pydantic_complete__:
        model.model_rebuild()


def _import_asyncio_transport() -> None:
    """What the first request over httpx's asyncio pool imports (anyio's backend), and the tracer lookup."""
    try:
        importlib.import_module("anyio._backends._asyncio")
    except ImportError:  # pragma: no cover - httpx depends on anyio; nothing to warm without it
        pass
    from ._transport import otel

    otel.tracer()


def _before_fork() -> None:
    wait()


def _after_fork_in_child() -> None:
    global _lock, _thread
    _lock = threading.Lock()
    _thread = None  # the parent's thread does not exist here; what it built, the child has


atexit.register(wait)
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
