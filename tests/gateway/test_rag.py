"""RAG flow: register, signed PUT, embedding statuses, embed, list and search (API.md §5)."""

from __future__ import annotations

import time
from typing import Any, Dict
from urllib.parse import urlsplit

import httpx

from meshapi_gateway import serve
from tests._poll import wait_until

from .conftest import TOKEN, assert_envelope

DOC = (
    "## Refunds\nRefunds are issued within 5 business days. Contact support with your order id.\n\n"
    "## Shipping\nOrders ship from our warehouse in Leeds. Express delivery takes one day.\n\n"
    "## Warranty\nEvery kettle carries a two year warranty against manufacturing defects."
)


def wait_for(client: httpx.Client, file_id: str, status: str) -> Dict[str, Any]:
    deadline = time.monotonic() + 5
    seen = []
    while time.monotonic() < deadline:
        body = client.get(f"/v1/files/{file_id}").json()
        seen.append(body["embedding_status"])
        if body["embedding_status"] == status:
            body["_seen"] = seen
            return dict(body)
        time.sleep(0.005)
    raise AssertionError(f"never reached {status}: {seen}")


def register(client: httpx.Client, **extra: Any) -> Dict[str, Any]:
    body = {"file_name": "policy.md", "mime_type": "text/markdown", "metadata": {"team": "support"}}
    body.update(extra)
    response = client.post("/v1/files", json=body)
    assert response.status_code == 200
    return dict(response.json())


