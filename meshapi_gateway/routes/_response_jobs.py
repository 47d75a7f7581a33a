"""Background responses (``"background": true``, docs/protocol.md §4.3): their statuses by the clock, and cancel.

Why a module of its own: ``responses.py`` answers requests; this is the small state machine of a job the
gateway keeps after answering. A background response is ``queued`` for one step of
``response_step_seconds``, ``in_progress`` for the next, then the answer computed at create time
(``completed``, or ``incomplete`` when it hit ``max_output_tokens``). Until then it has no output and no
usage. ``POST /v1/responses/{id}/cancel`` (OpenAI's path; the MeshAPI sources name none) moves a queued or
in-progress job to ``cancelled`` at once; cancelling a finished job returns it unchanged, and a response
that was not created in the background is a 400.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from starlette.requests import Request
from starlette.responses import Response

from ..errors import ApiError
from ..http.context import gateway, json_response, owner
from ..store.state import GatewayState

__all__ = ["cancel_response", "current", "start_job"]

TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled"})


def _jobs(state: GatewayState, who: str) -> Dict[str, Dict[str, Any]]:
    by_owner: Dict[str, Dict[str, Dict[str, Any]]] = state.cache.setdefault("response_jobs", {})
    return by_owner.setdefault(who, {})


def start_job(state: GatewayState, who: str, final: Dict[str, Any]) -> Dict[str, Any]:
    """Keep ``final`` as the answer of a new background job; return the job as it is now (``queued``)."""
    _jobs(state, who)[final["id"]] = {"final": final, "started": time.time(), "cancelled_at": None}
    return _view(state, _jobs(state, who)[final["id"]])


def current(state: GatewayState, who: str, response: Dict[str, Any]) -> Dict[str, Any]:
    """``response`` as served now: a background job's present status, any other response unchanged."""
    job = _jobs(state, who).get(response["id"])
    return response if job is None else _view(state, job)


def _status(state: GatewayState, job: Dict[str, Any]) -> str:
    if job["cancelled_at"] is not None:
        return "cancelled"
    elapsed = time.time() - job["started"]
    step = state.response_step_seconds
    if elapsed >= 2 * step:
        return str(job["final"]["status"])
    return "in_progress" if elapsed >= step else "queued"


def _view(state: GatewayState, job: Dict[str, Any]) -> Dict[str, Any]:
    final = job["final"]
    status = _status(state, job)
    if status == final["status"]:
        return {**final, "background": True}
    return {
        **final,
        "background": True,
        "status": status,
        "output": [],
        "usage": None,
        "incomplete_details": None,
    }


async def cancel_response(request: Request) -> Response:
    state, who = gateway(request), owner(request)
    ident = request.path_params["response_id"]
    job: Optional[Dict[str, Any]] = _jobs(state, who).get(ident)
    if job is None:
        kept = state.cache.get("responses", {}).get(who, {})
        if ident not in kept:
            raise ApiError(404, "not_found", f"Response '{ident}' not found.")
        raise ApiError(
            400, "invalid_request_error", "Only a response created with background=true can be cancelled."
        )
    if _status(state, job) not in TERMINAL:
        job["cancelled_at"] = time.time()
    return json_response(_view(state, job))
