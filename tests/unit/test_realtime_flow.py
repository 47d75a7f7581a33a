"""The pure pieces of realtime flow control, reconnection, handlers and transport options, and the
parity of the two session twins."""

from __future__ import annotations

import inspect
import json
import random
import ssl
from typing import Any, List, Optional

import pytest

from meshapi import InvalidParamsError, RealtimeError
from meshapi.realtime import FlowControl, ReconnectPolicy
from meshapi.realtime.async_session import AsyncRealtimeSession
from meshapi.realtime.flow import (
    QUICK_DEATH_SECONDS,
    ReconnectCounter,
    SendQueue,
    coerce_reconnect,
    describe_frame,
)
from meshapi.realtime.handlers import HandlerRegistry, handler_error
from meshapi.realtime.protocol import close_error
from meshapi.realtime.sync_session import RealtimeSession

# --- send queue -------------------------------------------------------------------------------------


def test_the_queue_is_bounded_by_bytes_and_by_count() -> None:
    queue = SendQueue(FlowControl(max_queue_bytes=100, max_queue_events=3))
    assert queue.has_room(1000)  # an oversized frame still fits an empty queue
    queue.push("x" * 60)
    assert not queue.has_room(41) and queue.has_room(40)
    queue.push("y" * 20)
    queue.push("z" * 10)
    assert queue.queued == (3, 90) and not queue.has_room(1)  # the count bound
    assert queue.peek() == "x" * 60
    queue.pop()
    assert queue.queued == (2, 30) and queue.sent_frames == 1 and queue.peak_bytes == 90
    queue.push_front("c" * 5)
    assert queue.drain() == ["c" * 5, "y" * 20, "z" * 10] and queue.queued == (0, 0)


def test_documented_defaults_and_validation() -> None:
    flow = FlowControl()
    assert (flow.max_queue_bytes, flow.max_queue_events, flow.send_timeout) == (1024 * 1024, 512, 10.0)
    for bad in (
        {"max_queue_bytes": 0},
        {"max_queue_events": -1},
        {"send_timeout": -1.0},
        {"send_timeout": True},
    ):
        with pytest.raises(InvalidParamsError):
            FlowControl(**bad)
    assert FlowControl(send_timeout=None).send_timeout is None


def test_undelivered_frames_are_described_by_their_event() -> None:
    assert describe_frame(json.dumps({"type": "response.create"})) == {"type": "response.create"}
    assert describe_frame(b"\x00" * 10) == {"type": "input_audio_buffer.append", "binary": True, "bytes": 10}


# --- reconnect policy -------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    policy = ReconnectPolicy(initial_delay=0.5, max_delay=3.0, multiplier=2.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = ReconnectPolicy(initial_delay=1.0, jitter=0.2)
    delays = [jittered.delay(1, random.Random(seed)) for seed in range(50)]
    assert all(0.8 <= d <= 1.2 for d in delays) and len(set(delays)) > 1


