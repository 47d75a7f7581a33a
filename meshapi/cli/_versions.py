"""``meshapi api-versions``: the API versions the gateway serves, and which one this client pins.

Why it exists: a pinned label that the gateway retires, or a new one to try with the global
``--api-version LABEL`` (``none``: send no header and get the gateway's baseline), is checked here
first. The table goes to stdout (or JSON with ``--json``); which version this run pins goes to stderr.
"""

from __future__ import annotations

from typing import Optional

from .._api_version import MESH_API_VERSION
from ._args import Commands
from ._context import Context
from ._failures import EXIT_OK
from ._ui import dump

__all__ = ["register", "run_api_versions"]


def register(commands: Commands) -> None:
    commands.leaf(
        "api-versions",
        help="list the API versions the gateway serves",
        handler=run_api_versions,
        action="listing API versions",
    )


def _yes(value: Optional[bool]) -> str:
    return "yes" if value else ""


def run_api_versions(context: Context) -> int:
    ui = context.ui
    client = context.client()
    versions = client.api_versions.list()
    if ui.json_mode:
        ui.emit_json([dump(entry) for entry in versions])
        return EXIT_OK
    rows = [
        [v.label, _yes(v.baseline), _yes(v.latest), v.status, v.sunset_on, ", ".join(v.capabilities) or None]
        for v in versions
    ]
    ui.table(["label", "baseline", "latest", "status", "sunset", "capabilities"], rows)
    pinned = client.config.api_version
    if pinned is None:
        ui.note("this run sends no X-Mesh-Version: the gateway's baseline is served")
    else:
        default = " (this SDK's default)" if pinned == MESH_API_VERSION else ""
        ui.note(f"this run pins {pinned}{default}; change it with --api-version LABEL")
    return EXIT_OK
