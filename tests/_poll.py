"""Waiting for state that changes in the background, with a deadline instead of a fixed sleep.

Why this exists: ``time.sleep(0.2)`` before an assertion is a race (too short on a loaded machine, too
long everywhere else). ``wait_until`` asks again and again until the condition holds, and fails with the
last value it saw when the deadline passes. ``async_wait_until`` is its twin for event loops; it works
under asyncio and trio (``sniffio`` tells which one is running).
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, TypeVar, Union

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.01, what: str = ""
) -> T:
    """Call ``predicate`` until it returns a truthy value, and return that value.

    Raises ``AssertionError`` (naming ``what`` and the last value) when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or predicate!r} (last: {value!r})")
        time.sleep(interval)


async def async_wait_until(
    predicate: Callable[[], Union[T, Awaitable[T]]],
    *,
    timeout: float = 5.0,
    interval: float = 0.01,
    what: str = "",
) -> T:
    """The twin of :func:`wait_until` for async code; ``predicate`` may be a plain or an async function."""
    deadline = time.monotonic() + timeout
    while True:
        value: Any = predicate()
        if hasattr(value, "__await__"):
            value = await value
        if value:
            return value  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what or predicate!r} (last: {value!r})")
        await _sleep(interval)


async def _sleep(seconds: float) -> None:
    import sniffio

    if sniffio.current_async_library() == "trio":
        import trio

        await trio.sleep(seconds)
    else:
        import asyncio

        await asyncio.sleep(seconds)
