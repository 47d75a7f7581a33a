"""``python -m meshapi_gateway``: the same as ``meshapi gateway`` (run the local gateway in the foreground)."""

from __future__ import annotations

import sys

from .http.cli import main

if __name__ == "__main__":
    sys.exit(main())
