"""Bare model names: a model id without its provider prefix that names one catalog model resolves on
every endpoint and the reply names the canonical id; one that names several is a 400 listing them."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from meshapi_gateway.fakes.catalog import Catalog
from meshapi_gateway.fakes.catalog_data import MODELS
from tests._poll import wait_until

from .conftest import TOKEN, sse_json, user


def _chunks(response: httpx.Response) -> List[Dict[str, Any]]:
    return [data for _, data in sse_json(response.content) if data != "[DONE]"]


def test_chat_and_responses_answer_with_the_canonical_id(client: httpx.Client) -> None:
    plain = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": user("hi")})
    assert plain.status_code == 200, plain.text
    assert plain.json()["model"] == "openai/gpt-4o-mini"
    full = client.post("/v1/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": user("hi")})
    assert plain.json()["choices"] == full.json()["choices"]
    streamed = client.post(
        "/v1/chat/completions",
        json={"model": "claude-haiku-4.5", "messages": user("hi"), "stream": True},
    )
    assert streamed.status_code == 200, streamed.text
    assert {c["model"] for c in _chunks(streamed)} == {"anthropic/claude-haiku-4.5"}
    response = client.post("/v1/responses", json={"model": "o4-mini", "input": "hi"})
    assert response.status_code == 200, response.text
    assert response.json()["model"] == "openai/o4-mini"


def test_embeddings_images_audio_and_moderation_take_bare_names(client: httpx.Client) -> None:
    embedded = client.post("/v1/embeddings", json={"model": "text-embedding-3-large", "input": "hi"})
    assert embedded.status_code == 200, embedded.text
    assert embedded.json()["model"] == "openai/text-embedding-3-large"
    image = client.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "a red square"})
    assert image.status_code == 200, image.text
    speech = client.post("/v1/audio/speech", json={"model": "bulbul:v3", "input": "hello"})
    assert speech.status_code == 200, speech.text
    assert speech.headers["content-type"] == "audio/wav"
    # An id that has no provider prefix in the catalog still resolves as itself.
    moderated = client.post("/v1/moderations", json={"model": "omni-moderation-latest", "input": "hi"})
    assert moderated.json()["model"] == "omni-moderation-latest"


def test_compare_and_batches_name_the_canonical_ids(client: httpx.Client) -> None:
    compared = client.post(
        "/v1/chat/compare",
        json={
            "models": ["gpt-4o-mini", "openai/gpt-4o-mini", "claude-haiku-4.5"],
            "messages": user("hi"),
            "skip_comparison": True,
        },
    )
    assert compared.status_code == 200, compared.text
    body = compared.json()
    assert body["models"] == ["openai/gpt-4o-mini", "anthropic/claude-haiku-4.5"]
    assert [r["model"] for r in body["results"]] == body["models"]
    lines = [
        {"custom_id": "a", "body": {"model": "gpt-4o-mini", "messages": user("one")}},
        {"custom_id": "b", "body": {"model": "openai/gpt-4o-mini", "messages": user("two")}},
    ]
    batch = client.post("/v1/batches", json={"requests": lines})
    assert batch.status_code == 200, batch.text
    assert batch.json()["model"] == "openai/gpt-4o-mini"

    def results() -> List[Dict[str, Any]]:
        found = client.get(f"/v1/batches/{batch.json()['id']}").json()
        return list(found["results"] or []) if found["status"] == "completed" else []

    done = wait_until(results, what="the batch completes")
    assert [r["response"]["body"]["model"] for r in done] == ["openai/gpt-4o-mini"] * 2


def test_the_model_route_and_the_router_take_bare_names(client: httpx.Client) -> None:
    info = client.get("/v1/models/claude-sonnet-4.5")
    assert info.status_code == 200, info.text
    assert info.json()["id"] == "anthropic/claude-sonnet-4.5"
    routed = client.post(
        "/v1/router/select",
        json={
            "messages": user("Write a haiku about rain"),
            "candidate_models": ["claude-3.5-haiku", "gpt-4o"],
        },
    ).json()
    assert routed["model"] == "anthropic/claude-3.5-haiku"
    excluded = client.post(
        "/v1/router/select",
        json={"messages": user("Write a haiku about rain"), "exclude_models": ["claude-3.5-haiku", "gpt-4o"]},
    ).json()
    assert excluded["model"] == "openai/gpt-4o-mini"  # as with the full ids excluded


def test_an_unknown_bare_name_is_still_model_not_found(client: httpx.Client) -> None:
    response = client.post("/v1/chat/completions", json={"model": "gpt-9", "messages": user("hi")})
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "model_not_found", "message": "Model 'gpt-9' not found."}


@pytest.fixture(scope="module")
def twin_gateway() -> Iterator[Gateway]:
    """A gateway whose catalog serves ``gpt-4o-mini`` and ``gpt-realtime`` from two providers each."""
    twins = [
        dataclasses.replace(e, id=e.id.replace("openai/", "azure/"))
        for e in MODELS
        if e.id in ("openai/gpt-4o-mini", "openai/gpt-realtime")
    ]
    with serve([TOKEN]) as gateway:
        gateway.state.catalog = Catalog([*MODELS, *twins])
        yield gateway


AMBIGUOUS = {
    "code": "invalid_request",
    "message": "Model 'gpt-4o-mini' is ambiguous: it names openai/gpt-4o-mini, azure/gpt-4o-mini. Use the full id.",
    "details": ["openai/gpt-4o-mini", "azure/gpt-4o-mini"],
    "param": "model",
}


def test_an_ambiguous_bare_name_is_a_400_listing_the_candidates(twin_gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=twin_gateway.base_url, headers=headers, timeout=10) as c:
        bodies = [
            ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": user("hi")}),
            ("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": user("hi"), "stream": True}),
            ("/v1/responses", {"model": "gpt-4o-mini", "input": "hi"}),
            ("/v1/embeddings", {"model": "gpt-4o-mini", "input": "hi"}),
            ("/v1/chat/compare", {"models": ["gpt-4o-mini", "o4-mini"], "messages": user("hi")}),
            (
                "/v1/batches",
                {"requests": [{"custom_id": "a", "body": {"model": "gpt-4o-mini", "messages": []}}]},
            ),
        ]
        for path, body in bodies:
            response = c.post(path, json=body)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["error"] == AMBIGUOUS, path
        model = c.get("/v1/models/gpt-4o-mini")
        assert (model.status_code, model.json()["error"]) == (400, AMBIGUOUS)
        full = c.post("/v1/chat/completions", json={"model": "azure/gpt-4o-mini", "messages": user("hi")})
        assert full.json()["model"] == "azure/gpt-4o-mini"
        unique = c.post("/v1/chat/completions", json={"model": "o4-mini", "messages": user("hi")})
        assert unique.json()["model"] == "openai/o4-mini"


def test_the_realtime_handshake_refuses_an_ambiguous_name_with_the_candidates(twin_gateway: Gateway) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = twin_gateway.base_url.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}, open_timeout=5).close()
    response = info.value.response
    assert response.status_code == 400
    assert json.loads(response.body or b"")["error"]["message"] == (
        "Model 'gpt-realtime' is ambiguous: it names openai/gpt-realtime, azure/gpt-realtime. Use the full id."
    )
