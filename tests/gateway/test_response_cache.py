"""The gateway response cache over real sockets: hits, eligibility, opt-outs, memory, tiers, keys, SSE
replay, expiry and bounds (docs/protocol.md §V3.1)."""

from __future__ import annotations

import itertools
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from meshapi_gateway import Gateway, serve
from meshapi_gateway.store.response_cache import ResponseCache, cache_key, cache_source, eligible, opted_out
from tests._poll import wait_until

from .conftest import sse_json

TOKEN = "rsk_cache_tests_token"
OTHER = "rsk_cache_tests_other"
OFF = "rsk_cache_tests_off"
CHAT = "/v1/chat/completions"
_fresh = itertools.count()


@pytest.fixture(scope="module")
def gw() -> Iterator[Gateway]:
    with serve([TOKEN, OTHER, OFF], response_cache_per_token={OFF: False}) as gateway:
        yield gateway


@pytest.fixture(autouse=True)
def _empty(gw: Gateway) -> Iterator[None]:
    yield
    gw.state.response_cache.clear()


def body(**extra: Any) -> Dict[str, Any]:
    """A chat body no other test sends (its own question)."""
    question = f"Cache question number {next(_fresh)}: what is vector search?"
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": question}], **extra}


def post(gw: Gateway, sent: Dict[str, Any], token: str = TOKEN, **headers: str) -> httpx.Response:
    response = httpx.post(
        gw.base_url + CHAT, json=sent, headers={"Authorization": f"Bearer {token}", **headers}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response


def twice(gw: Gateway, sent: Dict[str, Any], **headers: str) -> List[httpx.Response]:
    return [post(gw, sent, **headers), post(gw, sent, **headers)]


def test_second_identical_call_is_a_hit_with_the_stored_answer(gw: Gateway) -> None:
    sent = body()
    first, second = twice(gw, sent)
    assert "x-cache" not in first.headers  # no MISS header
    assert second.headers["x-cache"] == "HIT"
    assert second.json() == first.json()  # the stored answer, id and usage included
    assert second.headers["x-request-id"] != first.headers["x-request-id"]
    assert post(gw, {**sent, "temperature": 0}).headers.get("x-cache") is None  # 0 is not "absent"
    assert post(gw, {**sent, "temperature": 0}).headers["x-cache"] == "HIT"
    assert post(gw, {**sent, "user": "someone", "cache": True}).headers["x-cache"] == "HIT"  # not in the key


@pytest.mark.parametrize(
    "change",
    [{"max_tokens": 5}, {"stop": ["."]}, {"response_format": {"type": "json_object"}}, {"n": 2}, {"seed": 7}],
)
def test_every_key_field_makes_its_own_entry(gw: Gateway, change: Dict[str, Any]) -> None:
    sent = body()
    post(gw, sent)
    other = post(gw, {**sent, **change})
    assert "x-cache" not in other.headers
    assert post(gw, {**sent, **change}).headers["x-cache"] == "HIT"


@pytest.mark.parametrize(
    "extra",
    [
        {"temperature": 0.5},
        {"tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]},
    ],
)
def test_ineligible_requests_are_never_cached(gw: Gateway, extra: Dict[str, Any]) -> None:
    sent = body(**extra)
    answers = [post(gw, sent) for _ in range(3)]
    assert [a.headers.get("x-cache") for a in answers] == [None, None, None]
    assert len({a.json()["id"] for a in answers}) == 3
    assert len(gw.state.response_cache) == 0


def test_body_cache_false_skips_read_and_write(gw: Gateway) -> None:
    sent = body()
    assert "x-cache" not in post(gw, {**sent, "cache": False}).headers
    assert "x-cache" not in post(gw, sent).headers  # nothing was written
    assert "x-cache" not in post(gw, {**sent, "cache": False}).headers  # nor read
    assert post(gw, sent).headers["x-cache"] == "HIT"


@pytest.mark.parametrize("value", ["no-store", "No-Store", "private, no-store"])
def test_header_no_store_skips_read_and_write(gw: Gateway, value: str) -> None:
    sent = body()
    assert "x-cache" not in post(gw, sent, **{"X-Mesh-Cache": value}).headers
    assert "x-cache" not in post(gw, sent).headers
    assert "x-cache" not in post(gw, sent, **{"X-Mesh-Cache": value}).headers
    assert post(gw, sent, **{"X-Mesh-Cache": "no-cache"}).headers["x-cache"] == "HIT"  # only no-store counts


def test_memory_header_bypasses_read_and_write(gw: Gateway) -> None:
    sent = body()
    first = post(gw, sent, **{"x-mem-id": "nothing-here"})
    assert "x-cache" not in first.headers and first.headers["x-mesh-memory-applied"] == ""
    assert "x-cache" not in post(gw, sent).headers  # not written
    assert "x-cache" not in post(gw, sent, **{"x-mem-id": "nothing-here"}).headers  # not read


def test_flex_and_standard_never_share_entries(gw: Gateway) -> None:
    sent = body(model="openai/gpt-5-nano")
    standard = post(gw, sent)
    flex = post(gw, {**sent, "service_tier": "flex"})
    assert "x-cache" not in flex.headers and flex.json()["service_tier"] == "flex"
    assert standard.json()["service_tier"] == "default"
    assert post(gw, {**sent, "service_tier": "default"}).json()["id"] == standard.json()["id"]
    hit = post(gw, {**sent, "service_tier": "auto"})  # auto runs on flex here: the flex entry
    assert hit.headers["x-cache"] == "HIT" and hit.json() == flex.json()


def test_namespaces_are_per_key_and_a_key_can_turn_the_cache_off(gw: Gateway) -> None:
    sent = body()
    post(gw, sent)
    assert "x-cache" not in post(gw, sent, token=OTHER).headers
    assert post(gw, sent, token=OTHER).headers["x-cache"] == "HIT"
    assert [post(gw, sent, token=OFF).headers.get("x-cache") for _ in range(2)] == [None, None]


def test_the_cache_can_be_off_for_every_key() -> None:
    with serve([TOKEN, OTHER], response_cache=False, response_cache_per_token={OTHER: True}) as gateway:
        sent = body()
        assert [post(gateway, sent).headers.get("x-cache") for _ in range(2)] == [None, None]
        assert [post(gateway, sent, token=OTHER).headers.get("x-cache") for _ in range(2)] == [None, "HIT"]


def test_the_command_line_can_turn_it_off() -> None:
    from meshapi_gateway.http.cli import _parser

    assert _parser().parse_args([]).response_cache is True
    assert _parser().parse_args(["--no-response-cache"]).response_cache is False


def test_a_stored_answer_is_replayed_as_sse(gw: Gateway) -> None:
    sent = body()
    plain = post(gw, sent).json()
    replay = post(gw, {**sent, "stream": True})
    assert replay.headers["x-cache"] == "HIT"
    assert replay.headers["content-type"] == "text/event-stream"
    events = sse_json(replay.content)
    assert events[-1] == (None, "[DONE]")
    chunks = [e for _, e in events[:-1]]
    assert {c["id"] for c in chunks} == {plain["id"]}
    assert {c["service_tier"] for c in chunks} == {"default"}
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert text == plain["choices"][0]["message"]["content"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == plain["usage"] and chunks[-1]["cost"] == "0"  # a hit is not billed


def test_a_streamed_answer_is_stored_for_plain_hits(gw: Gateway) -> None:
    sent = body()
    streamed = post(gw, {**sent, "stream": True})
    assert "x-cache" not in streamed.headers
    chunks = [e for _, e in sse_json(streamed.content)[:-1]]
    hit = post(gw, sent)
    assert hit.headers["x-cache"] == "HIT"
    answer = hit.json()
    assert answer["id"] == chunks[0]["id"] and answer["usage"] == chunks[-1]["usage"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert answer["choices"][0]["message"]["content"] == text


def test_a_changed_script_is_not_hidden_by_old_answers(gw: Gateway) -> None:
    sent = body()
    post(gw, sent)
    gw.replies.add([{"match": "Cache question", "content": "Scripted."}])
    try:
        fresh = post(gw, sent)
        assert "x-cache" not in fresh.headers
        assert fresh.json()["choices"][0]["message"]["content"] == "Scripted."
    finally:
        gw.replies.reset()


def test_entries_expire_after_the_ttl() -> None:
    with serve([TOKEN], response_cache_ttl=0.3) as gateway:
        sent = body()
        first = post(gateway, sent)
        assert post(gateway, sent).headers["x-cache"] == "HIT"
        expired = wait_until(
            lambda: (r := post(gateway, sent)).headers.get("x-cache") is None and r, timeout=5
        )
        assert expired.json()["id"] != first.json()["id"]


def test_entries_are_bounded_least_recently_used_first() -> None:
    with serve([TOKEN], response_cache_max_entries=2) as gateway:
        one, two, three = body(), body(), body()
        post(gateway, one)
        post(gateway, two)
        assert post(gateway, one).headers["x-cache"] == "HIT"  # one is now the most recently used
        post(gateway, three)  # two goes
        assert len(gateway.state.response_cache) == 2
        assert post(gateway, one).headers["x-cache"] == "HIT"
        assert post(gateway, three).headers["x-cache"] == "HIT"
        assert "x-cache" not in post(gateway, two).headers


def test_reset_empties_the_cache(gw: Gateway) -> None:
    sent = body()
    post(gw, sent)
    gw.reset()
    assert "x-cache" not in post(gw, sent).headers


# --- the pure part ------------------------------------------------------------------------------------


def test_store_ttl_and_byte_bound_with_a_test_clock() -> None:
    now = [1000.0]
    cache = ResponseCache(ttl=60, max_entries=10, max_bytes=40, clock=lambda: now[0])
    assert cache.put("o", "k", {"a": "x" * 10})  # 18 bytes of compact JSON
    now[0] += 59.999
    assert cache.get("o", "k") is not None and cache.get("other", "k") is None
    now[0] += 0.001
    assert cache.get("o", "k") is None and len(cache) == 0 and cache.size_bytes == 0
    assert cache.put("o", "k1", {"a": "x" * 10}) and cache.put("o", "k2", {"a": "y" * 10})
    assert cache.put("o", "k3", {"a": "z" * 10})  # 54 bytes > 40: k1 goes
    assert [cache.get("o", k) is not None for k in ("k1", "k2", "k3")] == [False, True, True]
    assert cache.size_bytes == 36
    assert not cache.put("o", "big", {"a": "x" * 100}) and cache.get("o", "big") is None


@pytest.mark.parametrize("bad", [{"ttl": 0}, {"ttl": float("inf")}, {"max_entries": 0}, {"max_bytes": True}])
def test_store_settings_are_checked(bad: Dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="response cache"):
        ResponseCache(**bad)


def test_key_is_the_sha256_of_the_documented_canonical_json() -> None:
    import hashlib
    import json

    sent = {"model": "m", "messages": [{"role": "user", "content": "hé"}], "temperature": 0, "user": "u"}
    document = {
        "v": 1,
        "model": "m",
        "provider": "openai",
        "messages": [{"role": "user", "content": "hé"}],
        "max_tokens": None,
        "temperature": 0.0,
        "stop": None,
        "response_format": None,
        "service_tier": "default",
        "n": None,
        "seed": None,
        "max_completion_tokens": None,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert cache_key(sent, "openai", "default") == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert cache_key({**sent, "stream": True, "cache": True}, "openai", "default") == cache_key(
        sent, "openai", "default"
    )
    assert cache_key(sent, "openai", "flex") != cache_key(sent, "openai", "default")
    assert cache_key(sent, "azure", "default") != cache_key(sent, "openai", "default")


def test_eligibility_opt_outs_and_cache_source() -> None:
    assert eligible({}) and eligible({"temperature": 0.0}) and eligible({"tools": []})
    assert not eligible({"temperature": 0.2}) and not eligible({"temperature": False})
    assert not eligible({"tools": [{"type": "function"}]})
    assert opted_out({"cache": False}, None) and not opted_out({"cache": True}, None)
    assert opted_out({}, "NO-STORE") and not opted_out({}, "no-cache") and not opted_out({}, None)
    assert cache_source({"x-cache": "HIT"}) == "gateway" and cache_source({}) is None
