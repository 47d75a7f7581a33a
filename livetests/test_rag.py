"""RAG: register, PUT to the signed URL, wait for embeddings, list, search (the 0.1.4 flow and helpers)."""

from __future__ import annotations

import time
import uuid

import httpx

from meshapi import AsyncMeshAPI, MeshAPI
from meshapi._types import BulkEmbedRequest, InitUploadRequest, SearchRequest

DOC = (
    "# Onboarding handbook\n\nNew engineers pair with a buddy during their first week.\n\n"
    "## Refunds\nRefunds are issued within five business days of a request.\n"
)


def test_rag_upload_embed_search_upstream_flow(client: MeshAPI) -> None:
    name = f"handbook-{uuid.uuid4().hex[:6]}.md"
    upload = client.rag.init_upload(InitUploadRequest(file_name=name, mime_type="text/markdown", embed=False))
    httpx.put(
        upload.signed_url, content=DOC.encode(), headers={"Content-Type": "text/markdown"}
    ).raise_for_status()
    deadline = time.monotonic() + 30
    while client.rag.get(upload.file_id).upload_status != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    client.rag.embed(BulkEmbedRequest(file_ids=[upload.file_id]))
    deadline = time.monotonic() + 90
    while client.rag.get(upload.file_id).embedding_status != "ready" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.rag.get(upload.file_id).embedding_status == "ready"
    assert upload.file_id in {f.file_id for f in client.rag.list(limit=200).files}
    results = client.rag.search(
        SearchRequest(query="refunds within five business days", file_ids=[upload.file_id])
    )
    assert results.results and "Refunds" in results.results[0].text + results.results[0].parent_text


def test_rag_upload_file_helper_and_wait(client: MeshAPI) -> None:
    upload = client.rag.upload_file(file_name="buddy.md", mime_type="text/markdown", content=DOC.encode())
    status = client.rag.wait_until_ready(upload.file_id, timeout=90, poll_interval=0.1)
    assert status.embedding_status == "ready"
    hits = client.rag.search(query="buddy during their first week", top_k=3)
    assert hits.results
    assert upload.file_id in {f.file_id for f in client.rag.iter_files()}


async def test_async_rag(async_client: AsyncMeshAPI) -> None:
    upload = await async_client.rag.upload_file(
        file_name="async.md", mime_type="text/markdown", content=DOC.encode()
    )
    status = await async_client.rag.wait_until_ready(upload.file_id, timeout=90, poll_interval=0.1)
    assert status.embedding_status == "ready"
