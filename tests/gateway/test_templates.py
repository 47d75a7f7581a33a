"""Templates CRUD (API.md §4.6)."""

from __future__ import annotations

import datetime as dt

import httpx

from .conftest import assert_envelope


def test_template_lifecycle(client: httpx.Client, other_client: httpx.Client) -> None:
    payload = {
        "name": "support-triage",
        "system": "You triage tickets for {{ product }}.",
        "model": "openai/gpt-4o-mini",
        "params": {"temperature": 0.2},
        "variables": ["product"],
    }
    created = client.post("/v1/templates", json=payload)
    assert created.status_code == 201
    template = created.json()
    assert template["is_global"] is False and template["name"] == "support-triage"
    assert template["params"] == {"temperature": 0.2} and template["messages"] is None
    for key in ("created_at", "updated_at"):
        assert dt.datetime.fromisoformat(template[key]).tzinfo is not None
    ident = template["id"]
    try:
        duplicate = client.post("/v1/templates", json={"name": "support-triage"})
        assert duplicate.status_code == 409 and set(duplicate.json()) == {"detail"}
        assert "support-triage" in duplicate.json()["detail"]
        second = client.post("/v1/templates", json={"name": "second-one"}).json()
        listed = client.get("/v1/templates").json()
        assert [t["id"] for t in listed[:2]] == [second["id"], ident]  # newest first
        assert client.get(f"/v1/templates/{ident}").json() == template
        patched = client.patch(
            f"/v1/templates/{ident}", json={"description": "Routes tickets", "model": None}
        )
        assert patched.status_code == 200
        assert patched.json()["description"] == "Routes tickets"
        assert patched.json()["model"] == "openai/gpt-4o-mini"  # null fields do not change
        rename_clash = client.patch(f"/v1/templates/{ident}", json={"name": "second-one"})
        assert rename_clash.status_code == 409
        assert other_client.get("/v1/templates").json() == []  # per owner
        assert_envelope(other_client.get(f"/v1/templates/{ident}"), 404, "not_found")
        deleted = client.delete(f"/v1/templates/{second['id']}")
        assert deleted.status_code == 204 and deleted.content == b""
    finally:
        client.delete(f"/v1/templates/{ident}")
    assert_envelope(client.get(f"/v1/templates/{ident}"), 404, "not_found")
    assert_envelope(client.delete(f"/v1/templates/{ident}"), 404, "not_found")
    assert_envelope(client.get("/v1/templates/not-a-uuid"), 404, "not_found")
    assert_envelope(client.post("/v1/templates", json={"system": "x"}), 422, "validation_error")
