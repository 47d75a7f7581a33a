"""The per-call options are declared once, each method's keyword TypedDict matches its params model,
``help()`` still lists every keyword, and unknown keywords fail as they did."""

from __future__ import annotations

import inspect
from typing import Any, Dict, List, Tuple, Type

import pytest
from pydantic import BaseModel

from meshapi import AsyncMeshAPI, InvalidParamsError, MeshAPI
from meshapi._core.request import OPTION_NAMES, CallOptions, RequestOptions
from meshapi.lib.tool_calls import RUN_OPTION_NAMES
from meshapi.resources._base import AsyncAPIResource, SyncAPIResource

RESOURCES = [
    "chat.completions", "responses", "embeddings", "compare", "batches", "models", "templates", "images",
    "rag", "videos", "audio", "moderations", "web", "router", "api_versions", "usage", "balance",
]  # fmt: skip


def _methods() -> List[Tuple[str, str, Any]]:
    client = MeshAPI(base_url="http://127.0.0.1:9", token="rsk_options_token")
    aclient = AsyncMeshAPI(base_url="http://127.0.0.1:9", token="rsk_options_token")
    found = []
    for path in RESOURCES:
        for c in (client, aclient):
            resource: Any = c
            for part in path.split("."):
                resource = getattr(resource, part)
            assert isinstance(resource, (SyncAPIResource, AsyncAPIResource))
            for name, function in inspect.getmembers(type(resource), inspect.isfunction):
                if not name.startswith("_"):
                    found.append((f"{type(resource).__name__}.{name}", path, function))
    client.close()
    return found


METHODS = _methods()


def test_the_options_typed_dict_matches_request_options_build() -> None:
    built = set(inspect.signature(RequestOptions.build).parameters) - {"cls"}
    assert set(CallOptions.__annotations__) == built == OPTION_NAMES


def _unpacked(function: Any) -> Any:
    code = function.__code__
    if not code.co_flags & inspect.CO_VARKEYWORDS:
        return None
    name = code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
    annotation = function.__annotations__[name]
    assert annotation.startswith("Unpack["), f"{function.__qualname__}: **{name} is not typed"
    return function.__globals__[annotation[len("Unpack[") : -1]]


def _params_model(function: Any) -> Any:
    annotation = function.__annotations__.get("params", "")
    for name, value in function.__globals__.items():
        if isinstance(value, type) and issubclass(value, BaseModel) and name in annotation.split("[")[-1]:
            return value
    return None


@pytest.mark.parametrize(("qualname", "path", "function"), METHODS, ids=[m[0] for m in METHODS])
def test_every_keyword_typed_dict_is_its_params_model_plus_the_options(
    qualname: str, path: str, function: Any
) -> None:
    """Derived from the objects: a field added to a params model without its TypedDict key fails here."""
    typed_dict = _unpacked(function)
    if typed_dict is None:  # helpers with a few explicit keywords (wait, iter_*)
        assert not {"max_retries", "request_id"} & set(inspect.signature(function).parameters), qualname
        return
    keys = set(typed_dict.__annotations__)
    model: Type[BaseModel] = _params_model(function)
    if qualname.endswith("CompletionsResource.parse"):
        assert keys >= OPTION_NAMES - {"max_retries"} | {"request_max_retries"}, qualname
        keys -= {"request_max_retries"}
    else:
        assert keys >= OPTION_NAMES, qualname
    run_tools = qualname.endswith(".run_tools")
    if run_tools:  # the runner's own options (Responses' max_tool_calls among them), then create's keywords
        assert keys >= RUN_OPTION_NAMES, qualname
        keys -= RUN_OPTION_NAMES
    fields = keys - OPTION_NAMES
    code = function.__code__
    named = set(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    if model is None:
        assert not fields, qualname
        return
    expected = set(model.model_fields) - OPTION_NAMES - named - (RUN_OPTION_NAMES if run_tools else set())
    if path == "chat.completions":
        expected = expected - {"stream", "response_format"} | {"fallback_models"}
        if qualname.endswith("CompletionsResource.create"):
            expected |= {"stream_internally"}  # create only: stream under the hood, never sent
    if qualname.endswith("ResponsesResource.parse"):  # never streams: no ``stream`` keyword
        expected = expected - {"stream"}
    assert fields == expected, qualname
    assert named.isdisjoint(keys), qualname


@pytest.mark.parametrize(("qualname", "path", "function"), METHODS, ids=[m[0] for m in METHODS])
def test_help_shows_every_option_and_field_as_a_keyword(qualname: str, path: str, function: Any) -> None:
    params = inspect.signature(function).parameters
    assert all(p.kind is not p.VAR_KEYWORD for p in params.values()), qualname
    typed_dict = _unpacked(function)
    if typed_dict is not None:
        for key in typed_dict.__annotations__:
            assert params[key].kind is inspect.Parameter.KEYWORD_ONLY and params[key].default is None


def test_help_text_lists_the_options() -> None:
    text = inspect.signature(MeshAPI(base_url="http://127.0.0.1:9", token="rsk_x").embeddings.create)
    shown = str(text)
    for name in ["params", "input", "dimensions", *CallOptions.__annotations__]:
        assert f"{name}:" in shown or f"{name}=" in shown, name


def _client(handler: Any) -> MeshAPI:
    import httpx

    return MeshAPI(
        base_url="http://127.0.0.1:9",
        token="rsk_options_token",
        httpx_client=httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler)),
    )


def test_unknown_keywords_fail_as_before() -> None:
    seen: List[Any] = []
    client = _client(lambda request: seen.append(request))
    with pytest.raises(TypeError, match=r"get\(\) got an unexpected keyword argument 'bogus'"):
        client.batches.get("b1", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(InvalidParamsError, match="unknown parameter for EmbeddingsParams"):
        client.embeddings.create(model="m", input="x", bogus=1)  # type: ignore[call-arg]
    with pytest.raises(InvalidParamsError, match="timeout"):
        client.models.free(timeout=-1)
    assert seen == []


def test_options_and_fields_reach_the_request() -> None:
    import httpx

    requests: List[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "model": "m"})

    client = _client(handler)
    client.embeddings.create(
        model="m", input="x", extra_headers={"X-A": "1"}, extra_query={"q": "2"}, extra_body={"b": 3},
        request_id="req-1", timeout=5.0, max_retries=0, total_timeout=9.0,
    )  # fmt: skip
    request = requests[0]
    assert request.headers["x-a"] == "1" and request.url.params["q"] == "2"
    import json

    body: Dict[str, Any] = json.loads(request.content)
    assert body == {"model": "m", "input": "x", "b": 3}
