"""A local gateway in a child process, so a hostile request's memory is measured on the server alone.

``ChildGateway(**settings)`` starts ``meshapi_gateway.serve(**settings)`` in a fresh interpreter
(``proxy`` given as a dict of :class:`~meshapi_gateway.ProxySettings` fields),
reads its base URL from the first line of its stdout and stops it by closing its stdin (killed if it
does not exit within 5 s). ``rss()`` / ``peak_rss()`` read ``VmRSS`` / ``VmHWM`` of that process.
``others_keep_answering(...)`` runs a hostile request in a thread while timing normal calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any, Callable, List, Optional

import httpx

_SCRIPT = """
import json, sys
from meshapi_gateway import ProxySettings, serve
settings = json.loads(sys.argv[1])
if "proxy" in settings:
    settings["proxy"] = ProxySettings(**settings["proxy"])
with serve(**settings) as gw:
    print(gw.base_url, flush=True)
    sys.stdin.read()
"""


class ChildGateway:
    def __init__(self, **settings: Any) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the child gateway did not start: {line!r}")
        self.base_url = line
        self.pid = self.proc.pid

    def _status(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for row in status:
                if row.startswith(field + ":"):
                    return int(row.split()[1]) * 1024
        raise AssertionError(f"{field} missing from /proc/{self.pid}/status")

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak_rss(self) -> int:
        return self._status("VmHWM")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a wedged child
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def others_keep_answering(base_url: str, token: str, hostile: Callable[[], Any], *, calls: int = 10) -> Any:
    """Run ``hostile()`` in a thread while making normal calls; return its result and the latencies.

    Returns ``(result, latencies)``; every normal call must succeed (asserted here).
    """
    outcome: List[Any] = []
    failure: List[BaseException] = []

    def run() -> None:
        try:
            outcome.append(hostile())
        except BaseException as exc:  # handed to the test thread
            failure.append(exc)

    worker = threading.Thread(target=run, name="hostile-request")
    latencies: List[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as normal:
        worker.start()
        for _ in range(calls):
            started = time.monotonic()
            answer = normal.get("/v1/models")
            latencies.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.text[:200]
            time.sleep(0.01)
    worker.join(timeout=60)
    assert not worker.is_alive(), "the hostile request did not finish"
    if failure:
        raise failure[0]
    result: Optional[Any] = outcome[0] if outcome else None
    return result, latencies
