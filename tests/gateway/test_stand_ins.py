"""The deterministic stand-ins where a newcomer looks first: compare's synthesis quotes the answers, the
web-search answer cites its hits, an embedding's first dimensions are not zeros, a matching RAG query's
top hit scores above zero. Same request, same text."""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List

import httpx

from meshapi_gateway.fakes import synthesis, vectors
from tests._poll import wait_until

from .conftest import sse_json, user

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]
_SYNTHESIS = (
    'Comparing 2 answers to "Explain CRDTs": openai/gpt-4o-mini opens with "CRDTs in brief" and '
    'anthropic/claude-3.5-haiku with "Thinking about CRDTs, a few points stand out". Both answers cover '
    "CRDTs. The best one is openai/gpt-4o-mini's: it is the fullest, with 8 distinct key terms."
)


def _compare(client: httpx.Client, **extra: Any) -> Dict[str, Any]:
    body = {"models": MODELS, "messages": user("Explain CRDTs"), **extra}
    response = client.post("/v1/chat/compare", json=body)
    assert response.status_code == 200, response.text
    document: Dict[str, Any] = response.json()
    return document


def test_compare_synthesis_quotes_each_answer_and_names_the_fullest(client: httpx.Client) -> None:
    body = _compare(client)
    assert body["comparison"] == _SYNTHESIS
    for result in body["results"]:  # each model's opening sentence, as it answered
        opening = synthesis.sentences(result["content"])[0][:-1]
        assert f'"{opening}"' in body["comparison"]
    assert body["comparison_usage"]["completion_tokens"] == 76
    assert _compare(client)["comparison"] == _SYNTHESIS  # same request, same synthesis


def test_compare_streamed_synthesis_is_the_same_text(client: httpx.Client) -> None:
    body = {"models": MODELS, "messages": user("Explain CRDTs"), "stream": True}
    events = sse_json(client.post("/v1/chat/compare", json=body).content)
    pieces = [data["delta"] for name, data in events if name == "comparison_chunk"]
    assert len(pieces) > 1 and "".join(pieces) == _SYNTHESIS


def test_synthesis_of_three_answers_and_of_answers_with_nothing_in_common() -> None:
    three = synthesis.synthesis(
        "Why test?",
        [("a/x", "Tests catch bugs early."), ("b/y", "Bugs cost less early."), ("c/z", "Early bugs.")],
    )
    assert three == (
        'Comparing 3 answers to "Why test?": a/x opens with "Tests catch bugs early", b/y with '
        '"Bugs cost less early" and c/z with "Early bugs". All 3 answers cover bugs and early. '
        "The best one is a/x's: it is the fullest, with 4 distinct key terms."
    )
    apart = synthesis.synthesis("", [("a/x", "Apples are red."), ("b/y", "Rivers flow downhill!")])
    assert apart == (
        'Comparing 2 answers: a/x opens with "Apples are red" and b/y with "Rivers flow downhill". '
        "They share no key term: each takes its own angle. "
        "The best one is b/y's: it is the fullest, with 3 distinct key terms."
    )


def test_web_search_answer_is_drawn_from_the_top_hits_and_cites_them(client: httpx.Client) -> None:
    query = "vector search over embeddings"
    body = {"query": query, "include_answer": True, "search_depth": "advanced"}
    data = client.post("/v1/web/search", json=body).json()
    assert [r["title"] for r in data["results"]][:3] == [
        "Text embeddings",
        "MeshAPI gateway overview",
        "Retrieval-augmented generation",
    ]
    assert data["answer"] == (
        "Embeddings power search, clustering and recommendations [1]. MeshAPI is one OpenAI-compatible "
        "gateway in front of many model providers: chat completions, responses, embeddings, images, audio, "
        "video, moderation, web search and an auto router [2]. Retrieval-augmented generation (RAG) gives a "
        "language model documents retrieved for the question, usually by vector search over embedded "
        "chunks, so answers can cite up-to-date sources [3]."
    )
    for sentence, number in re.findall(r"(.+?) \[(\d)\]\.\s*", data["answer"]):
        assert sentence in data["results"][int(number) - 1]["content"]
    assert client.post("/v1/web/search", json=body).json()["answer"] == data["answer"]


