"""The one request every benchmark case sends, and the token the benchmark server accepts.

Its own module so the case modules (``workloads``, ``startup``) share it without importing each other.
"""

from __future__ import annotations

__all__ = ["BODY", "HEADERS", "MESSAGES", "MODEL", "TOKEN"]

TOKEN = "rsk_benchmark_token_0000"
MODEL = "bench/echo-1"
MESSAGES = [{"role": "user", "content": "Say hello."}]
BODY = {"model": MODEL, "messages": MESSAGES}
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
