"""The async client's first chat call, prepared in a background thread instead of inside the event loop.

Why: models are built lazily (``defer_build``) and families, resources and the transport's asyncio
pieces are imported on first use; that keeps ``import meshapi`` and a cold start cheap. Under asyncio,
though, the first call used to pay for all of it inside one loop step (about 120 ms: imports, validator
builds), which stalls every other task and which asyncio's debug mode reports as a slow callback.

``AsyncMeshAPI()`` calls :func:`start`: one daemon thread imports what the first chat call imports and
builds the validators it uses, in the order the call needs them, and, for a client of an ``https``
gateway, loads the TLS context the SDK's async pools share (``meshapi._transport.fork.ssl_context``: the
constructor makes no pool, so it loads no CA bundle either; for an ``http2=True`` client, the separate
context of HTTP/2 pools instead; a client of an ``http://`` gateway needs none and gets none). A client
made at start-up (module level, an app's lifespan) therefore finds them ready, and its first call only
waits for the network. The thread runs Python code, so it shares the GIL
with the loop: the interpreter switches between them every few milliseconds, and the loop keeps running
while the models build. A call made at the very same moment waits for what it needs (an import lock, at
worst the same work it used to do itself).

A client made inside the loop and used at once (``client = AsyncMeshAPI(); await
client.chat.completions.create(...)``, with or without ``async with``) is kept off that path:

* the thread starts only once the loop step that made the client is over (:func:`_call_after_this_step`),
  so that step, which also reads ``client.chat``, never shares the GIL with it;
* ``client.chat`` imports no model: ``meshapi.resources.chat`` hands the import of its models to
  :func:`after`, which, inside a loop with a warm-up running, leaves it to the thread's end;
* ``__aenter__`` and the async chat methods await :func:`ready`, during which the loop sleeps until the
  thread wakes it as it ends (asyncio; under trio it polls with trio's ``sleep``).

Rules: at most one warm-up at a time and none once everything is built (the second client starts
nothing; the first ``https`` client, or ``http2=True`` one, after a warm-up has ended without its TLS
context starts one more, for that context); a
``fork()`` waits for a running warm-up first (``os.register_at_fork``), so a child never inherits an
import lock held by a thread that does not exist in it; interpreter exit waits for it too (``atexit``,
bounded), so no thread outlives the program. A failure here is ignored on purpose: the call
that needs the same piece raises it where the caller sees it.
"""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import threading
import time
from typing import Any, Callable, List, Optional, Set

from ._transport.fork import ssl_context, ssl_ready

__all__ = ["THREAD_NAME", "after", "is_needed", "ready", "start", "wait"]

THREAD_NAME = "meshapi-warmup"
_JOIN_TIMEOUT = 10.0  # seconds a fork or the interpreter's exit waits for a warm-up still running
_POLL = 0.002  # seconds between two looks at a running warm-up from inside an event loop
_START_TIMEOUT = 1.0  # seconds a thread made inside a loop waits for that loop's next step at most

_lock = threading.Lock()
_thread: Optional[threading.Thread] = None
_done = False
_steps: List[Callable[[], None]] = []  # run by the warm-up thread as it ends (see after())
_taking_steps = False  # whether a running warm-up still takes steps
_go: Optional[threading.Event] = None  # set: the thread may start (see _call_after_this_step)
_wakers: List[Callable[[], None]] = []  # called by the thread as it ends: event loops waiting in ready()
_tls_wanted: Set[bool] = set()  # the TLS contexts the clients made so far need (True: HTTP/2 pools')


def _tls_left() -> List[bool]:
    """The TLS contexts a client made so far needs that are not loaded yet (``http2`` flags). No lock: called
    under ``_lock`` too; copying a set of two bools runs in C, so no other thread changes it meanwhile."""
    return [http2 for http2 in sorted(_tls_wanted) if not ssl_ready(http2=http2)]


def is_needed() -> bool:
    """Whether the first chat call would still import or build something this warm-up covers."""
    if _done:
        return False
    chat = sys.modules.get("meshapi.types.chat")
    if chat is None or "anyio._backends._asyncio" not in sys.modules or _tls_left():
        return True
    models = (chat.ChatCompletionParams, chat.ChatCompletionResponse, chat.ChatCompletionChunk)
    return not all(model.__pydantic_complete__ for model in models)


def start(http2: bool = False, tls: bool = True) -> None:
    """Start the warm-up thread unless one is running or there is nothing left to build (``tls``: the
    client's base URL is ``https``, so its pools load a TLS context: the HTTP/2 one when ``http2``; a
    client of an ``http://`` gateway needs none)."""
    global _thread, _taking_steps, _go, _done
    with _lock:
        wanted = tls and not ssl_ready(http2=http2)
        if wanted:
            _tls_wanted.add(http2)
        if _thread is not None and (_taking_steps or not wanted):
            return  # one runs (and reads _tls_wanted as it ends), or one ran: only that context can be left
        if _thread is None and not wanted and not is_needed():
            return
        _done = False  # ready() waits for this one
        go = threading.Event()
        if not _call_after_this_step(go.set):  # outside a loop: at once
            go.set()
        thread = threading.Thread(target=_run, args=(go,), name=THREAD_NAME, daemon=True)
        _taking_steps, _go = True, go
        thread.start()
        _thread = thread  # published once started: a fork's wait() may join it at any moment