def test_which_closes_are_reconnected() -> None:
    policy = ReconnectPolicy()
    lost = close_error(None)
    assert lost.code == "connection_lost" and policy.should_reconnect(lost, None)
    assert policy.should_reconnect(close_error(1011, "boom"), None)
    assert policy.should_reconnect(close_error(1012), None)
    assert not policy.should_reconnect(close_error(1008, "policy"), None)
    assert not policy.should_reconnect(close_error(1000), None)  # a normal end
    assert policy.should_reconnect(close_error(1000), "service_draining")  # announced by the gateway
    assert not policy.should_reconnect(close_error(1000), "idle_timeout")
    assert coerce_reconnect(True) == ReconnectPolicy() and coerce_reconnect(False) is None
    assert coerce_reconnect(policy) is policy
    with pytest.raises(InvalidParamsError):
        coerce_reconnect("yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidParamsError):
        ReconnectPolicy(max_attempts=0)


def run_counter(script: List[str], policy: ReconnectPolicy) -> List[Optional[int]]:
    """Play ``script`` on a counter: ``drop@T`` / ``fail`` are followed by asking for the next attempt
    (recorded), ``open@T`` is a successful reopen, ``event:TYPE`` a server event received."""
    counter = ReconnectCounter(policy)
    asked: List[Optional[int]] = []
    for step in script:
        kind, _, arg = step.partition("@") if "@" in step else step.partition(":")
        if kind == "drop":
            counter.dropped(float(arg))
        elif kind == "fail":
            counter.failed()
        elif kind == "open":
            counter.opened(float(arg))
            continue
        else:
            counter.observe(arg)
            continue
        asked.append(counter.next_attempt())
    return asked


QUICK = QUICK_DEATH_SECONDS
COUNTER_TABLE = [
    # (script, the attempt numbers asked for after each drop / failed reopen)
    (["event:session.created", "drop@0"], [1]),  # the first connection is never a failed attempt
    (  # reopens accepted then closed at once, with only handshake events: each one is a failure
        [
            "drop@0",
            "open@0",
            "event:session.created",
            "drop@0.1",
            "open@1",
            "drop@1.05",
            "open@2",
            "event:session.updated",
            "event:error",
            "drop@2.5",
        ],
        [1, 2, 3, None],
    ),
    (["drop@0", "fail", "open@1", "drop@1.1"], [1, 2, 3]),  # refused reopens and quick deaths add up
    (["drop@0", "open@0", "event:response.done", "drop@0.5"], [1, 1]),  # it worked: the count restarts
    (["drop@0", "open@0", f"drop@{QUICK}"], [1, 1]),  # it lived QUICK_DEATH_SECONDS: restarts
    (["drop@0", "open@0", f"drop@{QUICK - 0.001}"], [1, 2]),  # just short of it: a failure
    (["drop@0", "fail", "fail", "open@5", "event:response.created", "drop@6"], [1, 2, 3, 1]),
    (["drop@0", "fail", "fail", "fail"], [1, 2, 3, None]),  # the refused-reopen case is unchanged
]


@pytest.mark.parametrize(("script", "asked"), COUNTER_TABLE)
def test_quick_deaths_count_as_failed_attempts_and_a_working_session_resets(
    script: List[str], asked: List[Optional[int]]
) -> None:
    assert run_counter(script, ReconnectPolicy(max_attempts=3)) == asked


def test_delays_grow_across_quick_deaths_up_to_the_cap() -> None:
    policy = ReconnectPolicy(max_attempts=6, initial_delay=0.5, max_delay=3.0, jitter=0.0)
    counter, now = ReconnectCounter(policy), 0.0
    delays: List[float] = []
    counter.dropped(now)
    attempt = counter.next_attempt()
    while attempt is not None:
        delays.append(policy.delay(attempt))
        counter.opened(now)
        counter.observe("session.created")
        now += 0.01
        counter.dropped(now)
        attempt = counter.next_attempt()
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


# --- handlers ---------------------------------------------------------------------------------------


def test_handler_registry_on_once_off_and_wildcard() -> None:
    registry = HandlerRegistry(allow_async=False)
    calls: List[str] = []

    def a(event: Any) -> None:
        calls.append("a")

    def b(event: Any) -> None:
        calls.append("b")

    registry.add("x", a, once=False)
    registry.add("x", b, once=True)
    registry.add("*", b, once=False)
    assert registry.take("x") == [a, b, b]
    assert registry.take("x") == [a, b]  # the once handler is gone
    assert registry.take("y") == [b]
    assert registry.remove("x", a) == 1 and registry.remove("*") == 1 and len(registry) == 0
    with pytest.raises(InvalidParamsError):
        registry.add("", a, once=False)
    with pytest.raises(InvalidParamsError):
        registry.add("x", 42, once=False)  # type: ignore[arg-type]

    async def coroutine(event: Any) -> None:  # pragma: no cover - never called
        pass

    with pytest.raises(InvalidParamsError):
        registry.add("x", coroutine, once=False)
    HandlerRegistry(allow_async=True).add("x", coroutine, once=False)


def test_handler_error_names_the_handler_and_keeps_the_cause() -> None:
    def broken(event: Any) -> None:
        raise KeyError("k")

    cause = KeyError("k")
    error = handler_error("response.done", broken, cause)
    assert isinstance(error, RealtimeError) and error.code == "handler_error"
    assert "broken" in str(error) and "response.done" in str(error) and error.__cause__ is cause


# --- transport options ------------------------------------------------------------------------------


def test_wss_sessions_verify_tls_with_certifi() -> None:
    pytest.importorskip("websockets")
    import certifi
    from websockets.sync.client import ClientConnection, connect

    from meshapi import MeshAPIConfig
    from meshapi.realtime import _ws
    from meshapi.realtime.handshake import build_handshake

    config = MeshAPIConfig(base_url="https://api.meshapi.ai", token="rsk_tls_test")
    secure = build_handshake(config.base_url, "m", config.token)
    options = _ws.connect_options(connect, ClientConnection, secure, 5.0, config)
    context = options["ssl"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname and context.cert_store_stats()["x509_ca"] > 0
    reference = ssl.create_default_context(cafile=certifi.where())
    assert context.cert_store_stats() == reference.cert_store_stats()
    plain = build_handshake("http://127.0.0.1:1", "m", config.token)
    assert "ssl" not in _ws.connect_options(connect, ClientConnection, plain, 5.0, config)


# --- twins ------------------------------------------------------------------------------------------


def _public(cls: type) -> dict:
    return {
        name: value
        for name, value in vars(cls).items()
        if not name.startswith("_") and inspect.isfunction(value)
    }


def test_the_session_twins_match() -> None:
    sync, asyn = _public(RealtimeSession), _public(AsyncRealtimeSession)
    assert sorted(sync) == sorted(asyn)
    for name, function in sync.items():
        twin = asyn[name]
        assert inspect.signature(function).parameters.keys() == inspect.signature(twin).parameters.keys(), (
            name
        )
        assert inspect.getdoc(function) == inspect.getdoc(twin), name
    for name in ("recv", "run", "send", "close", "receive"):
        assert inspect.iscoroutinefunction(asyn[name]) and not inspect.iscoroutinefunction(sync[name])
    for name in ("iter_events", "events", "iter_audio"):
        assert inspect.isasyncgenfunction(asyn[name]) and inspect.isgeneratorfunction(sync[name])


def test_the_sender_twins_match() -> None:
    from meshapi.realtime import senders

    pairs = [
        (senders.SessionSender, senders.AsyncSessionSender),
        (senders.ConversationItemSender, senders.AsyncConversationItemSender),
        (senders.ResponseSender, senders.AsyncResponseSender),
        (senders.InputAudioBufferSender, senders.AsyncInputAudioBufferSender),
    ]
    for sync_cls, async_cls in pairs:
        sync, asyn = _public(sync_cls), _public(async_cls)
        assert sorted(sync) == sorted(asyn) and sync
        for name, function in sync.items():
            assert str(inspect.signature(function)) == str(inspect.signature(asyn[name])), name
            assert inspect.getdoc(function) == inspect.getdoc(asyn[name])
            assert inspect.iscoroutinefunction(asyn[name])
