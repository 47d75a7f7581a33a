"""``Gateway.reset()`` and ``Gateway.reset_data()``: what each clears and what each keeps."""

from __future__ import annotations

from pathlib import Path

import httpx

from meshapi_gateway import serve

from .conftest import chat_body

TOKEN = "rsk_reset_tests_token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_reset_clears_faults_limits_keys_and_the_log_but_keeps_data() -> None:
    with serve([TOKEN], rpm=3) as gw, httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c:
        template = c.post(
            "/v1/templates", json={"name": "kept", "system": "Hi."}, headers={"Idempotency-Key": "k1"}
        )
        assert template.status_code == 201
        assert c.get("/v1/models").status_code == 200
        assert c.get("/v1/models").status_code == 200
        assert c.get("/v1/models").status_code == 429  # the minute's allowance is used up
        gw.faults.add("/v1/models", status=503, times=5)
        gw.reset()
        assert len(gw.faults) == 0 and len(gw.requests) == 4  # the log stays unless asked
        gw.reset(requests=True)
        assert len(gw.requests) == 0
        assert c.get("/v1/models").status_code == 200  # counters and faults are gone
        again = c.post(
            "/v1/templates", json={"name": "kept", "system": "Hi."}, headers={"Idempotency-Key": "k1"}
        )
        assert again.status_code == 409  # the key was forgotten, so the duplicate name is refused
        listed = c.get("/v1/templates").json()
        items = listed["data"] if isinstance(listed, dict) else listed
        assert [t["name"] for t in items] == ["kept"]


def test_reset_data_removes_stored_records_even_on_disk(tmp_path: Path) -> None:
    with (
        serve([TOKEN], data_dir=str(tmp_path)) as gw,
        httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c,
    ):
        assert c.post("/v1/templates", json={"name": "gone", "system": "Hi."}).status_code == 201
        batch = c.post("/v1/batches", json={"requests": [{"custom_id": "a", "body": chat_body()}]}).json()
        gw.reset_data()
        assert c.get(f"/v1/batches/{batch['id']}").status_code == 404
        listed = c.get("/v1/templates").json()
        assert (listed["data"] if isinstance(listed, dict) else listed) == []
        assert c.post("/v1/templates", json={"name": "gone", "system": "Hi."}).status_code == 201
        gw.reset_data()
    with (
        serve([TOKEN], data_dir=str(tmp_path)) as gw,
        httpx.Client(base_url=gw.base_url, headers=AUTH, timeout=10) as c,
    ):
        listed = c.get("/v1/templates").json()
        assert (listed["data"] if isinstance(listed, dict) else listed) == []
