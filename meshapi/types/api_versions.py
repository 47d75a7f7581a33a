"""API versions: one entry of ``GET /v1/api-versions`` (docs/protocol.md §V1.2).

The wire names only part of an entry for sure (label, baseline, latest, status, sunset date, notes link,
capabilities), so every field is optional and unknown fields are kept (``model_extra``): a deployment
that adds one does not lose it here.
"""

import datetime
from typing import List, Optional

from pydantic import ConfigDict

from ._base import MeshResult

__all__ = ["APIVersionInfo"]


class APIVersionInfo(MeshResult):
    """One API version the gateway serves. ``baseline``: what a request without ``X-Mesh-Version`` gets;
    ``latest``: the newest; ``status``: ``"ga"``, ``"deprecated"`` or ``"sunset"``; ``sunset_on``: the day
    it stops being served (``YYYY-MM-DD``, ``None`` while none is set); ``capabilities``: what the version
    adds, cumulatively (e.g. ``video.poll_by_request_id``)."""

    model_config = ConfigDict(extra="allow")

    label: Optional[str] = None
    baseline: Optional[bool] = None
    latest: Optional[bool] = None
    status: Optional[str] = None
    released_on: Optional[str] = None
    sunset_on: Optional[str] = None
    notes_url: Optional[str] = None
    capabilities: List[str] = []

    @property
    def sunset_date(self) -> Optional[datetime.date]:
        """``sunset_on`` as a date, or ``None`` (not set, or not a ``YYYY-MM-DD`` day)."""
        try:
            return datetime.date.fromisoformat(self.sunset_on[:10]) if self.sunset_on else None
        except ValueError:
            return None