def after(step: Callable[[], None]) -> None:
    """Run ``step`` (an import of what the warm-up builds) now, or, when a warm-up is running and this
    thread runs an event loop, in the warm-up thread as it ends: here it would stall the loop until then
    (on an import lock the thread holds, or doing the same work again). ``step`` must be idempotent: the
    code that needs its result runs it again after :func:`ready` (the warm-up may give up or fail)."""
    with _lock:
        deferred = _taking_steps and _thread is not threading.current_thread() and _loop_sleep() is not None
        if deferred:
            _steps.append(step)
    if not deferred:
        step()


def wait(timeout: float = _JOIN_TIMEOUT) -> None:
    """Block until a running warm-up ends (or ``timeout`` seconds pass); one still waiting to start, starts."""
    thread, go = _thread, _go
    if thread is not None and thread is not threading.current_thread():
        if go is not None:
            go.set()
        thread.join(timeout)


async def ready(timeout: float = _JOIN_TIMEOUT) -> None:
    """Wait, without blocking the event loop, until a running warm-up ends (at once if none runs).

    Bounded like :func:`wait`: after ``timeout`` seconds the call goes on and does its own builds.

    Under asyncio the thread wakes the loop when it ends (``call_soon_threadsafe``): the loop sleeps
    meanwhile, and each step it would spend looking at the thread is a step the thread, holding the GIL,
    could stretch. Elsewhere (trio) it is polled with the running library's own ``sleep``: ``anyio.sleep``
    would import anyio's asyncio backend here, on the loop, which is one of the things the thread imports.
    """
    thread = _thread
    if _done or thread is None or thread is threading.current_thread() or not thread.is_alive():
        return  # the common case after the first call: nothing to look up
    asyncio = sys.modules.get("asyncio")
    loop = asyncio._get_running_loop() if asyncio is not None else None
    if loop is not None:
        await _woken_at_end(loop, timeout)
        return
    sleep = _sleep_function()
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        await sleep(_POLL)


async def _woken_at_end(loop: Any, timeout: float) -> None:
    """Wait on ``loop`` until the warm-up thread ends (it calls back into the loop) or ``timeout`` passes."""
    woken = loop.create_future()

    def settle() -> None:
        if not woken.done():
            woken.set_result(None)

    def wake() -> None:  # from the thread
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass

    with _lock:
        waiting = _taking_steps  # else the thread has ended, or is past waking anyone
        if waiting:
            _wakers.append(wake)
    if not waiting:
        return
    timer = loop.call_later(timeout, settle)
    try:
        await woken
    finally:
        timer.cancel()
        with _lock:
            if wake in _wakers:
                _wakers.remove(wake)


def _sleep_function() -> Any:
    """The running async library's ``sleep``: asyncio's, trio's, else anyio's."""
    sleep = _loop_sleep()
    if sleep is not None:
        return sleep
    import anyio

    return anyio.sleep


def _loop_sleep() -> Any:
    """The ``sleep`` of the event loop this thread runs (asyncio's or trio's), ``None`` outside one."""
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
    return None


def _call_after_this_step(callback: Callable[[], None]) -> bool:
    """Have the event loop this thread runs call ``callback`` once the current step is over (asyncio's
    ``call_soon``, trio's ``run_sync_soon``); ``False`` outside a loop."""
    asyncio = sys.modules.get("asyncio")
    loop = asyncio._get_running_loop() if asyncio is not None else None
    if loop is not None:
        loop.call_soon(callback)
        return True
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            token = trio.lowlevel.current_trio_token()
        except RuntimeError:
            return False
        token.run_sync_soon(callback)
        return True
    return False


def _run(go: threading.Event) -> None:
    global _done, _taking_steps
    # Made inside a loop, the client is often used in the same step (client.chat imports its resource
    # module): the thread starts once that step is over, so the two never share the GIL in it.
    go.wait(_START_TIMEOUT)
    try:
        _warm()
        warmed = True
    except Exception:  # best effort: the call that needs the same piece raises it to its caller
        warmed = False
    with _lock:
        steps = list(_steps)
        _steps.clear()
        _taking_steps = False
    try:  # also a context of a client made while _warm() ran (start() saw it running)
        for http2 in _tls_left():
            ssl_context(http2=http2)
    except Exception:  # the same: the pool that needs it raises to its caller
        warmed = False
    _done = warmed
    for step in steps:
        try:
            step()
        except Exception:  # the same: the code that needs it runs it again and raises to its caller
            pass
    with _lock:
        wakers = list(_wakers)
        _wakers.clear()
    for wake in wakers:
        wake()


def _warm() -> None:
    # what meshapi.resources.chat imports on first use (types.chat, lib.chat and its stream classes); that
    # module itself is imported by client.chat (a few milliseconds) and hands its _load to after()
    importlib.import_module("meshapi.resources._base")
    importlib.import_module("meshapi.lib.chat_request")
    from .types.chat import ChatCompletionChunk, ChatCompletionParams, ChatCompletionResponse

    _build(ChatCompletionParams)  # in the order the call needs them: params, the request, the reply
    for http2 in _tls_left():  # the CA bundle the clients' pools load (HTTP/2 pools: a context of their own)
        ssl_context(http2=http2)
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
    global _lock, _thread, _taking_steps, _go
    _lock = threading.Lock()
    _go = None
    _thread = None  # the parent's thread does not exist here; what it built, the child has
    _taking_steps = False  # the fork waited for the thread, which ran its steps and woke its loops
    _steps.clear()  # (unless that wait gave up: then these belong to the parent's loops)
    _wakers.clear()


atexit.register(wait)
if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
