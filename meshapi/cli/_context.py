"""What every command gets: its parsed arguments, the UI, and a client built from the settings.

Why it exists: the settings are resolved and checked in one place (options, then the environment), the
client is made once per run and only when a command needs it, and ``main`` closes it on every path.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

from ._failures import SETTINGS_HINT, UsageError
from ._ui import UI

if TYPE_CHECKING:
    from .._client import MeshAPI

__all__ = ["Context", "resolve_connection"]


def resolve_connection(base_url: Optional[str], token: Optional[str]) -> Tuple[str, str]:
    """``--base-url`` / ``--token``, else ``MESHAPI_BASE_URL`` / ``MESHAPI_TOKEN``; a ``UsageError``
    naming both when either is missing (the token itself is never echoed)."""
    base_url = base_url or os.environ.get("MESHAPI_BASE_URL") or None
    token = token or os.environ.get("MESHAPI_TOKEN") or None
    missing = [name for name, value in (("base URL", base_url), ("token", token)) if not value]
    if missing:
        raise UsageError(f"no gateway {' or '.join(missing)} configured: {SETTINGS_HINT}")
    assert base_url is not None and token is not None
    return base_url, token


class Context:
    """One command run. ``action`` names what is being done, for the error line if it fails."""

    def __init__(self, args: argparse.Namespace, ui: UI) -> None:
        self.args = args
        self.ui = ui
        self.action = str(getattr(args, "action", "command"))
        self._client: Optional[MeshAPI] = None

    def option(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)

    def client(self, **overrides: Any) -> MeshAPI:
        """The run's ``MeshAPI`` client (created once; closed by ``main`` when the run ends)."""
        if self._client is None:
            from .._client import MeshAPI

            base_url, token = resolve_connection(self.option("base_url"), self.option("token"))
            kwargs: Dict[str, Any] = {"base_url": base_url, "token": token}
            timeout = self.option("timeout")
            if timeout is not None:
                kwargs["timeout"] = timeout
            retries = self.option("max_retries")
            if retries is not None:
                kwargs["max_retries"] = retries
            if "api_version" in vars(self.args):  # given: a label, or None for `--api-version none`
                kwargs["api_version"] = self.args.api_version
            if self.option("budget") is not None:  # --budget USD: one budget for the run's calls
                from .._budget import Budget

                kwargs["budget"] = Budget(max_usd=self.args.budget)
            kwargs.update(overrides)
            self._client = MeshAPI(**kwargs)
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
