"""/v1/moderations, /v1/web/search and /v1/router/select: deterministic, explainable answers."""

from __future__ import annotations

import httpx

from .conftest import assert_envelope, user
from .test_rag import register, wait_for

KETTLE = "## Kettles\nThe Zephyr kettle boils a litre of water in ninety seconds and switches off by itself."


def test_moderation_flags_by_category_with_stable_scores(client: httpx.Client) -> None:
    body = {"input": ["have a nice day", "I will hurt you, you idiot"], "model": "omni-moderation-latest"}
    first = client.post("/v1/moderations", json=body)
    assert first.status_code == 200
    data = first.json()
    assert data["id"].startswith("modr-") and data["model"] == "omni-moderation-latest"
    nice, nasty = data["results"]
    assert nice["flagged"] is False and not any(nice["categories"].values())
    assert max(nice["category_scores"].values()) < 0.01
    assert nasty["flagged"] is True
    assert nasty["categories"]["violence"] and nasty["categories"]["harassment"]
    assert nasty["categories"]["harassment/threatening"] and not nasty["categories"]["sexual"]
    assert set(nasty["categories"]) == set(nasty["category_scores"])
    assert client.post("/v1/moderations", json=body).json()["results"] == data["results"]  # deterministic


def test_moderation_inputs_and_errors(client: httpx.Client) -> None:
    one = client.post("/v1/moderations", json={"input": "plain text"}).json()
    assert one["model"] == "omni-moderation-latest" and len(one["results"]) == 1
    items = [
        {"type": "text", "text": "a gore scene"},
        {"type": "image_url", "image_url": {"url": "https://img.example/gore.png"}},
    ]
    text, image = client.post("/v1/moderations", json={"input": items}).json()["results"]
    assert text["categories"]["violence/graphic"] and image["categories"]["violence/graphic"]
    assert image["category_applied_input_types"]["harassment"] == []
    assert client.post("/v1/moderations", json={}).status_code == 422
    assert_envelope(
        client.post("/v1/moderations", json={"input": "x", "model": "openai/gpt-4o"}),
        400,
        "model_capability_not_supported",
    )
    assert_envelope(
        client.post("/v1/moderations", json={"input": [{"type": "audio"}]}), 400, "invalid_request"
    )


