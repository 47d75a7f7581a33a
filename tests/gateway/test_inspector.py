"""The inspector's page files and the admin routes it uses; the request log it reads (raw httpx)."""

from __future__ import annotations

import gc
import json
import re
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any, Dict, Iterator
from urllib.parse import parse_qsl

import httpx
import pytest

from meshapi_gateway import Gateway, RequestLog, RequestRecord, serve
from meshapi_gateway.http.cli import _parser, main
from meshapi_gateway.record import inspector as inspector_pkg

from .conftest import TOKEN, assert_envelope, chat_body

CHAT = "/v1/chat/completions"
PAGE_FILES = ("index.html", "inspector.css", "inspector.js")


@pytest.fixture
def fresh() -> Iterator[Gateway]:
    with serve([TOKEN]) as gateway:
        yield gateway


def admin(gw: Gateway) -> Dict[str, str]:
    return {"Authorization": f"Bearer {gw.admin_token}"}


# -- the page ------------------------------------------------------------------------------------------


def test_page_files_are_served_with_a_strict_policy(fresh: Gateway) -> None:
    with httpx.Client(base_url=fresh.base_url) as c:
        assert c.get("/_inspector").headers["location"] == "/_inspector/"
        for path, kind in (
            ("/_inspector/", "text/html"),
            ("/_inspector/inspector.js", "text/javascript"),
            ("/_inspector/inspector.css", "text/css"),
        ):
            response = c.get(path)
            assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
            assert response.headers["cache-control"] == "no-store"
            assert fresh.admin_token not in response.text  # the files hold no secret, no data
        assert c.get("/_inspector/../state.py").status_code == 404
        assert c.get("/_inspector/secrets.txt").status_code == 404
    # serving the page is not logged (it would drown the requests you came to see)
    assert not [r for r in fresh.requests if r.path.startswith("/_inspector")]


def test_page_works_offline_no_remote_resources() -> None:
    here = Path(inspector_pkg.__file__).parent
    for name in PAGE_FILES:
        text = (here / name).read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), name
        assert "innerHTML" not in text and "eval(" not in text


def test_inspector_url_carries_the_admin_token_in_the_fragment(fresh: Gateway) -> None:
    assert fresh.inspector_url == f"{fresh.base_url}/_inspector/#key={fresh.admin_token}"


def test_inspector_can_be_turned_off() -> None:
    with serve([TOKEN], inspector=False) as gw:
        assert gw.inspector_url is None
        assert_envelope(httpx.get(gw.base_url + "/_inspector/"), 404, "not_found")
        assert httpx.get(gw.base_url + "/_admin/faults", headers=admin(gw)).status_code == 200
    assert _parser().parse_args(["--no-inspector"]).no_inspector is True
    assert _parser().parse_args([]).no_inspector is False