def test_upload_embed_and_search(client: httpx.Client, other_client: httpx.Client) -> None:
    init = register(client)
    assert set(init) == {"file_id", "signed_url", "expires_at"}
    url = init["signed_url"]
    assert url.startswith(str(client.base_url).rstrip("/") + "/_upload/")
    status = client.get(f"/v1/files/{init['file_id']}").json()
    assert status["upload_status"] == "pending" and status["embedding_status"] == "pending"
    with httpx.Client(timeout=10) as storage:  # no bearer token: the signature is the credential
        wrong_type = storage.put(url, content=DOC.encode(), headers={"Content-Type": "text/plain"})
        assert 400 <= wrong_type.status_code < 500
        assert not wrong_type.headers["content-type"].startswith("application/json")
        ok = storage.put(url, content=DOC.encode(), headers={"Content-Type": "text/markdown"})
        assert ok.status_code == 200
    ready = wait_for(client, init["file_id"], "ready")
    assert ready["upload_status"] == "ready" and ready["size_bytes"] == len(DOC.encode())
    assert ready["total_tokens"] > 0 and isinstance(ready["total_cost_usd"], float)
    assert ready["file_type"] == "document" and ready["mime_type"] == "text/markdown"
    results = client.post("/v1/files/search", json={"query": "How long do refunds take?", "top_k": 3}).json()[
        "results"
    ]
    assert results and "Refunds are issued within 5 business days" in results[0]["text"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    top = results[0]
    assert top["file_id"] == init["file_id"] and top["file_name"] == "policy.md"
    assert top["metadata"] == {"team": "support"} and "Refunds" in top["parent_text"]
    assert isinstance(top["chunk_index"], int) and isinstance(top["created_at"], int)
    phrase = client.post("/v1/files/search", json={"query": "warehouse in Leeds"}).json()["results"]
    assert "Leeds" in phrase[0]["text"]
    filtered = client.post("/v1/files/search", json={"query": "refunds", "filter": {"team": "sales"}}).json()
    assert filtered["results"] == []
    scoped = client.post("/v1/files/search", json={"query": "refunds", "file_ids": ["nope"]}).json()
    assert scoped["results"] == []
    later = client.post(
        "/v1/files/search", json={"query": "refunds", "date_from": int(time.time()) + 3600}
    ).json()
    assert later["results"] == []
    assert other_client.post("/v1/files/search", json={"query": "refunds"}).json()["results"] == []
    assert_envelope(other_client.get(f"/v1/files/{init['file_id']}"), 404, "not_found")


def test_embed_false_then_bulk_embed(client: httpx.Client) -> None:
    init = register(client, embed=False, file_name="notes.txt", mime_type="text/plain")
    not_uploaded = client.post("/v1/files/embed", json={"file_ids": [init["file_id"]]}).json()["results"][0]
    assert not_uploaded["error"] and not_uploaded["embedding_status"] == "pending"
    with httpx.Client(timeout=10) as storage:
        storage.put(
            init["signed_url"],
            content=b"Zebras graze on the savanna at dawn.",
            headers={"Content-Type": "text/plain"},
        )
    status = wait_until(
        lambda: (lambda s: s if s["upload_status"] == "ready" else None)(
            client.get(f"/v1/files/{init['file_id']}").json()
        ),
        what="the upload is seen",
    )
    assert status["upload_status"] == "ready" and status["embedding_status"] == "pending"
    result = client.post(
        "/v1/files/embed", json={"file_ids": [init["file_id"], "missing-id"], "metadata": {"lang": "en"}}
    ).json()["results"]
    assert result[0] == {
        "file_id": init["file_id"],
        "embedding_status": "queued",
        "chunk_count": None,
        "error": None,
    }
    assert result[1]["error"]
    wait_for(client, init["file_id"], "ready")
    again = client.post("/v1/files/embed", json={"file_ids": [init["file_id"]]}).json()["results"][0]
    assert again["error"] == "embedding_status must be pending or failed" and again["chunk_count"] == 1
    hits = client.post("/v1/files/search", json={"query": "zebras", "filter": {"lang": "en"}}).json()[
        "results"
    ]
    assert hits[0]["file_id"] == init["file_id"]


def test_wait_and_failed_embedding(client: httpx.Client) -> None:
    init = register(client, embed=False, file_name="blank.txt", mime_type="text/plain")
    with httpx.Client(timeout=10) as storage:
        storage.put(init["signed_url"], content=b"   \n ", headers={"Content-Type": "text/plain"})
    result = client.post("/v1/files/embed", json={"file_ids": [init["file_id"]], "wait": True}).json()[
        "results"
    ][0]
    assert result["embedding_status"] == "failed"
    status = client.get(f"/v1/files/{init['file_id']}").json()
    assert status["embedding_status"] == "failed" and status["last_error_code"]


def test_pdf_text_is_extracted(client: httpx.Client) -> None:
    pdf = (
        b"%PDF-1.4\n1 0 obj << /Length 44 >>\nstream\nBT /F1 12 Tf (Flamingos stand on one leg) Tj ET\n"
        b"endstream\nendobj\n%%EOF\n"
    )
    init = register(client, embed=False, file_name="birds.pdf", mime_type="application/pdf")
    with httpx.Client(timeout=10) as storage:
        storage.put(init["signed_url"], content=pdf, headers={"Content-Type": "application/pdf"})
    client.post("/v1/files/embed", json={"file_ids": [init["file_id"]], "wait": True})
    hits = client.post("/v1/files/search", json={"query": "flamingos", "file_ids": [init["file_id"]]}).json()
    assert "Flamingos stand on one leg" in hits["results"][0]["text"]


def test_bad_signatures_and_listing(client: httpx.Client) -> None:
    init = register(client)
    parts = urlsplit(init["signed_url"])
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    with httpx.Client(timeout=10) as storage:
        forged = storage.put(
            base + "?expires=9999999999&signature=00", content=b"x", headers={"Content-Type": "text/markdown"}
        )
        assert forged.status_code == 403 and "json" not in forged.headers["content-type"]
        unsigned = storage.put(base, content=b"x", headers={"Content-Type": "text/markdown"})
        assert unsigned.status_code == 403
    listing = client.get("/v1/files", params={"limit": 2}).json()
    assert listing["limit"] == 2 and listing["offset"] == 0 and len(listing["files"]) == 2
    assert listing["files"][0]["file_id"] == init["file_id"]  # newest first
    assert listing["total"] >= 2
    rest = client.get("/v1/files", params={"limit": 200, "offset": 1}).json()
    assert rest["files"][0]["file_id"] == listing["files"][1]["file_id"]
    assert_envelope(client.get("/v1/files", params={"limit": 201}), 422, "validation_error")
    assert_envelope(client.get("/v1/files", params={"offset": -1}), 422, "validation_error")
    assert_envelope(
        client.post("/v1/files/search", json={"query": "x", "top_k": 51}), 422, "validation_error"
    )
    assert_envelope(
        client.post("/v1/files/search", json={"query": "x", "file_ids": []}), 422, "validation_error"
    )
    assert_envelope(client.post("/v1/files/embed", json={"file_ids": []}), 422, "validation_error")
    assert_envelope(client.post("/v1/files/embed", json={"file_ids": ["a"] * 101}), 422, "validation_error")
    assert_envelope(client.get("/v1/files/unknown"), 404, "not_found")


def test_embedding_status_transitions() -> None:
    with (
        serve([TOKEN], embed_step_seconds=0.3) as slow,
        httpx.Client(base_url=slow.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as c,
    ):
        init = register(c)
        c.put(init["signed_url"], content=DOC.encode(), headers={"Content-Type": "text/markdown"})
        assert c.get(f"/v1/files/{init['file_id']}").json()["embedding_status"] == "queued"
        seen = wait_for(c, init["file_id"], "ready")["_seen"]
        assert seen[0] == "queued" and "processing" in seen
        assert seen.index("processing") > seen.index("queued")
