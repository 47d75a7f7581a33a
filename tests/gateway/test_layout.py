"""The gateway's layout: one route module per SDK resource, settings declared once."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
from starlette.routing import BaseRoute

from meshapi.gateway import GatewaySettings, create_app, serve
from meshapi.gateway.routes import MODULES, all_routes

# SDK resource -> a path its module must register (the endpoint is found by the SDK name).
_EXPECTED = {
    "chat": "/v1/chat/completions",
    "compare": "/v1/chat/compare",
    "responses": "/v1/responses",
    "embeddings": "/v1/embeddings",
    "images": "/v1/images/generations",
    "models": "/v1/models",
    "templates": "/v1/templates",
    "rag": "/v1/files",
    "batches": "/v1/batches",
    "realtime": "/v1/realtime",
}


def _paths(routes: list[BaseRoute]) -> set[str]:
    return {str(getattr(r, "path", "")) for r in routes}


@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_each_resource_module_registers_its_own_routes(name: str) -> None:
    module = importlib.import_module(f"meshapi.gateway.routes.{name}")
    assert module in MODULES
    assert _EXPECTED[name] in _paths(module.ROUTES)


def test_no_route_is_registered_twice_and_all_reach_the_app() -> None:
    seen = [(getattr(r, "path", ""), tuple(sorted(getattr(r, "methods", None) or ()))) for r in all_routes()]
    assert len(seen) == len(set(seen))
    app = create_app(["rsk_layout"])
    try:
        assert _paths(all_routes()) <= _paths(app.routes)
        assert "/_admin/faults" in _paths(app.routes)
    finally:
        app.state.gateway.close()


def test_settings_are_the_keywords_of_create_app_and_serve() -> None:
    app = create_app(["rsk_a"], latency=0.5, rpm=3, batch_step_seconds=1.5)
    try:
        state = app.state.gateway
        assert state.settings == GatewaySettings(tokens=["rsk_a"], latency=0.5, rpm=3, batch_step_seconds=1.5)
        assert state.latency == 0.5 and state.batch_step_seconds == 1.5 and state.limiter is not None
    finally:
        app.state.gateway.close()
    base = GatewaySettings(latency=0.25, admin_token="adm_fixed")
    with serve(["rsk_b"], settings=base, embed_step_seconds=0.5) as gw:
        assert gw.admin_token == "adm_fixed"
        assert gw.state.settings == dataclasses.replace(base, tokens=["rsk_b"], embed_step_seconds=0.5)
        assert gw.state.latency == 0.25


def test_an_unknown_setting_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="serve\\(\\) got an unexpected keyword argument 'latencyy'"):
        serve(latencyy=1.0)
    with pytest.raises(TypeError, match="create_app\\(\\) got an unexpected keyword argument 'bogus'"):
        create_app(bogus=1)