# -- admin routes the page uses --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_summary_is_newest_first_and_detail_has_the_exchange(fresh: Gateway, mode: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "key-1"}
    plain = httpx.post(fresh.base_url + CHAT, json=chat_body(), headers=headers)
    streamed = httpx.post(
        fresh.base_url + CHAT, json=chat_body(stream=True), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert plain.status_code == streamed.status_code == 200
    if mode == "sync":
        with httpx.Client(base_url=fresh.base_url, headers=admin(fresh)) as c:
            rows = c.get("/_admin/requests/summary").json()
            older = c.get(
                "/_admin/requests/summary", params={"since": rows["requests"][1]["id"] - 1, "limit": 1}
            ).json()
            detail_plain = c.get(f"/_admin/requests/{rows['requests'][1]['id']}").json()
            detail_stream = c.get(f"/_admin/requests/{rows['requests'][0]['id']}").json()
            missing = c.get("/_admin/requests/999999")
            bad = c.get("/_admin/requests/summary", params={"since": "-1"})
            denied = httpx.get(fresh.base_url + "/_admin/requests/summary")
    else:
        async with httpx.AsyncClient(base_url=fresh.base_url, headers=admin(fresh)) as c:
            rows = (await c.get("/_admin/requests/summary")).json()
            older = (
                await c.get(
                    "/_admin/requests/summary", params={"since": rows["requests"][1]["id"] - 1, "limit": 1}
                )
            ).json()
            detail_plain = (await c.get(f"/_admin/requests/{rows['requests'][1]['id']}")).json()
            detail_stream = (await c.get(f"/_admin/requests/{rows['requests'][0]['id']}")).json()
            missing = await c.get("/_admin/requests/999999")
            bad = await c.get("/_admin/requests/summary", params={"since": "-1"})
        async with httpx.AsyncClient() as anonymous:
            denied = await anonymous.get(fresh.base_url + "/_admin/requests/summary")
    assert_envelope(denied, 401, "unauthorized")
    assert_envelope(missing, 404, "not_found")
    assert_envelope(bad, 400, "invalid_request")
    first, second = rows["requests"][:2]
    assert first["streamed"] is True and second["streamed"] is False and first["id"] > second["id"]
    assert [r["id"] for r in older["requests"]] == [first["id"]]
    reply = plain.json()
    assert second["request_id"] == plain.headers["x-request-id"] and second["idempotency_key"] == "key-1"
    assert (second["tokens_in"], second["tokens_out"]) == (
        reply["usage"]["prompt_tokens"],
        reply["usage"]["completion_tokens"],
    )
    price = fresh.state.catalog.get("openai/gpt-4o-mini")
    assert price is not None
    expected = fresh.state.catalog.cost(price, second["tokens_in"], second["tokens_out"])
    assert second["cost"] == expected and Decimal(expected) > 0
    assert second["latency_ms"] >= 0 and second["duration_ms"] >= second["latency_ms"] and second["done"]
    assert detail_plain["response"]["body"] == reply and detail_plain["json"] == chat_body()
    events = detail_stream["response"]["events"]
    raw = "".join(e["text"] + "\n\n" for e in events)
    assert raw.encode() == streamed.content  # every event kept, in order
    assert events[-1]["text"] == "data: [DONE]" and detail_stream["response"]["event_count"] == len(events)
    assert [e["ms"] for e in events] == sorted(e["ms"] for e in events)
    assert detail_stream["tokens_out"] and detail_stream["cost"]


def test_a_fault_is_shown_with_its_error_envelope(fresh: Gateway) -> None:
    with httpx.Client(base_url=fresh.base_url, headers=admin(fresh)) as c:
        c.post("/_admin/faults", json={"route": CHAT, "status": 503, "retry_after": "1"})
        failed = httpx.post(
            fresh.base_url + CHAT, json=chat_body(), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        row = c.get("/_admin/requests/summary", params={"path": CHAT}).json()["requests"][0]
        detail = c.get(f"/_admin/requests/{row['id']}").json()
    assert row["status"] == 503 and row["faulted"] is True
    assert detail["response"]["body"] == failed.json() and detail["fault"]["status"] == 503
    assert detail["response"]["headers"]["retry-after"] == "1"


def test_rate_limits_from_the_admin_api(fresh: Gateway) -> None:
    chat = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=fresh.base_url, headers=admin(fresh)) as c:
        assert c.get("/_admin/limits").json() == {"rpm": None, "rpd": None}
        assert c.put("/_admin/limits", json={"rpm": 2, "rpd": None}).json() == {"rpm": 2, "rpd": None}
        statuses = [httpx.get(fresh.base_url + "/v1/models", headers=chat).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        c.post("/_admin/reset")  # counts start again, limits stay
        assert httpx.get(fresh.base_url + "/v1/models", headers=chat).status_code == 200
        assert c.get("/_admin/limits").json()["rpm"] == 2
        assert c.put("/_admin/limits", json={"rpm": None, "rpd": None}).json() == {"rpm": None, "rpd": None}
        assert all(
            httpx.get(fresh.base_url + "/v1/models", headers=chat).status_code == 200 for _ in range(3)
        )
        for bad in ({"rpm": 0}, {"rpm": "5"}, {"rpm": True}, {"burst": 3}):
            assert_envelope(c.put("/_admin/limits", json=bad), 400, "invalid_request")


def test_reset_clears_faults_log_and_stored_data(fresh: Gateway) -> None:
    chat = {"Authorization": f"Bearer {TOKEN}"}
    created = httpx.post(fresh.base_url + "/v1/templates", json={"name": "t1", "system": "Hi"}, headers=chat)
    assert created.status_code == 201
    with httpx.Client(base_url=fresh.base_url, headers=admin(fresh)) as c:
        c.post("/_admin/faults", json={"route": "/v1/x", "times": -1})
        assert_envelope(c.post("/_admin/reset", json={"data": "yes"}), 400, "invalid_request")
        assert c.post("/_admin/reset", json={"requests": True, "data": True}).json() == {
            "reset": True,
            "deleted": 1,
        }
        assert c.get("/_admin/faults").json() == {"faults": []}
    assert httpx.get(fresh.base_url + "/v1/templates", headers=chat).json() == []
    assert [r.path for r in fresh.requests] == [
        "/_admin/faults",
        "/v1/templates",
    ]  # only calls after the reset


# -- the request log: redaction and bounds ---------------------------------------------------------------


def test_tokens_are_stored_redacted_everywhere(fresh: Gateway) -> None:
    httpx.post(
        fresh.base_url + CHAT,
        json=chat_body(),
        headers={"Authorization": f"Bearer {TOKEN}", "X-Api-Key": "sk_other_secret_1"},
    )
    httpx.get(
        fresh.base_url + "/v1/models", params={"api_key": TOKEN}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with httpx.Client(base_url=fresh.base_url, headers=admin(fresh)) as c:
        c.get("/_admin/faults")
        everything = c.get("/_admin/requests").text + "".join(
            c.get(f"/_admin/requests/{r['id']}").text
            for r in c.get("/_admin/requests/summary").json()["requests"]
        )
    for secret in (TOKEN, fresh.admin_token, "sk_other_secret_1"):
        assert secret not in everything
        assert all(secret not in repr(r) and secret not in repr(r.as_dict()) for r in fresh.requests)
    chat, models, admin_call = fresh.requests
    assert chat.headers["authorization"] == "Bearer rsk_…redacted" and chat.bearer_is(TOKEN)
    assert not chat.bearer_is("rsk_something_else") and chat.sent_secret("sk_other_secret_1")
    assert models.query["api_key"] == "rsk_…redacted" and models.sent_secret(TOKEN)
    assert admin_call.headers["authorization"] == "Bearer adm_…redacted"


def _admin_views(gw: Gateway) -> str:
    """Everything the admin API (so the inspector) shows of the log, as one text."""
    with httpx.Client(base_url=gw.base_url, headers=admin(gw)) as c:
        return c.get("/_admin/requests").text + "".join(
            c.get(f"/_admin/requests/{r['id']}").text
            for r in c.get("/_admin/requests/summary").json()["requests"]
        )


def test_realtime_subprotocol_body_and_query_secrets_are_stored_redacted(fresh: Gateway) -> None:
    """The SDK's default realtime handshake offers the key as a ``Bearer.<key>`` subprotocol."""
    from websockets.sync.client import connect

    url = fresh.base_url.replace("http://", "ws://") + "/v1/realtime?model=openai%2Fgpt-realtime"
    offered = ["openai-realtime", f"Bearer.{TOKEN}", "openai-insecure-api-key.sk_insecure_form_3"]
    with connect(url, subprotocols=offered, open_timeout=5) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "openai-realtime"
        assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
    body = {**chat_body(), "api_key": "sk_body_field_7", "metadata": {"token": "Bearer sk_nested_8"}}
    sent = httpx.post(
        fresh.base_url + CHAT,
        json=body,
        params={"token": "sk_query_form_9"},
        headers={"Authorization": f"Bearer {TOKEN}", "X-Goog-Api-Key": "sk_vendor_header_6"},
    )
    assert sent.status_code in (200, 422)
    secrets = (
        TOKEN,
        "sk_insecure_form_3",
        "sk_body_field_7",
        "sk_nested_8",
        "sk_query_form_9",
        "sk_vendor_header_6",
    )
    shown = _admin_views(fresh)
    for secret in secrets:
        assert secret not in shown
        assert all(secret not in repr(r) and secret not in json.dumps(r.as_dict()) for r in fresh.requests)
    realtime, chat = fresh.requests.filter(path="/v1/realtime")[0], fresh.requests.filter(path=CHAT)[0]
    assert realtime.headers["sec-websocket-protocol"] == (
        "openai-realtime, Bearer.rsk_…redacted, openai-insecure-api-key.sk_…redacted"
    )
    assert realtime.status == 101 and realtime.bearer_is(TOKEN) and realtime.sent_secret(TOKEN)
    assert realtime.sent_secret("sk_insecure_form_3") and not realtime.bearer_is("sk_insecure_form_3")
    assert chat.json["api_key"] == "sk_…redacted" and chat.json["metadata"] == {
        "token": "Bearer sk_…redacted"
    }
    assert chat.json["messages"] == body["messages"] and chat.query["token"] == "sk_…redacted"
    assert chat.headers["x-goog-api-key"] == "sk_…redacted" and chat.bearer_is(TOKEN)
    for secret in ("sk_body_field_7", "sk_nested_8", "sk_query_form_9", "sk_vendor_header_6"):
        assert chat.sent_secret(secret) and not chat.bearer_is(secret)
    assert not chat.sent_secret("sk_never_sent") and not chat.bearer_is("sk_never_sent")


def _record(body_size: int = 0) -> RequestRecord:
    return RequestRecord.received(
        "POST", CHAT, {}, {"authorization": "Bearer rsk_x"}, {"n": 1}, "req_1", body_size
    )


def test_log_is_bounded_in_entries_and_bytes() -> None:
    log = RequestLog(maxlen=5, max_bytes=10**9)
    for _ in range(8):
        log.append(_record())
    assert len(log) == 5 and [r.id for r in log] == [4, 5, 6, 7, 8]

    log = RequestLog(max_bytes=50_000, max_record_body=20_000)
    for _ in range(20):
        log.append(_record(body_size=10_000))
    assert log.bytes <= 50_000 and 3 <= len(log) <= 5 and log[-1].id == 20
    big = _record(body_size=30_000)
    log.append(big)
    assert big.json is None and big.body_truncated and log.bytes <= 50_000
    assert log.bytes == sum(r.size() for r in log)


def test_a_long_stream_stays_within_the_record_and_log_budgets() -> None:
    log = RequestLog(max_bytes=40_000, max_record_response=16_000)
    for _ in range(3):
        log.append(_record())
    record = _record()
    log.append(record)
    record.response_started(200, {"content-type": "text/event-stream"})
    frame = b'data: {"choices":[{"delta":{"content":"xxxxxxxxxxxxxxxxxxxxxxxx"}}]}\n\n'
    for _ in range(2000):
        record.response_chunk(frame, True)
    record.response_chunk(b"data: [DONE]\n\n", False)
    assert record.done and record.event_count == 2001 and record.response_truncated
    assert sum(len(e.text) for e in record.events) <= 16_000
    assert record.response_size == 2000 * len(frame) + len(b"data: [DONE]\n\n")
    assert log.bytes <= 40_000 and log.bytes == sum(r.size() for r in log) and log[-1] is record


MiB = 1024 * 1024


def test_a_long_query_string_counts_at_least_its_length() -> None:
    one_value = RequestRecord.received("GET", "/v1/models", {"q": "x" * MiB}, {}, None, "req_q1")
    many = dict(parse_qsl("&".join(f"k{i}=v" for i in range(150_000))))  # 1.2 MB of query text
    many_values = RequestRecord.received("GET", "/v1/models", many, {}, None, "req_q2")
    log = RequestLog(max_bytes=64 * MiB)
    log.append(one_value)
    log.append(many_values)
    assert one_value.size() >= MiB
    kept = sys.getsizeof(many) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in many.items())
    assert many_values.size() >= kept  # (a str's size differs between Python versions)
    assert log.bytes == one_value.size() + many_values.size()


def test_a_json_body_is_kept_as_compact_bytes_and_counted_at_that_size() -> None:
    body = {"model": "m", "input": list(range(200_000)), "api_key": "sk_body_secret_1"}
    text = json.dumps(body, separators=(",", ":"))
    record = RequestRecord.received("POST", CHAT, {}, {}, json.loads(text), "req_j", body_size=10)
    log = RequestLog()
    log.append(record)
    assert record.size() >= len(text) and log.bytes == record.size()
    assert record.json == {**body, "api_key": "sk_…redacted"} and record.model == "m"
    assert record.sent_secret("sk_body_secret_1") and not record.body_truncated


def test_four_mib_json_bodies_stay_within_the_budget_in_real_memory() -> None:
    """Each body parses to ~13 MB of Python objects; the log must hold no more than its budget."""
    budget = 16 * MiB
    words = [f"{i:020d}" for i in range(175_000)]
    text = json.dumps({"model": "m", "input": words}, separators=(",", ":")).encode()
    assert 3.5 * MiB < len(text) < 4 * MiB
    log = RequestLog(max_bytes=budget)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(8):
            log.append(RequestRecord.received("POST", CHAT, {}, {}, json.loads(text), f"req_{i}", len(text)))
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert log.bytes <= budget and log.bytes == sum(r.size() for r in log)
    assert len(log) == 4 and not any(r.body_truncated for r in log)
    assert held < 1.5 * budget, held
    assert log[-1].json["input"][:2] == words[:2]


def test_main_prints_the_inspector_address(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    assert main(["--port", "0", "--admin-token", "adm_print_test"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Inspector: http://127\.0\.0\.1:\d+/_inspector/#key=adm_print_test", out)
    assert main(["--port", "0", "--no-inspector"]) == 0
    assert "Inspector:" not in capsys.readouterr().out


def test_a_secret_that_contains_the_redaction_mark_is_still_redacted() -> None:
    """Only a value that already is its redacted form is left alone, not one that merely contains the mark."""
    secret = "rsk_live…redacted_but_the_rest_is_real_9f8e7d"
    record = RequestRecord.received(
        "POST",
        "/v1/chat/completions",
        {"api_key": secret},
        {"authorization": f"Bearer {secret}", "sec-websocket-protocol": f"realtime, Bearer.{secret}"},
        {"api_key": secret},
        "req_mark",
    )
    stored = json.dumps(record.as_dict())
    assert secret not in stored and secret not in repr(record)
    assert record.headers["authorization"] == "Bearer rsk_…redacted"
    assert record.bearer_is(secret) and record.sent_secret(secret)
    again = RequestRecord.received("POST", "/v1/x", dict(record.query), dict(record.headers), None, "req_2")
    assert again.headers == record.headers and again.query == record.query  # redacted stays as it is
