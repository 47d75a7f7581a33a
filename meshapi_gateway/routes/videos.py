"""``/v1/video/generations`` (SDK ``client.videos``; docs/protocol.md §4.14): asynchronous video tasks.

A task advances with the clock whenever it is looked at (like batches): ``queued`` for one
``video_step_seconds``, ``running`` for two, then ``succeeded`` with ``content.video_url`` pointing
at a real, downloadable AVI file served by this gateway (``/_media/videos/<id>.avi``, signed like the
RAG upload URLs; no bearer token needed, like a CDN link). A prompt that moderation would flag ends
``failed`` with ``content_policy_violation``; an ``execution_expires_after`` shorter than the work
ends ``expired``. A ``callback_url`` receives the finished task as a JSON POST (fire and forget).

API version ``2026-09`` (docs/protocol.md §V1.4) adds ``request_id`` to task bodies (the request id of
the call that created the task) and lets ``GET /v1/video/generations/{id}`` take that request id as
``{id}``; under ``2026-08`` the field is stripped and a request id is an unknown task (404).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set
from urllib.parse import urlencode

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes import movie, safety
from ..http.billing import bill_job, estimate
from ..http.context import (
    api_version,
    chat_model,
    gateway,
    json_body,
    json_response,
    owner,
    request_id,
    require_capability,
)
from ..http.validation import Bool, Int, ListOf, Literal, MapOf, Obj, Str, check_query, opt, req
from ..http.versioning import at_least
from ..store.state import GatewayState
from ..store.storage import Record, public

KIND = "video_task"
FPS = 24
#: The API version whose video tasks carry ``request_id`` and may be fetched by it.
REQUEST_ID_VERSION = "2026-09"
LINK_TTL_SECONDS = 86400
_RESOLUTIONS = {"480p": (854, 480), "720p": (1280, 720), "1080p": (1920, 1080)}
_callbacks: Set[asyncio.Task[None]] = set()

ITEM = Obj(
    {
        "type": req(Literal("text", "image_url", "video_url", "audio_url", "draft_task")),
        "text": opt(Str()),
        "image_url": opt(MapOf()),
        "video_url": opt(MapOf()),
        "audio_url": opt(MapOf()),
        "draft_task": opt(MapOf()),
        "role": opt(Str()),
    }
)
GENERATE = Obj(
    {
        "model": req(Str(min_length=1)),
        "content": req(ListOf(ITEM, min_length=1)),
        "callback_url": opt(Str()),
        "return_last_frame": opt(Bool()),
        "service_tier": opt(Literal("default", "flex")),
        "execution_expires_after": opt(Int(ge=1, le=259200)),
        "generate_audio": opt(Bool()),
        "draft": opt(Bool()),
        "camera_fixed": opt(Bool()),
        "watermark": opt(Bool()),
        "resolution": opt(Literal("480p", "720p", "1080p")),
        "ratio": opt(Literal("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")),
        "duration": opt(Int(ge=2, le=12)),
        "frames": opt(Int(ge=1)),
        "seed": opt(Int(ge=-1, le=4294967295)),
        "priority": opt(Int()),
        "safety_identifier": opt(Str()),
    }
)


def _task_id(at: float) -> str:
    day = datetime.fromtimestamp(at, timezone.utc).strftime("%Y%m%d")
    return f"t-{day}-{hashlib.sha256(str(time.perf_counter_ns()).encode()).hexdigest()[:12]}"


def _signature(state: GatewayState, task_id: str, expires: int) -> str:
    return hmac.new(state.signing_key, f"video\n{task_id}\n{expires}".encode(), hashlib.sha256).hexdigest()


def _link(state: GatewayState, base_url: str, task_id: str, name: str) -> str:
    expires = int(time.time()) + LINK_TTL_SECONDS
    query = urlencode({"expires": expires, "signature": _signature(state, task_id, expires)})
    return f"{base_url}/_media/videos/{task_id}{name}?{query}"


def _prompt(content: List[Dict[str, Any]]) -> str:
    return " ".join(str(item.get("text") or "") for item in content if item.get("type") == "text").strip()


def advance(state: GatewayState, who: str, record: Record) -> Record:
    """Bring a task up to date with the clock (and store it when its status changed)."""
    if record["status"] in ("succeeded", "failed", "expired", "cancelled"):
        return record
    step = state.video_step_seconds
    started = record["_started"]
    elapsed = time.time() - started
    status = record["status"]
    expires = record.get("execution_expires_after")
    if expires is not None and expires < 3 * step and elapsed >= expires:
        record.update(status="expired", updated_at=int(started + expires))
        record["error"] = {"code": "task_expired", "message": "The task expired before it finished."}
    elif elapsed >= 3 * step:
        record["updated_at"] = int(started + 3 * step)
        flagged = safety.flagged_categories(record["_prompt"])
        if flagged:
            record["status"] = "failed"
            names = ", ".join(sorted(flagged))
            record["error"] = {
                "code": "content_policy_violation",
                "message": f"The prompt was rejected by content moderation ({names}).",
            }
        else:
            record["status"] = "succeeded"
            base = record["_base_url"]
            content = {"video_url": _link(state, base, record["id"], ".avi")}
            if record.get("_last_frame"):
                content["last_frame_url"] = _link(state, base, record["id"], "/last_frame.png")
            record["content"] = content
            tokens = _video_tokens(record["resolution"], record["duration"])
            record["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
    elif elapsed >= step and status == "queued":
        record.update(status="running", updated_at=int(started + step))
    if record["status"] != status:
        state.store.put(KIND, who, record["id"], record)
        if record["status"] in _ENDED:  # billed once, when the task ends
            error = (record.get("error") or {}).get("code") if record["status"] != "succeeded" else None
            tokens = (record.get("usage") or {}).get("completion_tokens", 0)
            bill_job(state, who, request_id=record["_request_id"], model=record["model"],
                     completion_tokens=tokens, error_code=error)  # fmt: skip
    return record


_ENDED = ("succeeded", "failed", "expired", "cancelled")


def _video_tokens(resolution: str, duration: int) -> int:
    width, height = _RESOLUTIONS[resolution]
    return width * height * FPS * duration // 1024


def _running(state: GatewayState, who: str, task_id: str) -> bool:
    record = state.store.get_owned(KIND, who, task_id)
    return record is not None and advance(state, who, record)["status"] not in _ENDED


def _view(record: Record, version: str) -> Dict[str, Any]:
    """The task as served under API ``version``."""
    view = public(record)
    view["request_id"] = record.get("_request_id")
    if not at_least(version, REQUEST_ID_VERSION):
        del view["request_id"]  # a 2026-09 addition
    return view


def _by_request_id(state: GatewayState, who: str, rid: str) -> Optional[Record]:
    return next((r for r in state.store.list(KIND, who) if r.get("_request_id") == rid), None)


async def _send_callback(state: GatewayState, who: str, task_id: str, url: str, version: str) -> None:
    await asyncio.sleep(3 * state.video_step_seconds + 0.01)
    record = state.store.get_owned(KIND, who, task_id)
    if record is None:
        return
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            await client.post(url, json=_view(advance(state, who, record), version))
    except httpx.HTTPError:
        pass  # fire and forget, like the production gateway


async def create_video(request: Request) -> Response:
    body = await json_body(request, GENERATE)
    state, who = gateway(request), owner(request)
    entry = chat_model(request, body["model"])
    require_capability(entry, entry.supports_video, "video generation")
    kinds = {item["type"] for item in body["content"]}
    if not kinds & {"text", "image_url", "draft_task"}:
        raise ApiError(400, "invalid_request", "content needs a text prompt or an image.", param="content")
    at = time.time()
    duration = body.get("duration") or (max(1, body["frames"] // FPS) if body.get("frames") else 5)
    seed = body.get("seed")
    prompt = _prompt(body["content"])
    record: Record = {
        "id": _task_id(at),
        "status": "queued",
        "model": entry.id,
        "error": None,
        "created_at": int(at),
        "updated_at": int(at),
        "content": None,
        "seed": seed
        if seed is not None and seed >= 0
        else int(hashlib.sha256(prompt.encode()).hexdigest()[:6], 16),
        "resolution": body.get("resolution") or "720p",
        "ratio": body.get("ratio") if body.get("ratio") not in (None, "adaptive") else "16:9",
        "duration": duration,
        "frames": duration * FPS,
        "framespersecond": FPS,
        "generate_audio": bool(body.get("generate_audio", False)),
        "draft": bool(body.get("draft", False)),
        "service_tier": body.get("service_tier") or "default",
        "execution_expires_after": body.get("execution_expires_after") or 172800,
        "priority": body.get("priority"),
        "safety_identifier": body.get("safety_identifier"),
        "draft_task_id": next(
            (
                i["draft_task"].get("id")
                for i in body["content"]
                if i["type"] == "draft_task" and i.get("draft_task")
            ),
            None,
        ),
        "usage": None,
        "_started": at,
        "_prompt": prompt,
        "_last_frame": bool(body.get("return_last_frame")),
        "_base_url": str(request.base_url).rstrip("/"),
        "_request_id": request_id(request),
    }
    state.store.put(KIND, who, record["id"], record)
    held = estimate(state, entry.id, 0, _video_tokens(record["resolution"], duration))
    state.balance.hold(who, "videos", held, running=lambda: _running(state, who, record["id"]))
    if body.get("callback_url"):
        task = asyncio.ensure_future(
            _send_callback(state, who, record["id"], body["callback_url"], api_version(request))
        )
        _callbacks.add(task)
        task.add_done_callback(_callbacks.discard)
    return json_response({"id": record["id"]})


async def get_video(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    task_id = request.path_params["task_id"]
    version = api_version(request)
    record = state.store.get_owned(KIND, who, task_id)
    if record is None and at_least(version, REQUEST_ID_VERSION):
        record = _by_request_id(state, who, task_id)  # capability video.poll_by_request_id
    if record is None:
        raise ApiError(404, "not_found", f"Video task '{task_id}' not found.")
    return json_response(_view(advance(state, who, record), version))


def _timestamp(value: Optional[str], name: str) -> Optional[float]:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            422, "validation_error", f"{name} must be an ISO-8601 date-time.", param=name
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


async def list_videos(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    params = request.query_params
    query = check_query(
        dict(params),
        {
            "limit": (Int(ge=1, le=100), 20),
            "offset": (Int(ge=0), 0),
            "created_after": (Str(), None),
            "created_before": (Str(), None),
        },
    )
    after = _timestamp(query["created_after"], "created_after")
    before = _timestamp(query["created_before"], "created_before")
    statuses = [s for raw in params.getlist("status") for s in raw.split(",") if s]
    models = [m for raw in params.getlist("model") for m in raw.split(",") if m]
    tasks = [advance(state, who, r) for r in state.store.list(KIND, who)]
    if statuses:
        tasks = [t for t in tasks if t["status"] in statuses]
    if models:
        tasks = [t for t in tasks if t["model"] in models]
    if after is not None:
        tasks = [t for t in tasks if t["_started"] >= after]
    if before is not None:
        tasks = [t for t in tasks if t["_started"] <= before]
    tasks.sort(key=lambda t: t["_started"], reverse=True)
    start, limit = query["offset"], query["limit"]
    page = tasks[start : start + limit]
    return json_response(
        {
            "object": "list",
            "data": [_view(t, api_version(request)) for t in page],
            "has_more": start + len(page) < len(tasks),
            "total": len(tasks),
            "limit": limit,
            "offset": start,
        }
    )


def _media_error(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain; charset=utf-8")


async def _download(request: Request, name: str) -> Response:
    state = gateway(request)
    task_id = request.path_params["task_id"]
    expires, signature = request.query_params.get("expires", ""), request.query_params.get("signature", "")
    if not expires.isdigit() or not hmac.compare_digest(signature, _signature(state, task_id, int(expires))):
        return _media_error(403, "Signature does not match.")
    if int(expires) < time.time():
        return _media_error(403, "This link has expired.")
    found = state.store.get(KIND, task_id)
    if found is None or found[1]["status"] != "succeeded":
        return _media_error(404, "No such video.")
    record = found[1]
    args = (record["_prompt"] or record["id"], record["ratio"], record["duration"], FPS)
    if name == ".avi":
        return Response(movie.avi(*args), media_type="video/x-msvideo")
    if name == "/last_frame.png" and record.get("_last_frame"):
        return Response(movie.last_frame_png(*args), media_type="image/png")
    return _media_error(404, "No such file.")


async def download_video(request: Request) -> Response:
    return await _download(request, ".avi")


async def download_last_frame(request: Request) -> Response:
    return await _download(request, "/last_frame.png")


ROUTES = [
    Route("/v1/video/generations", create_video, methods=["POST"]),
    Route("/v1/video/generations", list_videos, methods=["GET"]),
    Route("/v1/video/generations/{task_id}", get_video, methods=["GET"]),
    Route("/_media/videos/{task_id}.avi", download_video, methods=["GET"]),
    Route("/_media/videos/{task_id}/last_frame.png", download_last_frame, methods=["GET"]),
]
