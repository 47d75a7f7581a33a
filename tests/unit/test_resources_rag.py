"""rag.upload_file (the signed PUT), wait_until_ready, iter_files."""

from __future__ import annotations

import io
import json
import pathlib
import pickle
from typing import Any, Callable, Dict, List

import httpx
import pytest

import meshapi
from meshapi import InvalidParamsError, MeshAPI, RagFileStatus
from meshapi.lib.polling import ProcessingFailedError, WaitTimeoutError
from tests.conftest import collect, resolve
from tests.unit import _payloads as P

CONTENT = b"# Refunds\nRefunds are issued within 5 business days.\n"


def upload_handler(
    put_replies: List[Any], seen: List[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    """POST /v1/files answers the init payload; each PUT takes the next reply (a status or an exception)."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200, json=P.INIT_UPLOAD, headers={"x-request-id": "req_init"})
        reply = put_replies.pop(0) if put_replies else 200
        if isinstance(reply, Exception):
            raise reply
        body = b"" if reply < 400 else b"<Error><Code>AccessDenied</Code></Error>"
        return httpx.Response(reply, content=body, headers={"content-type": "application/xml"})

    return handler


async def upload(client: Any, content: Any = CONTENT, **kwargs: Any) -> Any:
    return await resolve(
        client.rag.upload_file(
            file_name="refund-policy.md",
            mime_type="text/markdown",
            content=content,
            embed=True,
            metadata={"team": "support"},
            **kwargs,
        )
    )


async def test_upload_file_puts_through_the_sdk_client_without_credentials(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(upload_handler([], seen), default_headers={"X-Org": "org_1"})
    result = await upload(client, timeout=7.0)
    assert result.file_id == P.FILE_ID and result.signed_url == P.SIGNED_URL
    init, put = seen
    assert init.url.path == "/v1/files" and init.headers["authorization"].startswith("Bearer ")
    assert json.loads(init.content) == {
        "file_name": "refund-policy.md",
        "mime_type": "text/markdown",
        "embed": True,
        "metadata": {"team": "support"},
    }
    assert put.method == "PUT" and str(put.url) == P.SIGNED_URL
    assert put.content == CONTENT and put.headers["content-type"] == "text/markdown"
    for name in ("authorization", "x-meshapi-sdk", "idempotency-key", "x-org"):
        assert name not in put.headers, name
    assert put.extensions["timeout"]["read"] == 7.0


@pytest.mark.parametrize("kind", ["bytearray", "str-path", "pathlib", "file-object"])
async def test_upload_file_content_kinds(make_client: Any, tmp_path: pathlib.Path, kind: str) -> None:
    path = tmp_path / "refund-policy.md"
    path.write_bytes(CONTENT)
    content: Any = {
        "bytearray": bytearray(CONTENT),
        "str-path": str(path),
        "pathlib": path,
        "file-object": io.BytesIO(CONTENT),
    }[kind]
    seen: List[httpx.Request] = []
    await upload(make_client(upload_handler([], seen)), content)
    assert seen[-1].content == CONTENT


@pytest.mark.parametrize("content", [123, "/nonexistent/dir/file.md", io.StringIO("text")])
async def test_bad_content_fails_before_any_request(make_client: Any, content: Any) -> None:
    seen: List[httpx.Request] = []
    with pytest.raises(InvalidParamsError):
        await upload(make_client(upload_handler([], seen)), content)
    assert seen == []


async def test_put_is_retried_on_retryable_failures(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(upload_handler([503, httpx.ConnectError("reset"), 200], seen))
    await upload(client)
    assert [r.method for r in seen] == ["POST", "PUT", "PUT", "PUT"]


async def test_failed_put_is_a_typed_error_naming_the_orphaned_file(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(upload_handler([403], seen))
    with pytest.raises(meshapi.MeshAPIError) as info:
        await upload(client)
    error = info.value
    assert isinstance(error, meshapi.PermissionDeniedError) and not isinstance(error, httpx.HTTPError)
    assert error.status == 403 and error.file_id == P.FILE_ID  # type: ignore[attr-defined]
    assert P.FILE_ID in str(error) and "without content" in str(error) and "AccessDenied" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.file_id == P.FILE_ID and str(copy) == str(error)


async def test_put_connection_failure_after_retries(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(upload_handler([httpx.ConnectError("down")] * 10, seen), max_retries=1)
    with pytest.raises(meshapi.APIConnectionError) as info:
        await upload(client)
    assert info.value.file_id == P.FILE_ID  # type: ignore[attr-defined]
    assert [r.method for r in seen] == ["POST", "PUT", "PUT"]


def test_authorization_on_an_injected_client_is_not_sent_to_storage() -> None:
    seen: List[httpx.Request] = []
    inner = httpx.Client(
        transport=httpx.MockTransport(upload_handler([], seen)), headers={"Authorization": "Bearer injected"}
    )
    with MeshAPI(base_url="http://gateway.test", token="rsk_unit_test_token", httpx_client=inner) as client:
        client.rag.upload_file(file_name="a.txt", mime_type="text/plain", content=b"x")
    inner.close()
    assert seen[0].headers["authorization"] == "Bearer rsk_unit_test_token"
    assert "authorization" not in seen[1].headers


# --- wait_until_ready ----------------------------------------------------------------------------------


def status_handler(
    statuses: List[Dict[str, Any]], seen: List[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        current = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return httpx.Response(200, json={**P.FILE_STATUS, **current}, headers={"x-request-id": "req_poll"})

    return handler


async def test_wait_until_embedded(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    statuses = [
        {"upload_status": "pending", "embedding_status": "pending"},
        {"upload_status": "ready", "embedding_status": "processing"},
        {"upload_status": "ready", "embedding_status": "ready"},
    ]
    client = make_client(status_handler(statuses, seen))
    final = await resolve(client.rag.wait_until_ready("f/1", poll_interval=0))
    assert isinstance(final, RagFileStatus) and final.embedding_status == "ready"
    assert len(seen) == 3 and all(r.url.raw_path == b"/v1/files/f%2F1" for r in seen)


async def test_wait_until_uploaded(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    statuses = [
        {"upload_status": "pending", "embedding_status": "pending"},
        {"upload_status": "ready", "embedding_status": "pending"},
    ]
    client = make_client(status_handler(statuses, seen))
    final = await resolve(client.rag.wait_until_ready(P.FILE_ID, poll_interval=0, until="uploaded"))
    assert final.upload_status == "ready" and len(seen) == 2


async def test_wait_raises_when_embedding_fails(make_client: Any) -> None:
    statuses = [
        {"embedding_status": "processing"},
        {"embedding_status": "failed", "last_error_code": "unsupported_file"},
    ]
    client = make_client(status_handler(statuses, []))
    with pytest.raises(ProcessingFailedError) as info:
        await resolve(client.rag.wait_until_ready(P.FILE_ID, poll_interval=0))
    error = info.value
    assert error.error_code == "unsupported_file" and error.resource_id == P.FILE_ID
    assert error.last.embedding_status == "failed" and error.request_id == "req_poll"
    assert "rag.embed" in str(error)


async def test_wait_deadline_is_a_timeout_error_with_the_last_status(make_client: Any) -> None:
    client = make_client(status_handler([{"embedding_status": "queued"}], []))
    with pytest.raises(WaitTimeoutError) as info:
        await resolve(client.rag.wait_until_ready(P.FILE_ID, timeout=0.05, poll_interval=0.01))
    error = info.value
    assert isinstance(error, meshapi.APITimeoutError)
    assert error.last.embedding_status == "queued" and "queued" in str(error)
    assert pickle.loads(pickle.dumps(error)).resource_id == P.FILE_ID


@pytest.mark.parametrize(
    "kwargs",
    [
        {"until": "searchable"},
        {"timeout": 0},
        {"timeout": -1},
        {"poll_interval": -0.1},
        {"timeout": float("nan")},
        {"timeout": True},
    ],
)
async def test_wait_rejects_bad_arguments(make_client: Any, kwargs: Dict[str, Any]) -> None:
    seen: List[httpx.Request] = []
    client = make_client(status_handler([{}], seen))
    with pytest.raises(InvalidParamsError):
        await resolve(client.rag.wait_until_ready(P.FILE_ID, **kwargs))
    assert seen == []


# --- iter_files ----------------------------------------------------------------------------------------


async def test_iter_files_walks_every_page(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    files = [{**P.FILE_STATUS, "file_id": f"f{i}"} for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        page = files[offset : offset + limit]
        return httpx.Response(
            200, json={"files": page, "total": len(files), "limit": limit, "offset": offset}
        )

    client = make_client(handler)
    got = await collect(client.rag.iter_files(page_size=2))
    assert [f.file_id for f in got] == [f"f{i}" for i in range(5)]
    assert [(r.url.params["limit"], r.url.params["offset"]) for r in seen] == [
        ("2", "0"),
        ("2", "2"),
        ("2", "4"),
    ]
    with pytest.raises(InvalidParamsError):
        client.rag.iter_files(page_size=0)


async def test_relative_signed_url_resolves_against_the_base_url(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(200, json={**P.INIT_UPLOAD, "signed_url": "/_upload/tok?sig=1"})
        return httpx.Response(200)

    await upload(make_client(handler))
    assert str(seen[1].url) == "http://gateway.test/_upload/tok?sig=1"
    assert "authorization" not in seen[1].headers


async def test_unusable_signed_url_is_a_typed_error(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":  # what a real transport does with this scheme
            raise httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'.")
        return httpx.Response(200, json={**P.INIT_UPLOAD, "signed_url": "ftp://storage.test/x"})

    with pytest.raises(meshapi.APIConnectionError) as info:
        await upload(make_client(handler))
    assert info.value.file_id == P.FILE_ID  # type: ignore[attr-defined]
    assert "unsupported protocol" in str(info.value)
