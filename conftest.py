"""Settings shared by every test directory."""

from __future__ import annotations

import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if sys.version_info < (3, 10):
        # On Python 3.9, pytest-asyncio saves the "current" loop with asyncio.get_event_loop(), which
        # under a fresh policy creates a loop (with its AF_UNIX self-pipe) that nothing closes. That
        # leak is the test runner's, not ours; the SDK never creates a loop or an AF_UNIX socket.
        config.addinivalue_line("filterwarnings", "ignore:unclosed event loop:ResourceWarning")
        config.addinivalue_line(
            "filterwarnings", r"ignore:unclosed <socket\.socket .*AF_UNIX:ResourceWarning"
        )
