"""Request shape of every resource method (sync and async), parsing of the API.md examples, path escaping."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, NamedTuple

import httpx
import pytest

from meshapi import (
    BatchListResponse,
    BatchObject,
    BulkEmbedResponse,
    CompareResponse,
    CompareStreamEvent,
    EmbeddingsResponse,
    ImageGenerationResponse,
    InitUploadResponse,
    InvalidParamsError,
    RagFileListResponse,
    RagFileStatus,
    ResponsesResponse,
    ResponsesStreamEvent,
    SearchResponse,
    TemplateSummary,
)
from meshapi.types import (
    CompareParams,
    CreateBatchParams,
    EmbeddingsParams,
    ImageGenerationChunk,
    ImageGenerationParams,
    ResponsesListResponse,
    ResponsesParams,
)
from tests.conftest import collect, resolve
from tests.unit import _payloads as P

TOKEN = "rsk_unit_test_token"
MESSAGES = [{"role": "user", "content": "Explain vector search in one sentence."}]
SSE = {"content-type": "text/event-stream", "x-request-id": "req_s"}


class Case(NamedTuple):
    call: Callable[[Any], Any]
    method: str
    path: str
    query: Dict[str, str]
    body: Any  # expected JSON body, or None for no body
    reply: Reply
    check: Callable[[Any], None]


Reply = Callable[[], httpx.Response]


def js(payload: Any, status: int = 200) -> Reply:
    return lambda: httpx.Response(status, json=payload, headers={"x-request-id": "req_1"})


def stream(body: bytes) -> Reply:
    return lambda: httpx.Response(200, content=body, headers=SSE)


async def drained(opened: Any) -> List[Any]:
    """The items of the stream ``create(stream=True)`` returns (awaited first on the async client)."""
    return await collect(await resolve(opened))


def empty(status: int) -> Reply:
    return lambda: httpx.Response(status)


def _is(model: type) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert isinstance(result, model), type(result)

    return check


def _items(model: type, count: int) -> Callable[[Any], None]:
    def check(result: Any) -> None:
        assert len(result) == count and all(isinstance(i, model) for i in result), result

    return check


def _none(result: Any) -> None:
    assert result is None


CASES: Dict[str, Case] = {
    "responses.create": Case(
        lambda c: c.responses.create(
            model="openai/o4-mini",
            input="Give me one prime number above 100.",
            reasoning={"effort": "low"},
            max_output_tokens=200,
        ),
        "POST",
        "/v1/responses",
        {},
        {
            "model": "openai/o4-mini",
            "input": "Give me one prime number above 100.",
            "reasoning": {"effort": "low"},
            "max_output_tokens": 200,
            "stream": False,
        },
        js(P.RESPONSE),
        _is(ResponsesResponse),
    ),
    "responses.stream": Case(
        lambda c: collect(c.responses.stream(model="openai/o4-mini", input="hi")),
        "POST",
        "/v1/responses",
        {},
        {"model": "openai/o4-mini", "input": "hi", "stream": True},
        stream(P.sse(P.RESPONSES_EVENTS)),
        _items(ResponsesStreamEvent, 4),
    ),
    "responses.create-stream-true": Case(
        lambda c: drained(c.responses.create(model="openai/o4-mini", input="hi", stream=True)),
        "POST",
        "/v1/responses",
        {},
        {"model": "openai/o4-mini", "input": "hi", "stream": True},
        stream(P.sse(P.RESPONSES_EVENTS)),
        _items(ResponsesStreamEvent, 4),
    ),
    "responses.get": Case(
        lambda c: c.responses.get("resp_0c1a9e"),
        "GET",
        "/v1/responses/resp_0c1a9e",
        {},
        None,
        js(P.RESPONSE),
        _is(ResponsesResponse),
    ),
    "responses.list": Case(
        lambda c: c.responses.list(after="resp_1", limit=5),
        "GET",
        "/v1/responses",
        {"after": "resp_1", "limit": "5"},
        None,
        js(P.RESPONSES_LIST),
        _is(ResponsesListResponse),
    ),
    "embeddings.create": Case(
        lambda c: c.embeddings.create(
            EmbeddingsParams(
                model="openai/text-embedding-3-small", input=["red apple", "green pear"], dimensions=4
            )
        ),
        "POST",
        "/v1/embeddings",
        {},
        {"model": "openai/text-embedding-3-small", "input": ["red apple", "green pear"], "dimensions": 4},
        js(P.EMBEDDINGS),
        _is(EmbeddingsResponse),
    ),
    "compare.create": Case(
        lambda c: c.compare.create(models=P.MODELS, messages=MESSAGES, max_tokens=60),
        "POST",
        "/v1/chat/compare",
        {},
        {
            "models": P.MODELS,
            "messages": MESSAGES,
            "max_tokens": 60,
            "stream": False,
            "skip_comparison": False,
        },
        js(P.COMPARE),
        _is(CompareResponse),
    ),
    "compare.stream": Case(
        lambda c: collect(c.compare.stream(models=P.MODELS, messages=MESSAGES)),
        "POST",
        "/v1/chat/compare",
        {},
        {"models": P.MODELS, "messages": MESSAGES, "stream": True, "skip_comparison": False},
        stream(P.sse(P.COMPARE_EVENTS)),
        _items(CompareStreamEvent, 7),
    ),
    "compare.create-stream-true": Case(
        lambda c: drained(c.compare.create(models=P.MODELS, messages=MESSAGES, stream=True)),
        "POST",
        "/v1/chat/compare",
        {},
        {"models": P.MODELS, "messages": MESSAGES, "stream": True, "skip_comparison": False},
        stream(P.sse(P.COMPARE_EVENTS)),
        _items(CompareStreamEvent, 7),
    ),
    "batches.create": Case(
        lambda c: c.batches.create(
            CreateBatchParams.model_validate(
                {
                    "requests": P.BATCH_REQUESTS,
                    "completion_window": "24h",
                    "metadata": {"job": "nightly-triage"},
                }
            )
        ),
        "POST",
        "/v1/batches",
        {},
        {"requests": P.BATCH_REQUESTS, "completion_window": "24h", "metadata": {"job": "nightly-triage"}},
        js(P.BATCH),
        _is(BatchObject),
    ),
    "batches.list": Case(
        lambda c: c.batches.list(after="batch_1", limit=10),
        "GET",
        "/v1/batches",
        {"after": "batch_1", "limit": "10"},
        None,
        js(P.BATCH_LIST),
        _is(BatchListResponse),
    ),
    "batches.list-no-query": Case(
        lambda c: c.batches.list(),
        "GET",
        "/v1/batches",
        {},
        None,
        js(P.BATCH_LIST),
        _is(BatchListResponse),
    ),
    "batches.get": Case(
        lambda c: c.batches.get("batch_68c2f1e9a0b4"),
        "GET",
        "/v1/batches/batch_68c2f1e9a0b4",
        {},
        None,
        js(P.BATCH),
        _is(BatchObject),
    ),
    "batches.cancel": Case(
        lambda c: c.batches.cancel("batch_68c2f1e9a0b4"),
        "POST",
        "/v1/batches/batch_68c2f1e9a0b4/cancel",
        {},
        {},
        js({**P.BATCH, "status": "cancelling"}),
        _is(BatchObject),
    ),
    "templates.create": Case(
        lambda c: c.templates.create(
            name="support-triage",
            system="You triage tickets for {{ product }}.",
            model="openai/gpt-4o-mini",
            params={"temperature": 0.2},
            variables=["product"],
        ),
        "POST",
        "/v1/templates",
        {},
        {
            "name": "support-triage",
            "system": "You triage tickets for {{ product }}.",
            "model": "openai/gpt-4o-mini",
            "params": {"temperature": 0.2},
            "variables": ["product"],
        },
        js(P.TEMPLATE, 201),
        _is(TemplateSummary),
    ),
    "templates.list": Case(
        lambda c: c.templates.list(),
        "GET",
        "/v1/templates",
        {},
        None,
        js([P.TEMPLATE, P.TEMPLATE]),
        _items(TemplateSummary, 2),
    ),
    "templates.list-wrapped": Case(
        lambda c: c.templates.list(),
        "GET",
        "/v1/templates",
        {},
        None,
        js({"data": [P.TEMPLATE]}),
        _items(TemplateSummary, 1),
    ),
    "templates.get": Case(
        lambda c: c.templates.get(P.TEMPLATE["id"]),
        "GET",
        f"/v1/templates/{P.TEMPLATE['id']}",
        {},
        None,
        js(P.TEMPLATE),
        _is(TemplateSummary),
    ),
    "templates.update": Case(
        lambda c: c.templates.update(P.TEMPLATE["id"], description="Triage", params={"temperature": 0.5}),
        "PATCH",
        f"/v1/templates/{P.TEMPLATE['id']}",
        {},
        {"description": "Triage", "params": {"temperature": 0.5}},
        js(P.TEMPLATE),
        _is(TemplateSummary),
    ),
    "templates.delete-204": Case(
        lambda c: c.templates.delete("t1"),
        "DELETE",
        "/v1/templates/t1",
        {},
        None,
        empty(204),
        _none,
    ),
    "templates.delete-200-empty": Case(
        lambda c: c.templates.delete("t1"),
        "DELETE",
        "/v1/templates/t1",
        {},
        None,
        empty(200),
        _none,
    ),
    "templates.delete-200-json": Case(
        lambda c: c.templates.delete("t1"),
        "DELETE",
        "/v1/templates/t1",
        {},
        None,
        js({"deleted": True}),
        _none,
    ),
    "images.generate": Case(
        lambda c: c.images.generate(
            model="openai/gpt-image-1", prompt="A lighthouse at dusk, watercolor", size="1024x1024", n=1
        ),
        "POST",
        "/v1/images/generations",
        {},
        {
            "model": "openai/gpt-image-1",
            "prompt": "A lighthouse at dusk, watercolor",
            "size": "1024x1024",
            "n": 1,
            "stream": False,
        },
        js(P.IMAGE),
        _is(ImageGenerationResponse),
    ),
    "images.generate-stream-true-in-params": Case(
        lambda c: c.images.generate(ImageGenerationParams(model="m", prompt="p", stream=True)),
        "POST",
        "/v1/images/generations",
        {},
        {"model": "m", "prompt": "p", "stream": False},
        js(P.IMAGE),
        _is(ImageGenerationResponse),
    ),
    "images.generate-stream-true": Case(
        lambda c: drained(c.images.generate(model="m", prompt="p", stream=True)),
        "POST",
        "/v1/images/generations",
        {},
        {"model": "m", "prompt": "p", "stream": True},
        stream(P.IMAGE_STREAM),
        _items(ImageGenerationChunk, 2),
    ),
    "images.stream": Case(
        lambda c: collect(c.images.stream(model="m", prompt="p")),
        "POST",
        "/v1/images/generations",
        {},
        {"model": "m", "prompt": "p", "stream": True},
        stream(P.IMAGE_STREAM),
        _items(ImageGenerationChunk, 2),
    ),
    "rag.init_upload": Case(
        lambda c: c.rag.init_upload(
            file_name="refund-policy.md",
            mime_type="text/markdown",
            embed=True,
            metadata={"team": "support", "lang": "en"},
        ),
        "POST",
        "/v1/files",
        {},
        {
            "file_name": "refund-policy.md",
            "mime_type": "text/markdown",
            "embed": True,
            "metadata": {"team": "support", "lang": "en"},
        },
        js(P.INIT_UPLOAD),
        _is(InitUploadResponse),
    ),
    "rag.list": Case(
        lambda c: c.rag.list(50, 0),
        "GET",
        "/v1/files",
        {"limit": "50", "offset": "0"},
        None,
        js(P.FILE_LIST),
        _is(RagFileListResponse),
    ),
    "rag.list-no-query": Case(
        lambda c: c.rag.list(),
        "GET",
        "/v1/files",
        {},
        None,
        js(P.FILE_LIST),
        _is(RagFileListResponse),
    ),
    "rag.get": Case(
        lambda c: c.rag.get(P.FILE_ID),
        "GET",
        f"/v1/files/{P.FILE_ID}",
        {},
        None,
        js(P.FILE_STATUS),
        _is(RagFileStatus),
    ),
    "rag.embed": Case(
        lambda c: c.rag.embed(file_ids=[P.FILE_ID], wait=False),
        "POST",
        "/v1/files/embed",
        {},
        {"file_ids": [P.FILE_ID], "wait": False},
        js(P.BULK_EMBED),
        _is(BulkEmbedResponse),
    ),
    "rag.search": Case(
        lambda c: c.rag.search(query="How long do refunds take?", top_k=3, filter={"team": "support"}),
        "POST",
        "/v1/files/search",
        {},
        {"query": "How long do refunds take?", "top_k": 3, "filter": {"team": "support"}},
        js(P.SEARCH),
        _is(SearchResponse),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_request_shape(make_client: Any, name: str) -> None:
    case = CASES[name]
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return case.reply()

    client = make_client(handler)
    result = await resolve(case.call(client))
    case.check(result)
    assert len(seen) == 1
    request = seen[0]
    assert request.method == case.method
    assert request.url.host == "gateway.test"
    assert request.url.raw_path.split(b"?")[0].decode() == case.path
    assert dict(request.url.params) == case.query
    if case.body is None:
        assert request.content == b""
    else:
        assert json.loads(request.content) == case.body
    headers = request.headers
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["x-meshapi-sdk"].startswith("python/")
    assert ("idempotency-key" in headers) == (case.method == "POST")
    streaming = isinstance(case.body, dict) and case.body.get("stream") is True  # stream() or stream=True
    assert headers["accept"] == ("text/event-stream" if streaming else "application/json")


async def test_per_call_options(make_client: Any) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return js(P.EMBEDDINGS)()

    client = make_client(handler)
    await resolve(
        client.embeddings.create(
            input="hi", timeout=3.5, extra_headers={"X-Trace": "t1"}, extra_body={"new_field": 1}
        )
    )
    assert seen[0].headers["x-trace"] == "t1"
    assert json.loads(seen[0].content) == {"input": "hi", "new_field": 1}
    assert seen[0].extensions["timeout"]["read"] == 3.5


# --- models parse the API.md examples -------------------------------------------------------------


def test_examples_parse() -> None:
    response = ResponsesResponse.model_validate(P.RESPONSE)
    assert response.usage is not None and response.usage.total_tokens == 83
    compare = CompareResponse.model_validate(P.COMPARE)
    assert compare.partial and compare.results[1].error_code == "gateway_timeout"
    assert EmbeddingsResponse.model_validate(P.EMBEDDINGS).data[1].embedding == [
        0.0310,
        -0.3907,
        0.3342,
        0.1128,
    ]
    assert TemplateSummary.model_validate(P.TEMPLATE).params == {"temperature": 0.2}
    image = ImageGenerationResponse.model_validate(P.IMAGE)
    assert image.data[0].image_bytes().startswith(b"\x89PNG")
    assert InitUploadResponse.model_validate(P.INIT_UPLOAD).file_id == P.FILE_ID
    listing = RagFileListResponse.model_validate(P.FILE_LIST)
    assert listing.files[0].total_cost_usd == pytest.approx(0.0000162)
    assert BulkEmbedResponse.model_validate(P.BULK_EMBED).results[1].chunk_count == 14
    assert SearchResponse.model_validate(P.SEARCH).results[0].metadata == {"team": "support", "lang": "en"}
    batch = BatchObject.model_validate(P.BATCH)
    assert batch.request_counts is not None and batch.request_counts.total == 2
    assert BatchListResponse.model_validate(P.BATCH_LIST).data[0].usage_synced is True
    assert ResponsesListResponse.model_validate(P.RESPONSES_LIST).data[0].id == "resp_0c1a9e"


# --- invalid arguments never reach the network ----------------------------------------------------

INVALID: Dict[str, Callable[[Any], Any]] = {
    # the keyword stream=True streams; a params model saying so without it is refused (as in 0.1.4)
    "responses.create params stream": lambda c: c.responses.create(ResponsesParams(input="x", stream=True)),
    "compare.create params stream": lambda c: c.compare.create(
        CompareParams(models=["a"], messages=MESSAGES, stream=True)
    ),
    "templates.update without fields": lambda c: c.templates.update("t1"),
    "templates.update all None": lambda c: c.templates.update("t1", name=None),
    "embeddings unknown field": lambda c: c.embeddings.create(input="x", dimension=3),
    "batches.list limit=0": lambda c: c.batches.list(limit=0),
    "rag.list offset=-1": lambda c: c.rag.list(offset=-1),
    "rag.embed no ids": lambda c: c.rag.embed(file_ids=[]),
    "batches.get empty id": lambda c: c.batches.get(""),
    "templates.get non-str id": lambda c: c.templates.get(123),
    "rag.get blank id": lambda c: c.rag.get("  "),
}


@pytest.mark.parametrize("name", list(INVALID))
async def test_invalid_params_raise_before_sending(make_client: Any, name: str) -> None:
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return js({})()

    client = make_client(handler)
    with pytest.raises(InvalidParamsError) as info:
        await resolve(INVALID[name](client))
    assert isinstance(info.value, ValueError)
    assert seen == []


# --- path escaping ----------------------------------------------------------------------------------

IDS = {
    "a/b": "a%2Fb",
    "..": "%2E%2E",
    ".": "%2E",
    "../../v1/models": "..%2F..%2Fv1%2Fmodels",
    "abc?admin=1": "abc%3Fadmin%3D1",
    "x#frag": "x%23frag",
    "a b": "a%20b",
    "caf\u00e9-\u6587": "caf%C3%A9-%E6%96%87",
    "100%": "100%25",
}

PATH_CALLS: Dict[str, Callable[[Any, str], Any]] = {
    "batches.get": lambda c, i: c.batches.get(i),
    "batches.cancel": lambda c, i: c.batches.cancel(i),
    "templates.get": lambda c, i: c.templates.get(i),
    "templates.update": lambda c, i: c.templates.update(i, name="n"),
    "templates.delete": lambda c, i: c.templates.delete(i),
    "rag.get": lambda c, i: c.rag.get(i),
    "responses.get": lambda c, i: c.responses.get(i),
}
PREFIX = {
    "batches.get": ("/v1/batches/", "", P.BATCH),
    "batches.cancel": ("/v1/batches/", "/cancel", P.BATCH),
    "templates.get": ("/v1/templates/", "", P.TEMPLATE),
    "templates.update": ("/v1/templates/", "", P.TEMPLATE),
    "templates.delete": ("/v1/templates/", "", None),
    "rag.get": ("/v1/files/", "", P.FILE_STATUS),
    "responses.get": ("/v1/responses/", "", P.RESPONSE),
}


@pytest.mark.parametrize("method", list(PATH_CALLS))
async def test_path_parameters_are_one_escaped_segment(make_client: Any, method: str) -> None:
    prefix, suffix, payload = PREFIX[method]
    seen: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204) if payload is None else js(payload)()

    client = make_client(handler)
    for raw, escaped in IDS.items():
        await resolve(PATH_CALLS[method](client, raw))
        request = seen[-1]
        assert request.url.raw_path.decode() == prefix + escaped + suffix, raw
        assert request.url.query == b"" and request.url.fragment == ""
    assert len(seen) == len(IDS)
