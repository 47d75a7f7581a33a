"""The /_admin routes: their own token, faults over HTTP, the request log."""

from __future__ import annotations

import httpx

from meshapi_gateway import Gateway

from .conftest import TOKEN, assert_envelope, chat_body


def test_admin_routes_need_the_admin_token(gw: Gateway) -> None:
    assert gw.admin_token and gw.admin_token != TOKEN
    with httpx.Client(base_url=gw.base_url, timeout=10) as c:
        assert_envelope(c.get("/_admin/requests"), 401, "unauthorized")
        wrong = c.post("/_admin/faults", json={"route": "/x"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert_envelope(wrong, 401, "unauthorized")
    assert len(gw.faults) == 0


def test_faults_and_requests_over_http(gw: Gateway, client: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {gw.admin_token}"}
    with httpx.Client(base_url=gw.base_url, headers=admin, timeout=10) as c:
        added = c.post(
            "/_admin/faults", json={"route": "/v1/chat/completions", "status": 503, "retry_after": "1"}
        )
        assert added.status_code == 200 and added.json()["faults"][0]["status"] == 503
        assert len(c.get("/_admin/faults").json()["faults"]) == 1
        response = client.post("/v1/chat/completions", json=chat_body())
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        several = c.post(
            "/_admin/faults", json={"faults": [{"route": "/v1/models", "status": 500}, {"route": "/v1/x"}]}
        )
        assert len(several.json()["faults"]) == 2
        assert c.delete("/_admin/faults").json() == {"cleared": True}
        assert client.get("/v1/models").status_code == 200
        bad = c.post("/_admin/faults", json={"route": "/v1/models", "colour": "red"})
        assert_envelope(bad, 400, "invalid_request")
        assert_envelope(c.post("/_admin/faults", json={"status": 500}), 400, "invalid_request")
        log = c.get("/_admin/requests", params={"path": "/v1/chat/completions"}).json()
        assert log["total"] >= 1
        entry = log["requests"][-1]
        assert entry["method"] == "POST" and entry["json"] == chat_body() and entry["status"] == 503
        assert entry["faulted"] is True and entry["request_id"] == response.headers["x-request-id"]
        assert "authorization" in entry["headers"]
        assert c.delete("/_admin/requests").json() == {"cleared": True}
        # The admin calls themselves are logged too, but never faulted.
        assert all(r.path.startswith("/_admin") for r in gw.requests)
