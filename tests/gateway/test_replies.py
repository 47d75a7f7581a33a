"""Scripted replies: rules from serve(), a file, the CLI, the admin API and the pytest plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, RepliesError, main, serve

from .conftest import TOKEN, chat_body, sse_json, user

pytest_plugins = ["pytester"]

RULES: List[Dict[str, Any]] = [
    {"match": r"\bweather\b", "model": "anthropic/*", "content": "Claude says: drizzle."},
    {"match": r"\bweather\b", "content": "It is sunny in Paris."},
    {"match": "^extract", "json": {"city": "Paris", "temperature_c": 21}},
    {"match": "weather", "content": "never used: an earlier rule always wins"},
]


@pytest.fixture(scope="module")
def scripted() -> Iterator[Gateway]:
    with serve([TOKEN], replies=RULES) as gateway:
        yield gateway


@pytest.fixture
def sclient(scripted: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=scripted.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def _content(client: httpx.Client, text: str, **extra: Any) -> str:
    response = client.post("/v1/chat/completions", json=chat_body(text, **extra))
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def test_first_matching_rule_wins_case_insensitively_with_model_globs(sclient: httpx.Client) -> None:
    assert _content(sclient, "What's the WEATHER like?") == "It is sunny in Paris."
    claude = _content(sclient, "weather please", model="anthropic/claude-3.5-haiku")
    assert claude == "Claude says: drizzle."
    assert json.loads(_content(sclient, "Extract the city from: Paris, 21C")) == {
        "city": "Paris",
        "temperature_c": 21,
    }
    # Only the last user message counts.
    history = [*user("weather?"), {"role": "assistant", "content": "ok"}, *user("and now?")]
    body = sclient.post(
        "/v1/chat/completions", json={"model": "openai/gpt-4o-mini", "messages": history}
    ).json()
    assert body["choices"][0]["message"]["content"] != "It is sunny in Paris."


def test_no_match_falls_back_to_the_deterministic_model(sclient: httpx.Client, client: httpx.Client) -> None:
    assert _content(sclient, "Tell me about vector search.") == _content(
        client, "Tell me about vector search."
    )


def test_usage_n_stop_and_tools_follow_the_scripted_text(sclient: httpx.Client) -> None:
    body = sclient.post(
        "/v1/chat/completions",
        json=chat_body("weather", n=2, max_tokens=2, tools=[_TOOL], tool_choice="auto"),
    ).json()
    assert [c["message"]["content"] for c in body["choices"]] == ["It is", "It is"]
    assert (
        body["choices"][0]["finish_reason"] == "length" and "tool_calls" not in body["choices"][0]["message"]
    )
    assert body["usage"]["completion_tokens"] == 4


_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def test_streamed_chat_responses_and_compare_use_the_rules(sclient: httpx.Client) -> None:
    raw = sclient.post("/v1/chat/completions", json=chat_body("weather?", stream=True)).content
    deltas = [e["choices"][0]["delta"].get("content") or "" for _, e in sse_json(raw)[:-1] if e["choices"]]
    assert "".join(deltas) == "It is sunny in Paris."
    response = sclient.post(
        "/v1/responses", json={"model": "openai/gpt-4o-mini", "input": "weather in Paris"}
    ).json()
    assert response["output"][-1]["content"][0]["text"] == "It is sunny in Paris."
    streamed = sclient.post(
        "/v1/responses", json={"model": "openai/gpt-4o-mini", "input": "weather", "stream": True}
    ).content
    done = [e for name, e in sse_json(streamed) if name == "response.output_text.done"]
    assert done[0]["text"] == "It is sunny in Paris."
    models = ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]
    compare = sclient.post("/v1/chat/compare", json={"models": models, "messages": user("weather?")}).json()
    answers = {r["model"]: r["content"] for r in compare["results"]}
    assert answers == {
        "openai/gpt-4o-mini": "It is sunny in Paris.",
        "anthropic/claude-3.5-haiku": "Claude says: drizzle.",
    }


def test_admin_routes_add_replace_list_clear_and_reset(scripted: Gateway, sclient: httpx.Client) -> None:
    admin = {"Authorization": f"Bearer {scripted.admin_token}"}
    url = scripted.base_url + "/_admin/replies"
    assert httpx.post(url, json={"match": "x", "content": "y"}).status_code == 401
    added = httpx.post(url, headers=admin, json={"replies": [{"match": "^ping$", "content": "pong"}]})
    assert added.status_code == 200 and added.json()["replies"] == [{"match": "^ping$", "content": "pong"}]
    assert _content(sclient, "PING") == "pong"
    assert len(httpx.get(url, headers=admin).json()["replies"]) == len(RULES) + 1
    bad = httpx.post(url, headers=admin, json={"match": "(", "content": "x"})
    assert bad.status_code == 400 and "regular expression" in bad.json()["error"]["message"]
    replaced = httpx.put(url, headers=admin, json={"replies": [{"match": "weather", "content": "Fog."}]})
    assert replaced.status_code == 200 and _content(sclient, "weather") == "Fog."
    assert httpx.delete(url, headers=admin).json() == {"cleared": True}
    assert _content(sclient, "weather") != "Fog."
    scripted.faults.add("/v1/models", status=503, times=-1)
    reset = httpx.post(scripted.base_url + "/_admin/reset", headers=admin)
    assert reset.json() == {"reset": True} and not scripted.faults.pending()
    assert _content(sclient, "weather") == "It is sunny in Paris."  # the start-up rules are back


def test_reset_zeroes_rate_limits() -> None:
    with (
        serve([TOKEN], rpm=1) as gw,
        httpx.Client(base_url=gw.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as c,
    ):
        assert c.get("/v1/models").status_code == 200
        assert c.get("/v1/models").status_code == 429
        gw.reset()
        assert c.get("/v1/models").status_code == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"match": "x"}', "must be a JSON array of rules"),
        ('[{"match": "x"}]', "rule 0: give exactly one of 'content' or 'json'"),
        (
            '[{"match": "x", "content": "a"}, {"match": "[", "content": "b"}]',
            "rule 1: 'match' is not a valid",
        ),
        ('[{"match": "x", "content": "a", "reply": "b"}]', "unknown key 'reply'"),
        ('[{"match": 3, "content": "a"}]', "'match' must be a string"),
        ('[{"match": "x", "model": 1, "content": "a"}]', "'model' must be a string"),
        ('[{"match": "x", "content": 5}]', "'content' must be a string"),
    ],
)
def test_a_bad_file_is_a_clear_start_up_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "replies.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RepliesError, match=r"replies file .*replies\.json"):
        serve(replies=str(path))
    with pytest.raises(RepliesError) as caught:
        serve(replies=path)
    assert message in str(caught.value)


def test_the_cli_loads_a_file_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--replies", str(tmp_path / "missing.json"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meshapi gateway: replies file") and "cannot be read" in err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(RULES), encoding="utf-8")
    with (
        serve([TOKEN], replies=good) as gw,
        httpx.Client(base_url=gw.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as c,
    ):
        assert _content(c, "weather") == "It is sunny in Paris."
        assert [r.as_dict() for r in gw.replies.rules()] == RULES


def test_the_pytest_plugin_option_and_fixture(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", rules=json.dumps([{"match": "hello", "content": "Hi from the file."}]))
    pytester.makepyfile(
        """
        import httpx

        def _ask(gw, text):
            body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
            headers = {"Authorization": "Bearer " + gw.token}
            reply = httpx.post(gw.base_url + "/v1/chat/completions", json=body, headers=headers).json()
            return reply["choices"][0]["message"]["content"]

        def test_file_rules(meshapi_gateway):
            assert _ask(meshapi_gateway, "hello there") == "Hi from the file."

        def test_fixture_adds_for_one_test(meshapi_gateway, meshapi_replies):
            meshapi_replies.add([{"match": "bye", "content": "See you."}])
            assert _ask(meshapi_gateway, "bye now") == "See you."

        def test_and_is_reset_afterwards(meshapi_gateway):
            assert _ask(meshapi_gateway, "bye now") != "See you."
            assert len(meshapi_gateway.replies) == 1
        """
    )
    result = pytester.runpytest_subprocess("--meshapi-replies", "rules.json", "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
