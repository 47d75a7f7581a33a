"""One realtime session of the local gateway: a deterministic stand-in for the OpenAI GA protocol.

* ``session.created`` is always the first event. ``session.update`` must have the GA shape
  (``session.type == "realtime"``); anything else is an ``error`` event (the session stays open), a
  good one is answered with ``session.updated``.
* Input audio: base64 ``input_audio_buffer.append`` events and, for 0.1.4 clients, binary frames
  (treated as an append). ``commit`` turns the buffer into a user item whose transcript is the text
  when the audio is speech the gateway synthesized (an answer sent back, silence around it allowed),
  else says how much audio arrived; ``clear`` empties it. As in the GA protocol, server voice activity
  detection is on by default (``audio.input.turn_detection`` is ``server_vad`` with the GA defaults;
  ``None`` turns it off): the buffer is watched by :class:`~meshapi_gateway.realtime.vad.EnergyVad`,
  ``speech_started`` / ``speech_stopped`` come from the signal's energy, then an automatic commit and
  (unless ``create_response`` is false) a response. So "append audio, read until ``response.done``"
  completes once the audio ends with ``silence_duration_ms`` (500) of quiet.
* ``response.create`` answers the last user item with text from the deterministic engine, as
  ``response.output_text.delta`` events (text modality) or as transcript deltas each followed by the
  audio of exactly that text at a speaking pace, about 14 characters a second (audio modality; sent
  as fast as the connection takes it, not in real time), then ``response.done`` with usage and
  ``rate_limits.updated``. The answer runs as its own task, so ``response.cancel`` stops it between two
  deltas (``response.done`` with status ``cancelled``); a second ``response.create`` meanwhile is an
  ``error`` (``conversation_already_has_active_response``). ``state.latency`` paces the deltas.
  Each response is one usage event with its tokens, billed as its ``response.done`` is sent
  (:meth:`RealtimeSession.bill`); the session's 10 USD hold is separate (``endpoint.py``).
* Bad input gets an ``error`` event with ``error.type == "invalid_request_error"``; the session stays
  open.

The realtime fault plan (the fault taken when the connection opened) is applied by
:class:`~meshapi_gateway.faults.realtime.RealtimeFault` after every server event.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import random
from typing import Any, Dict, List, Optional

from starlette.websockets import WebSocket

from ..fakes import engine
from ..faults.plan import Fault
from ..faults.realtime import TERMINATING_CODES, RealtimeFault, SessionClosed
from ..http.billing import bill_job
from ..http.context import pace
from ..ids import hex_id
from ..store.state import GatewayState
from .parts import default_session, heard_transcript, item_text, merge_session, pcm_for, usage_for
from .vad import EnergyVad, vad_settings

__all__ = ["TERMINATING_CODES", "RealtimeSession", "SessionClosed", "event_id", "pcm_for"]

_CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "response.create",
    "response.cancel",
)
_BETA_SESSION_KEYS = ("modalities", "voice", "input_audio_format", "output_audio_format", "turn_detection")


class _BadEvent(Exception):
    def __init__(self, code: str, message: str, param: Optional[str] = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def event_id() -> str:
    return hex_id("evt_", 20)


class RealtimeSession:
    def __init__(
        self,
        websocket: WebSocket,
        state: GatewayState,
        model: str,
        request_id: str,
        fault: Optional[Fault],
        owner: str = "",
    ) -> None:
        self.ws = websocket
        self.state = state
        self.owner = owner  # whose usage events and balance each response's tokens go to
        self.model = model
        self.request_id = request_id
        self.session = default_session(model)
        self.audio = bytearray()
        self.audio_ms = 0
        self.items: List[Dict[str, Any]] = []
        self.sent = 0
        self.fault = RealtimeFault(fault, websocket)
        self.vad: Optional[EnergyVad] = None
        self.configure_vad()
        self.lock = asyncio.Lock()
        self.resume = asyncio.Event()
        self.resume.set()
        self.task: Optional[asyncio.Task[None]] = None
        self.cancel_requested = False
        self.requests_left = 1000

    def bill(self, response_id: str, usage: Dict[str, Any]) -> None:
        """One usage event per response (docs/protocol.md §7.4): its tokens at the model's price, under
        ``<session request id>::<response id>``, recorded when ``response.done`` is sent."""
        if self.owner:
            bill_job(
                self.state,
                self.owner,
                request_id=f"{self.request_id}::{response_id}",
                model=self.model,
                prompt_tokens=int(usage["input_tokens"]),
                completion_tokens=int(usage["output_tokens"]),
            )

    # --- output ---
    async def emit(self, event: Dict[str, Any]) -> None:
        await self.resume.wait()
        payload = {"type": event.pop("type"), "event_id": event_id(), **event}
        async with self.lock:
            await self.ws.send_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
            self.sent += 1
        await self.fault.after_event(self.sent, self.resume, self.server_error)

    async def error(
        self,
        code: str,
        message: str,
        param: Optional[str] = None,
        client_event: Optional[str] = None,
        *,
        kind: str = "invalid_request_error",
    ) -> None:
        error: Dict[str, Any] = {"type": kind, "code": code, "message": message, "param": param}
        if client_event is not None:
            error["event_id"] = client_event
        await self.emit({"type": "error", "error": error, "request_id": self.request_id})

    async def server_error(self, code: str, message: str) -> None:
        await self.error(code, message, kind="server_error")

    # --- input ---
    async def run(self) -> None:
        await self.fault.at_open()
        await self.emit({"type": "session.created", "session": dict(self.session)})
        while True:
            await self.resume.wait()
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise SessionClosed()
            if message.get("bytes") is not None:
                await self.add_audio(message["bytes"])  # 0.1.4 clients send raw audio frames
                continue
            await self.handle_text(message.get("text") or "")

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except BaseException:  # the answer was cut short with the connection
                pass

    async def handle_text(self, text: str) -> None:
        try:
            event = json.loads(text)
        except (ValueError, RecursionError):
            await self.error("invalid_json", "The event is not valid JSON.")
            return
        if not isinstance(event, dict):
            await self.error("invalid_event", f"An event must be a JSON object, got {type(event).__name__}.")
            return
        client_event = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        kind = event.get("type")
        try:
            if not isinstance(kind, str) or not kind:
                raise _BadEvent("missing_type", "The event has no 'type'.", "type")
            if kind not in _CLIENT_EVENTS:
                raise _BadEvent("unknown_event_type", f"Unknown event type '{kind}'.", "type")
            await getattr(self, "on_" + kind.replace(".", "_"))(event)
        except _BadEvent as bad:
            await self.error(bad.code, bad.message, bad.param, client_event)

    async def on_session_update(self, event: Dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            raise _BadEvent("invalid_value", "'session' must be an object.", "session")
        if update.get("type") != "realtime":
            beta = [k for k in _BETA_SESSION_KEYS if k in update]
            hint = f" (beta fields {', '.join(beta)} are not supported)" if beta else ""
            raise _BadEvent(
                "invalid_value",
                "session.type must be 'realtime' (GA session shape)" + hint + ".",
                "session.type",
            )
        modalities = update.get("output_modalities")
        if modalities is not None and (
            not isinstance(modalities, list) or not modalities or not set(modalities) <= {"text", "audio"}
        ):
            raise _BadEvent(
                "invalid_value",
                "output_modalities must be ['text'] or ['audio'].",
                "session.output_modalities",
            )
        merge_session(self.session, {k: v for k, v in update.items() if k not in ("id", "object", "model")})
        self.configure_vad()
        await self.emit({"type": "session.updated", "session": dict(self.session)})

    def configure_vad(self) -> None:
        settings = vad_settings(self.session)
        self.vad = EnergyVad(settings) if settings is not None else None

    async def add_audio(self, data: bytes) -> None:
        self.audio += data
        self.audio_ms += len(data) * 1000 // 48000
        if self.vad is None:
            return
        for change, at_ms in self.vad.feed(data):
            if change == "started":
                await self.emit(
                    {"type": "input_audio_buffer.speech_started", "audio_start_ms": at_ms, "item_id": None}
                )
            else:
                await self.emit(
                    {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": at_ms, "item_id": None}
                )
                await self.commit()
                if self.vad.create_response and (self.task is None or self.task.done()):
                    self.start_response({})

    async def on_input_audio_buffer_append(self, event: Dict[str, Any]) -> None:
        data = event.get("audio")
        if not isinstance(data, str):
            raise _BadEvent("invalid_value", "'audio' must be a base64 string.", "audio")
        try:
            decoded = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise _BadEvent("invalid_value", "'audio' is not valid base64.", "audio") from None
        await self.add_audio(decoded)

    async def commit(self) -> None:
        transcript = heard_transcript(bytes(self.audio))
        self.audio.clear()
        item = {
            "id": hex_id("item_", 20),
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": transcript}],
        }
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        await self.emit(
            {"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item["id"]}
        )
        await self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": item})
        await self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": item})

    async def on_input_audio_buffer_commit(self, event: Dict[str, Any]) -> None:
        if not self.audio:
            raise _BadEvent("input_audio_buffer_commit_empty", "The input audio buffer is empty.")
        await self.commit()

    async def on_input_audio_buffer_clear(self, event: Dict[str, Any]) -> None:
        self.audio.clear()
        if self.vad is not None:
            self.vad.reset()
        await self.emit({"type": "input_audio_buffer.cleared"})

    async def on_conversation_item_create(self, event: Dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict):
            raise _BadEvent("invalid_value", "'item' must be an object.", "item")
        kind = item.get("type", "message")
        if kind == "message":
            if item.get("role") not in ("user", "assistant", "system"):
                raise _BadEvent(
                    "invalid_value", "item.role must be 'user', 'assistant' or 'system'.", "item.role"
                )
            if not isinstance(item.get("content"), list):
                raise _BadEvent(
                    "invalid_value", "item.content must be a list of content parts.", "item.content"
                )
        stored = dict(item, id=item.get("id") or hex_id("item_", 20), type=kind, status="completed")
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(stored)
        await self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": stored})
        await self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": stored})

    async def on_response_cancel(self, event: Dict[str, Any]) -> None:
        if self.task is None or self.task.done():
            raise _BadEvent("response_cancel_not_active", "There is no response in progress to cancel.")
        self.cancel_requested = True

    async def on_response_create(self, event: Dict[str, Any]) -> None:
        overrides = event.get("response")
        if overrides is not None and not isinstance(overrides, dict):
            raise _BadEvent("invalid_value", "'response' must be an object.", "response")
        if self.task is not None and not self.task.done():
            raise _BadEvent(
                "conversation_already_has_active_response",
                "A response is already in progress for this session.",
            )
        self.start_response(overrides or {})

    def start_response(self, overrides: Dict[str, Any]) -> None:
        self.cancel_requested = False
        self.task = asyncio.get_running_loop().create_task(self._answer(overrides))

    async def _answer(self, overrides: Dict[str, Any]) -> None:
        try:
            await self.respond(overrides)
        except Exception:  # a fault ended the session, or the client went away mid-answer
            pass

    async def respond(self, overrides: Dict[str, Any]) -> None:
        modalities = overrides.get("output_modalities") or self.session.get("output_modalities") or ["audio"]
        spoken = "audio" in modalities
        prompt = next((item_text(i) for i in reversed(self.items) if i.get("role") == "user"), "")
        seed = hashlib.sha256(f"{self.model}\x00{prompt}".encode()).hexdigest()
        text = engine.compose(prompt or "hello", random.Random(seed), sentences=1)
        response_id, item_id = hex_id("resp_", 20), hex_id("item_", 20)
        base = {"response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0}
        created = {"id": response_id, "object": "realtime.response", "status": "in_progress", "output": []}
        await self.emit({"type": "response.created", "response": created})
        added = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await self.emit(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": added,
            }
        )
        said: List[str] = []
        for chunk in engine.stream_chunks(text):
            await pace(self.state)
            if self.cancel_requested:
                break
            said.append(chunk)
            if spoken:
                await self.emit({"type": "response.output_audio_transcript.delta", **base, "delta": chunk})
                audio = base64.b64encode(pcm_for(chunk)).decode("ascii")
                await self.emit({"type": "response.output_audio.delta", **base, "delta": audio})
            else:
                await self.emit({"type": "response.output_text.delta", **base, "delta": chunk})
        cancelled = self.cancel_requested
        text = "".join(said)
        if spoken:
            await self.emit({"type": "response.output_audio.done", **base})
            await self.emit({"type": "response.output_audio_transcript.done", **base, "transcript": text})
            part = {"type": "output_audio", "transcript": text}
        else:
            await self.emit({"type": "response.output_text.done", **base, "text": text})
            part = {"type": "output_text", "text": text}
        status = "cancelled" if cancelled else "completed"
        item = {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": [part]}
        self.items.append(item)
        await self.emit(
            {"type": "response.output_item.done", "response_id": response_id, "output_index": 0, "item": item}
        )
        usage = usage_for(self.items, text, spoken)
        response = {
            "id": response_id,
            "object": "realtime.response",
            "status": status,
            "status_details": {"type": "cancelled", "reason": "client_cancelled"} if cancelled else None,
            "output_modalities": list(modalities),
            "output": [item],
            "usage": usage,
        }
        self.bill(response_id, usage)
        await self.emit({"type": "response.done", "response": response})
        self.requests_left -= 1
        limits = [
            {
                "name": "requests",
                "limit": 1000,
                "remaining": max(0, self.requests_left),
                "reset_seconds": 60.0,
            },
            {
                "name": "tokens",
                "limit": 100000,
                "remaining": max(0, 100000 - int(usage["total_tokens"])),
                "reset_seconds": 60.0,
            },
        ]
        await self.emit({"type": "rate_limits.updated", "rate_limits": limits})