def test_web_search_ranks_the_local_corpus_and_answers(client: httpx.Client) -> None:
    body = {
        "query": "latest stable Python release",
        "max_results": 2,
        "search_depth": "basic",
        "include_answer": True,
    }
    response = client.post("/v1/web/search", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["query"] == body["query"] and data["provider"] == "native"
    assert data["request_id"] == response.headers["x-request-id"]
    assert len(data["results"]) == 2
    top = data["results"][0]
    assert top["url"] == "https://www.python.org/downloads/" and top["title"] == "Python Releases"
    assert (
        data["answer"] == "Python 3.14 is the latest stable release of Python [1]."
    )  # cited (fakes/synthesis.py)
    assert data["results"][0]["score"] >= data["results"][1]["score"] > 0
    plain = client.post("/v1/web/search", json={"query": "latest stable Python release"}).json()
    assert plain["answer"] is None and len(plain["results"]) <= 5


def test_web_search_domain_filters_depth_and_validation(client: httpx.Client) -> None:
    only = client.post("/v1/web/search", json={"query": "python", "include_domains": ["python.org"]}).json()
    assert only["results"] and all("python.org" in r["url"] for r in only["results"])
    assert {r["url"] for r in only["results"]} >= {
        "https://docs.python.org/3/whatsnew/3.14.html"
    }  # subdomain
    without = client.post(
        "/v1/web/search", json={"query": "python", "exclude_domains": ["python.org"]}
    ).json()
    assert all("python.org" not in r["url"] for r in without["results"])
    deep = client.post("/v1/web/search", json={"query": "retry after 429", "search_depth": "advanced"}).json()
    assert deep["results"][0]["url"].endswith("/Status/429")
    assert deep["results"][0]["content"].startswith("The 429 status code")
    assert (
        client.post("/v1/web/search", json={"query": "x", "provider": "tavily"}).json()["provider"]
        == "tavily"
    )
    assert client.post("/v1/web/search", json={"query": ""}).status_code == 422
    assert client.post("/v1/web/search", json={"query": "q" * 2001}).status_code == 422
    assert client.post("/v1/web/search", json={"query": "q", "max_results": 21}).status_code == 422


def test_web_search_includes_the_callers_rag_files(client: httpx.Client, other_client: httpx.Client) -> None:
    init = register(client, file_name="kettles.md")
    assert httpx.put(
        init["signed_url"], content=KETTLE.encode(), headers={"Content-Type": "text/markdown"}
    ).is_success
    wait_for(client, init["file_id"], "ready")
    query = {"query": "How fast does the Zephyr kettle boil water?", "include_domains": ["rag.local"]}
    mine = client.post("/v1/web/search", json=query).json()["results"]
    assert mine[0]["url"] == f"https://rag.local/{init['file_id']}/kettles.md"
    assert "ninety seconds" in mine[0]["content"]
    assert other_client.post("/v1/web/search", json=query).json()["results"] == []


def test_router_select_picks_a_model_with_its_reason(client: httpx.Client) -> None:
    haiku = client.post(
        "/v1/router/select",
        json={
            "messages": user("Write a haiku about rain"),
            "api_type": "completions",
            "exclude_models": ["openai/gpt-4o"],
        },
    ).json()
    assert haiku["model"] == "anthropic/claude-3.5-haiku" and haiku["reasoning_effort"] == "low"
    assert haiku["auto_router"]["fallback_used"] is False and haiku["auto_router"]["fallback_reason"] is None
    assert haiku["auto_router"]["category"] == "quick" and haiku["auto_router"]["reason"]
    code = client.post(
        "/v1/router/select", json={"messages": user("Fix this Python bug: ```x = [```")}
    ).json()
    assert code["model"] == "anthropic/claude-sonnet-4.5" and code["auto_router"]["category"] == "code"
    proof = client.post("/v1/router/select", json={"messages": user("Prove it step by step")}).json()
    assert proof["model"] == "openai/o4-mini" and proof["reasoning_effort"] == "high"
    picture = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:,"}},
    ]
    vision = client.post(
        "/v1/router/select", json={"messages": [{"role": "user", "content": picture}]}
    ).json()
    assert vision["model"] == "openai/gpt-4o"
    embed = client.post("/v1/router/select", json={"messages": user("hi"), "api_type": "embeddings"}).json()
    assert embed["model"] == "openai/text-embedding-3-small" and embed["reasoning_effort"] is None


def test_router_select_constraints_and_fallback(client: httpx.Client) -> None:
    narrowed = client.post(
        "/v1/router/select",
        json={"messages": user("Write a haiku"), "candidate_models": ["openai/gpt-4o-mini"]},
    ).json()
    assert narrowed["model"] == "openai/gpt-4o-mini"
    fallback = client.post(
        "/v1/router/select",
        json={"messages": user("Write a haiku"), "candidate_models": ["deepseek/deepseek-chat"]},
    ).json()
    assert fallback["model"] == "deepseek/deepseek-chat"
    assert (
        fallback["auto_router"]["fallback_used"] is True
        and "preferred" in fallback["auto_router"]["fallback_reason"]
    )
    unknown = client.post(
        "/v1/router/select", json={"messages": user("x"), "candidate_models": ["acme/none"]}
    )
    assert_envelope(unknown, 422, "invalid_request")
    assert client.post("/v1/router/select", json={"messages": []}).status_code == 422
    assert (
        client.post("/v1/router/select", json={"messages": user("x"), "api_type": "audio"}).status_code == 422
    )
