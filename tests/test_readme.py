"""Every Python block of README.md runs, in order, against the local gateway.

Blocks share one namespace (as a reader following the page would), see ``MESHAPI_BASE_URL`` /
``MESHAPI_TOKEN`` pointing at the local gateway, and have the production URL and the placeholder key
replaced by the local ones. Async blocks end with ``asyncio.run(main())`` like the README shows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

pytest.importorskip("starlette")

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> List[Tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in FENCE.finditer(text)]


@pytest.fixture(scope="module")
def readme_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    from meshapi_gateway import serve

    workdir = tmp_path_factory.mktemp("readme")
    with serve(tokens=["rsk_readme_token"]) as gw:
        old = {k: os.environ.get(k) for k in ("MESHAPI_BASE_URL", "MESHAPI_TOKEN")}
        os.environ["MESHAPI_BASE_URL"] = gw.base_url
        os.environ["MESHAPI_TOKEN"] = gw.token
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            yield {"gateway": gw, "namespace": {"__name__": "readme"}}
        finally:
            os.chdir(cwd)
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def test_readme_has_examples() -> None:
    assert len(python_blocks(ROOT / "README.md")) >= 10


def test_readme_blocks_run(readme_env: Dict[str, Any]) -> None:
    from meshapi import MeshAPI

    gw = readme_env["gateway"]
    namespace = readme_env["namespace"]
    clients: Dict[int, MeshAPI] = {}  # every client a block made, even one a later block rebinds
    try:
        _run_blocks(gw, namespace, clients)
    finally:
        for client in clients.values():
            client.close()
    _check_tracing_example_left_a_working_provider(namespace)


def _check_tracing_example_left_a_working_provider(namespace: Dict[str, Any]) -> None:
    """The tracing example installs a global provider, which cannot be replaced: it must still export."""
    from opentelemetry import trace

    exporter = namespace["exporter"]
    trace.get_tracer("readme-probe").start_span("probe").end()
    assert "probe" in [span.name for span in exporter.get_finished_spans()]


def _run_blocks(gw: Any, namespace: Dict[str, Any], clients: Dict[int, Any]) -> None:
    from meshapi import MeshAPI

    for line, code in python_blocks(ROOT / "README.md"):
        code = code.replace("https://api.meshapi.ai", gw.base_url).replace('"rsk_..."', repr(gw.token))
        try:
            # dont_inherit: the blocks run as a reader would, without this module's __future__ import
            exec(compile(code, f"README.md:{line}", "exec", dont_inherit=True), namespace)
        except Exception as exc:  # pragma: no cover - the message says which block failed
            raise AssertionError(f"README.md block at line {line} failed: {exc!r}") from exc
        finally:
            gw.faults.clear()
            clients.update({id(v): v for v in namespace.values() if isinstance(v, MeshAPI)})


# --- the webhook receivers of README "Webhooks" (```py blocks: they need FastAPI or Flask) -------------

WEBHOOK_SECRET = "whsec_readme_receiver"


def _block_after(marker: str) -> str:
    """The ```py block that follows the line ``marker`` of README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```py\n", text.index(f"\n{marker}\n")) + len("```py\n")
    return text[start : text.index("```", start)]


def _receiver(marker: str, name: str, monkeypatch: pytest.MonkeyPatch, **your_code: Any) -> Any:
    monkeypatch.setenv("MESHAPI_WEBHOOK_SECRET", WEBHOOK_SECRET)
    namespace: Dict[str, Any] = {"__name__": name, **your_code}
    exec(compile(_block_after(marker), f"README.md ({marker})", "exec", dont_inherit=True), namespace)
    return namespace["app"]


def _delivery(event_type: str, data: Dict[str, Any]) -> Tuple[bytes, Dict[str, str]]:
    import json

    import meshapi.webhooks

    event = {
        "id": f"evt_{event_type}",
        "type": event_type,
        "created_at": "2026-09-01T12:00:00Z",
        "data": data,
    }
    body = json.dumps(event).encode()
    return body, meshapi.webhooks.sign(body, WEBHOOK_SECRET)


def test_the_readme_fastapi_receiver_acts_once_and_refuses_a_tampered_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("fastapi")
    from decimal import Decimal

    from fastapi.testclient import TestClient

    billed: List[Any] = []
    app = _receiver("With FastAPI:", "readme_fastapi", monkeypatch, notify_billing=billed.append)
    body, headers = _delivery("balance.low", {"balance_usd": "4.20", "threshold_usd": "5"})
    with TestClient(app) as http:
        answers = [http.post("/meshapi/webhooks", content=body, headers=headers) for _ in range(2)]
        tampered = http.post("/meshapi/webhooks", content=body.replace(b"4.20", b"9.20"), headers=headers)
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"received": True})] * 2
    assert billed == [Decimal("4.20")]  # the repeat is answered, not acted on
    assert (tampered.status_code, tampered.json()) == (400, {"detail": "mismatch"})


def test_the_readme_flask_receiver_acts_once_and_refuses_a_tampered_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("flask")
    paused: List[Any] = []
    app = _receiver("With Flask:", "readme_flask", monkeypatch, pause_batch_jobs=paused.append)
    body, headers = _delivery("spend_cap.hit", {"scope_id": "key_123", "cap_usd": "50", "spent_usd": "50"})
    http = app.test_client()
    answers = [http.post("/meshapi/webhooks", data=body, headers=headers) for _ in range(2)]
    tampered = http.post("/meshapi/webhooks", data=body.replace(b"key_123", b"key_999"), headers=headers)
    assert [(a.status_code, a.get_json()) for a in answers] == [(200, {"received": True})] * 2
    assert paused == ["key_123"]
    assert tampered.status_code == 400 and b"mismatch" in tampered.data


# --- README "HTTP/2" (a ```py block: it needs an https:// gateway, hypercorn and h2) ---------------------


def test_the_readme_http2_example_speaks_http2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("h2", "hypercorn", "cryptography"):
        pytest.importorskip(name)
    from meshapi_gateway.http.app import create_app
    from meshapi_gateway.http.tls import self_signed, serve_tls

    cert, key = self_signed(str(tmp_path))
    app = create_app(tokens=["rsk_readme_token"])
    try:
        with serve_tls(app, cert, key) as server:
            monkeypatch.setenv("SSL_CERT_FILE", cert)
            monkeypatch.setenv("MESHAPI_BASE_URL", server.base_url)
            monkeypatch.setenv("MESHAPI_TOKEN", "rsk_readme_token")
            code = compile(_block_after("### HTTP/2"), "README.md (HTTP/2)", "exec", dont_inherit=True)
            exec(code, {"__name__": "readme_http2"})
    finally:
        app.state.gateway.close()
    assert capsys.readouterr().out == "HTTP/2\n"
