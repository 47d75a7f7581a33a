"""Background responses on the gateway (raw httpx): ``queued`` -> ``in_progress`` -> ``completed`` by the
clock (one ``response_step_seconds`` each), nothing of the answer before, and ``POST .../cancel``."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from tests._poll import wait_until

from .conftest import OTHER_TOKEN, TOKEN

STEP = 1.0  # long enough that a request made right after another sees the same step on a loaded machine


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve([TOKEN, OTHER_TOKEN], response_step_seconds=STEP) as gateway:
        yield gateway


def _client(gw: Gateway, token: str = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=gw.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _create(client: httpx.Client, **extra: Any) -> Dict[str, Any]:
    reply = client.post("/v1/responses", json={"model": "openai/gpt-4o-mini", "input": "Say hi.", **extra})
    assert reply.status_code == 200, reply.text
    body: Dict[str, Any] = reply.json()
    return body


def test_background_response_moves_through_its_statuses(gw: Gateway) -> None:
    with _client(gw) as client:
        plain = _create(client)
        queued = _create(client, background=True)
        assert queued["status"] == "queued" and queued["background"] is True
        assert queued["output"] == [] and queued["usage"] is None
        seen: List[str] = []

        def finished() -> Any:
            got = client.get(f"/v1/responses/{queued['id']}").json()
            if not seen or seen[-1] != got["status"]:
                seen.append(got["status"])
            if got["status"] != "completed":
                assert got["output"] == [] and got["usage"] is None
            return got if got["status"] == "completed" else None

        done = wait_until(finished, timeout=4 * STEP + 5, interval=0.05, what="completed")
        assert seen == ["queued", "in_progress", "completed"]
        # the answer is the one a plain request gets (same input, deterministic model)
        assert done["output"][0]["content"] == plain["output"][0]["content"]
        assert done["usage"] == plain["usage"] and done["id"] == queued["id"]
        listed = client.get("/v1/responses", params={"limit": 2}).json()["data"]
        assert [(d["id"], d["status"]) for d in listed] == [
            (queued["id"], "completed"),
            (plain["id"], "completed"),
        ]


def test_cancel(gw: Gateway) -> None:
    with _client(gw) as client, _client(gw, OTHER_TOKEN) as other:
        doomed = _create(client, background=True)
        survivor = _create(client, background=True)
        cancelled = client.post(f"/v1/responses/{doomed['id']}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled" and cancelled.json()["output"] == []
        assert other.post(f"/v1/responses/{survivor['id']}/cancel").status_code == 404
        wait_until(
            lambda: client.get(f"/v1/responses/{survivor['id']}").json()["status"] == "completed",
            timeout=4 * STEP + 5,
            what="the other job completed",
        )
        assert client.get(f"/v1/responses/{doomed['id']}").json()["status"] == "cancelled"  # stays cancelled
        again = client.post(f"/v1/responses/{survivor['id']}/cancel")  # finished: returned unchanged
        assert again.status_code == 200 and again.json()["status"] == "completed"
        plain = client.post(f"/v1/responses/{_create(client)['id']}/cancel")
        assert plain.status_code == 400 and plain.json()["error"] == {
            "code": "invalid_request_error",
            "message": "Only a response created with background=true can be cancelled.",
        }
        missing = client.post("/v1/responses/resp_missing/cancel")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
