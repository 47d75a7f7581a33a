"""Moderations, web search, router select, models.search/get/list filters and images.edit on MockTransport."""

from __future__ import annotations

import ast
import base64
import json
import pathlib
from typing import Any, List

import httpx
import pytest

import meshapi
from meshapi import InvalidParamsError
from tests.conftest import resolve

PNG = b"\x89PNG\r\n\x1a\n" + bytes(16)


def recorder(payload: Any, seen: List[httpx.Request], status: int = 200) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=payload)

    return handler


async def test_moderations_create(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    payload = {"id": "modr-1", "model": "omni-moderation-latest", "results": [
        {"flagged": False, "categories": {"violence": False}, "category_scores": {"violence": 0.01}},
        {"flagged": True, "categories": {"violence": True, "harassment": False},
         "category_scores": {"violence": 0.9, "harassment": 0.2}, "category_applied_input_types": {"violence": ["text"]}},
    ]}  # fmt: skip
    client = make_client(recorder(payload, seen))
    result = await resolve(
        client.moderations.create(meshapi.ModerationParams(input=["nice day", "I will hurt you"]))
    )
    assert isinstance(result, meshapi.ModerationResponse) and result.flagged
    assert [r.flagged for r in result.results] == [False, True]
    assert result.results[1].flagged_categories == ["violence"]
    assert result.results[1].category_applied_input_types == {"violence": ["text"]}  # extra keys kept
    assert json.loads(seen[0].content) == {
        "input": ["nice day", "I will hurt you"],
        "model": "omni-moderation-latest",
    }
    await resolve(client.moderations.create("just text"))
    await resolve(client.moderations.create(input=[{"type": "image_url", "image_url": {"url": "data:x"}}]))
    assert json.loads(seen[1].content) == {"input": "just text", "model": "omni-moderation-latest"}
    assert json.loads(seen[2].content)["input"] == [{"type": "image_url", "image_url": {"url": "data:x"}}]
    assert all(r.url.path == "/v1/moderations" for r in seen)


async def test_web_search(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    payload = {"query": "python", "answer": "Python 3.14.", "provider": "native", "request_id": "req_1",
               "results": [{"title": "Python", "url": "https://python.org", "score": 0.9}]}  # fmt: skip
    client = make_client(recorder(payload, seen))
    result = await resolve(client.web.search("python", include_answer=True, include_domains=["python.org"]))
    assert isinstance(result, meshapi.WebSearchResponse) and result.answer == "Python 3.14."
    assert result.results[0].content == "" and result.request_id == "req_1"
    assert seen[0].url.path == "/v1/web/search"
    assert json.loads(seen[0].content) == {"query": "python", "max_results": 5, "search_depth": "basic",
                                           "include_domains": ["python.org"], "include_answer": True}  # fmt: skip
    for bad in (
        {"query": ""},
        {"query": "x" * 2001},
        {"query": "q", "max_results": 0},
        {"query": "q", "provider": "bing"},
    ):
        with pytest.raises(InvalidParamsError):
            await resolve(client.web.search(**bad))
    assert len(seen) == 1


async def test_web_search_disabled_deployment_is_a_typed_error(make_client: Any) -> None:
    client = make_client(recorder({"detail": "Web search is disabled"}, [], status=403))
    with pytest.raises(meshapi.PermissionDeniedError):
        await resolve(client.web.search("q"))


async def test_router_select(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    payload = {"model": "anthropic/claude-3.5-haiku", "auto_router": {"fallback_used": False, "reason": "short"},
               "reasoning_effort": "low"}  # fmt: skip
    client = make_client(recorder(payload, seen))
    picked = await resolve(
        client.router.select(messages=[{"role": "user", "content": "haiku"}], exclude_models=["x"])
    )
    assert isinstance(picked, meshapi.RouterSelectResponse) and picked.model == "anthropic/claude-3.5-haiku"
    assert picked.auto_router.fallback_used is False and picked.auto_router.reason == "short"
    assert json.loads(seen[0].content) == {"messages": [{"role": "user", "content": "haiku"}],
                                           "api_type": "completions", "exclude_models": ["x"]}  # fmt: skip
    with pytest.raises(InvalidParamsError, match="messages"):
        await resolve(client.router.select(messages=[]))
    assert len(seen) == 1


async def test_models_list_filters_search_and_get(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    info = {"id": "openai/gpt-4o-mini", "name": "GPT-4o mini", "is_free": False}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/models":
            return httpx.Response(200, json=[info])
        if request.url.path == "/v1/models/search":
            return httpx.Response(200, json={"items": [info], "total": 1, "limit": 5, "offset": 0, "brands": ["OpenAI"],
                                             "facets": {"brand": {"OpenAI": 1}}})  # fmt: skip
        return httpx.Response(200, json=info)

    client = make_client(handler)
    models = await resolve(client.models.list(free=False, type="text", provider="openai"))
    assert [m.id for m in models] == ["openai/gpt-4o-mini"]
    assert seen[0].url.params.multi_items() == [("free", "false"), ("type", "text"), ("provider", "openai")]
    page = await resolve(
        client.models.search(q="gpt", output_modality=["text", "image"], sort="name", limit=5)
    )
    assert (
        isinstance(page, meshapi.ModelsPage) and page.total == 1 and page.facets == {"brand": {"OpenAI": 1}}
    )
    assert seen[1].url.params.multi_items() == [("q", "gpt"), ("output_modality", "text"),
                                                ("output_modality", "image"), ("sort", "name"), ("limit", "5")]  # fmt: skip
    one = await resolve(client.models.get("openai/gpt-4o-mini"))
    assert isinstance(one, meshapi.ModelInfo) and one.is_composite is False
    assert seen[2].url.raw_path == b"/v1/models/openai/gpt-4o-mini"  # the slash stays, as in 0.1.12
    await resolve(client.models.get("odd/na me?#"))
    assert seen[3].url.raw_path == b"/v1/models/odd/na%20me%3F%23"
    await resolve(client.models.get("a/../b"))  # ".." is escaped, so it cannot climb out of /v1/models
    assert seen[4].url.raw_path == b"/v1/models/a/%2E%2E/b"
    for bad in ("", "/", "a//b"):
        with pytest.raises(InvalidParamsError):
            await resolve(client.models.get(bad))
    with pytest.raises(InvalidParamsError, match="type"):
        await resolve(client.models.list(type="music"))
    assert len(seen) == 5


async def test_models_get_unknown_is_not_found(make_client: Any) -> None:
    client = make_client(recorder({"detail": "Model not found"}, [], status=404))
    with pytest.raises(meshapi.NotFoundError):
        await resolve(client.models.get("nope/model"))


async def test_models_get_and_providers_name_model_id_in_their_errors(make_client: Any) -> None:
    seen: List[httpx.Request] = []
    client = make_client(recorder({"id": "x", "name": "X", "is_free": True}, seen))
    for bad in ("", "/", " / "):
        for call in (client.models.get, client.models.providers):
            with pytest.raises(InvalidParamsError) as caught:
                await resolve(call(bad))
            assert caught.value.message == f"model_id must be a non-empty string, got {bad!r}"
    with pytest.raises(InvalidParamsError) as caught:
        await resolve(client.models.get("a//b"))
    assert caught.value.message == "model_id must be a non-empty string"  # the empty part, named the same
    assert seen == []


def _builds_a_model_path(node: ast.AST) -> bool:
    """A ``"/v1/models/"`` prefix joined to an id: the literal itself or an f-string starting with it."""
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and first.value.startswith("/v1/models/")
            and any(isinstance(part, ast.FormattedValue) for part in node.values)
        )
    return isinstance(node, ast.Constant) and node.value == "/v1/models/"


def test_one_module_builds_the_model_path() -> None:
    """``/v1/models/{id}`` (quoting, bad ids) is ``_core.request.model_path`` (re-exported by ``resources._base``); nobody else builds it."""
    package = pathlib.Path(meshapi.__file__).parent
    builders = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if any(_builds_a_model_path(node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    )
    assert builders == ["_core/request.py"]


async def test_images_edit_json_body_and_bytes_inputs(make_client: Any, tmp_path: pathlib.Path) -> None:
    seen: List[httpx.Request] = []
    payload = {"created": 1, "data": [{"b64_json": base64.b64encode(PNG).decode()}]}
    client = make_client(recorder(payload, seen))
    params = meshapi.ImageEditParams(
        model="openai/gpt-image-1", image="data:image/png;base64,AA==", prompt="add a hat"
    )
    result = await resolve(client.images.edit(params))
    assert isinstance(result, meshapi.ImageGenerationResponse) and result.data[0].image_bytes() == PNG
    assert seen[0].url.path == "/v1/images/edits"
    assert json.loads(seen[0].content) == {"model": "openai/gpt-image-1", "image": "data:image/png;base64,AA==",
                                           "prompt": "add a hat", "operation": "edit"}  # fmt: skip
    mask = tmp_path / "mask.png"
    mask.write_bytes(PNG)
    await resolve(client.images.edit(model="m", image=PNG, mask=mask, operation="inpaint",
                                     reference_images=[b"\xff\xd8jpeg", {"url": "data:image/png;base64,AA=="}]))  # fmt: skip
    body = json.loads(seen[1].content)
    expected = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert body["image"] == expected and body["mask"] == expected and body["operation"] == "inpaint"
    assert body["reference_images"][0].startswith("data:image/jpeg;base64,")
    assert body["reference_images"][1] == {"url": "data:image/png;base64,AA=="}
    with pytest.raises(InvalidParamsError, match="operation"):
        await resolve(client.images.edit(model="m", image="AA==", operation="paint"))
    assert len(seen) == 2