def test_search_answer_keeps_only_hits_that_match_the_query() -> None:
    hits = [("A", "Cats sleep a lot. Cats purr when calm."), ("B", "Dogs bark."), ("C", "Calm cats purr.")]
    assert synthesis.search_answer("why do cats purr", hits) == "Cats purr when calm [1]. Calm cats purr [3]."
    assert synthesis.search_answer("weather", hits) == "Cats sleep a lot [1]."  # the top hit, always


def _embed(client: httpx.Client, texts: List[str], **extra: Any) -> List[List[float]]:
    response = client.post(
        "/v1/embeddings", json={"model": "openai/text-embedding-3-small", "input": texts, **extra}
    )
    assert response.status_code == 200, response.text
    return [item["embedding"] for item in response.json()["data"]]


def test_embedding_preview_is_not_zeros_and_similarities_are_the_sparse_ones(client: httpx.Client) -> None:
    texts = ["hello world", "hello there world", "Quarterly revenue grew."]
    vecs = _embed(client, texts)
    assert vecs[0][:5] == [-0.041763453, 0.005220432, -0.005220432, 0.017401439, 0.029582446]
    assert all(all(x != 0.0 for x in vec[:5]) for vec in vecs)
    assert all(len(vec) == 1536 and abs(math.fsum(x * x for x in vec) - 1.0) < 1e-6 for vec in vecs)
    sparse = [vectors.sparse_embedding(text, 1536) for text in texts]
    for i in range(3):
        for j in range(3):
            dense_cosine = math.fsum(x * y for x, y in zip(vecs[i], vecs[j]))
            assert abs(dense_cosine - vectors.dot(sparse[i], sparse[j])) < 1e-6
    assert _embed(client, texts) == vecs
    small = _embed(client, ["hello world"], dimensions=8)[0]
    assert small == [
        0.165144565,
        -0.550481883,
        -0.027524094,
        0.027524094,
        -0.192668659,
        0.578005977,
        -0.385337318,
        0.385337318,
    ]


def test_spread_is_orthogonal_for_any_dimension_count() -> None:
    for dimensions in (1, 3, 8, 100, 1536, 3072):
        basis = [[1.0 if k == i else 0.0 for k in range(dimensions)] for i in (0, dimensions - 1)]
        spread = [vectors.spread(row) for row in basis]
        assert [round(math.fsum(x * x for x in row), 6) for row in spread] == [1.0, 1.0]
        if dimensions > 1:
            assert abs(math.fsum(x * y for x, y in zip(*spread))) < 1e-6


def test_rag_top_hit_for_a_matching_query_scores_above_zero(client: httpx.Client) -> None:
    handbook = b"# Handbook\n\nNew engineers pair with a buddy during their first week.\n"
    created = client.post("/v1/files", json={"file_name": "handbook.md", "mime_type": "text/markdown"})
    assert created.status_code == 200, created.text
    file_id = created.json()["file_id"]
    with httpx.Client(timeout=10) as storage:
        put = storage.put(
            created.json()["signed_url"], content=handbook, headers={"Content-Type": "text/markdown"}
        )
        assert put.status_code == 200, put.text

    def ready() -> bool:
        return bool(client.get(f"/v1/files/{file_id}").json()["embedding_status"] == "ready")

    wait_until(ready, what="the handbook embedded")
    search = {"query": "who helps new engineers?", "file_ids": [file_id], "top_k": 3}
    hits = client.post("/v1/files/search", json=search).json()["results"]
    assert [(h["score"], h["text"]) for h in hits] == [
        (0.327501, "# Handbook New engineers pair with a buddy during their first week.")
    ]
