"""What a first chat call imports: nothing of the features it does not use.

Why this exists: the cold start (import, client, first call, in a fresh process) is held near the typed
floor (raw httpx plus minimal pydantic models) by importing only what the first call needs. Budgets,
the rate limiter and usage tracking sit on the call path (the send loops ask for them on every call), so
a careless import there loads them for everyone. Each case runs a fresh interpreter against the local
gateway and reads ``sys.modules`` after a first chat call, sync and async: the feature modules are absent
when the client does not use them, and present (and working) when it does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict, List

import pytest

# The modules of budgets, the limiter, usage tracking, the tool runners and map: loaded by the feature
# that needs them only.
FEATURE_MODULES = [
    "meshapi._budget",
    "meshapi._core.rate_limit",
    "meshapi._core.usage",
    "meshapi._rate_limiter",
    "meshapi._transport.limiting",
    "meshapi._transport.spend",
    "meshapi._usage_track",
    "meshapi.lib.bulk",
    "meshapi.lib.tool_calls",
    "meshapi.lib.tool_events",
    "meshapi.lib.tool_loop",
    "meshapi.lib.tool_runner",
    "meshapi.lib.tool_runner_async",
]

PROGRAM = """
import asyncio, json, sys
import meshapi
after_import = sorted(m for m in FEATURES if m in sys.modules)
options = {}
if "budget" in USE:
    options["budget"] = meshapi.Budget(max_usd="5")
if "limiter" in USE:
    options["limiter"] = meshapi.RateLimiter(max_concurrency=2)
MESSAGES = [{"role": "user", "content": "hi"}]

def sync_call():
    with meshapi.MeshAPI(base_url=URL, token=TOKEN, **options) as client:
        if "tracker" in USE:
            with client.track_usage(lookup=False) as usage:
                text = client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content
            return text, usage.total_tokens
        return client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content, None

async def async_call():
    async with meshapi.AsyncMeshAPI(base_url=URL, token=TOKEN, **options) as client:
        if "tracker" in USE:
            async with client.track_usage(lookup=False) as usage:
                reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
            return reply.choices[0].message.content, usage.total_tokens
        reply = await client.chat.completions.create(model=MODEL, messages=MESSAGES)
        return reply.choices[0].message.content, None

text, tokens = sync_call() if MODE == "sync" else asyncio.run(async_call())
loaded = sorted(m for m in FEATURES if m in sys.modules)
print(json.dumps({"after_import": after_import, "loaded": loaded, "text": text, "tokens": tokens}))
"""

MODEL = "openai/gpt-4o-mini"


def _first_call(gateway: Any, mode: str, use: List[str]) -> Dict[str, Any]:
    setup = f"URL={gateway.base_url!r}; TOKEN={gateway.token!r}; MODEL={MODEL!r}; MODE={mode!r}; "
    setup += f"USE={use!r}; FEATURES={FEATURE_MODULES!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + PROGRAM], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    result: Dict[str, Any] = json.loads(done.stdout)
    return result


def _reply(gateway: Any) -> Any:
    """The gateway's answer to the program's call (deterministic): its text and total tokens."""
    from meshapi import MeshAPI

    with MeshAPI(base_url=gateway.base_url, token=gateway.token) as client:
        reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert reply.usage is not None
    return reply.choices[0].message.content, reply.usage.total_tokens


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_plain_first_chat_call_imports_no_budget_limiter_tracker_or_runner_module(
    gateway: Any, mode: str
) -> None:
    result = _first_call(gateway, mode, [])
    assert result["after_import"] == []
    assert result["loaded"] == []
    assert result["text"] == _reply(gateway)[0]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("use", "expected"),
    [
        (["budget"], ["meshapi._budget", "meshapi._core.usage", "meshapi._transport.spend"]),
        (["limiter"], ["meshapi._core.rate_limit", "meshapi._rate_limiter", "meshapi._transport.limiting"]),
        (
            ["tracker"],
            ["meshapi._budget", "meshapi._core.usage", "meshapi._transport.spend", "meshapi._usage_track"],
        ),
    ],
    ids=["budget", "limiter", "tracker"],
)
def test_each_feature_loads_its_own_modules_and_still_watches_the_call(
    gateway: Any, mode: str, use: List[str], expected: List[str]
) -> None:
    result = _first_call(gateway, mode, use)
    assert result["after_import"] == []
    assert result["loaded"] == expected
    text, tokens = _reply(gateway)
    assert result["text"] == text
    assert result["tokens"] == (tokens if use == ["tracker"] else None)  # the tracker recorded the call


SYNC_ONLY = """
import json, sys
import meshapi
MESSAGES = [{"role": "user", "content": "hi"}]
with meshapi.MeshAPI(base_url=URL, token=TOKEN) as client:
    text = client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content
    with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as stream:
        streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
print(json.dumps({"asyncio": "asyncio" in sys.modules, "text": text, "streamed": streamed}))
"""


def test_a_sync_program_never_imports_asyncio(gateway: Any) -> None:
    """A sync client's first call and stream load no asyncio (about 20 ms of a cold start): the event-loop
    helpers (``_transport/loops.py``) and the tool runners, loaded by a first run, import it when used."""
    setup = f"URL={gateway.base_url!r}; TOKEN={gateway.token!r}; MODEL={MODEL!r}\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + SYNC_ONLY], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    text = _reply(gateway)[0]
    assert result == {"asyncio": False, "text": text, "streamed": text}
