"""Prompt templates at chat time (docs/protocol.md §4.6): find one by id or name and apply it to a request body.

Chat, compare, responses and batches call :func:`apply_template`; the CRUD routes live in
``routes/templates.py``. Both share the storage kind :data:`KIND`.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional

from ..errors import ApiError, not_found
from ..store.state import GatewayState
from ..store.storage import Record

_SLOT = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
KIND = "template"


def is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def by_name(state: GatewayState, who: str, name: str) -> Optional[Record]:
    return next((t for t in state.store.list(KIND, who) if t["name"] == name), None)


def find_template(state: GatewayState, who: str, ref: str) -> Record:
    """Resolve a template by UUID (any owner, as at chat time) or by the caller's template name."""
    if is_uuid(ref):
        found = state.store.get(KIND, ref)
        if found is not None:
            return found[1]
    record = by_name(state, who, ref)
    if record is None:
        raise not_found("Template", ref)
    return record


def apply_template(state: GatewayState, who: str, body: Dict[str, Any]) -> Dict[str, Any]:
    """The body with the named template applied (messages prepended, slots filled, defaults merged).

    ``template``, ``variables`` and ``session_id`` are removed. A slot without a value is a
    ``422 unprocessable_entity``; an unknown template a ``404 not_found``.
    """
    out = {k: v for k, v in body.items() if k not in ("template", "variables", "session_id")}
    ref = body.get("template")
    if not ref:
        return out
    template = find_template(state, who, ref)
    values = {k: str(v) for k, v in (body.get("variables") or {}).items()}
    missing: List[str] = []

    def fill(text: str) -> str:
        def slot(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                if name not in missing:
                    missing.append(name)
                return match.group(0)
            return values[name]

        return _SLOT.sub(slot, text)

    prefix: List[Dict[str, Any]] = []
    if template.get("system"):
        prefix.append({"role": "system", "content": fill(template["system"])})
    for message in template.get("messages") or []:
        copy = dict(message)
        if isinstance(copy.get("content"), str):
            copy["content"] = fill(copy["content"])
        prefix.append(copy)
    if missing:
        raise ApiError(
            422,
            "unprocessable_entity",
            f"Missing value for template variable(s): {', '.join(missing)}.",
            details=[{"variable": name} for name in missing],
        )
    out["messages"] = prefix + list(body.get("messages") or [])
    if not out.get("model") and template.get("model"):
        out["model"] = template["model"]
    for key, value in (template.get("params") or {}).items():
        if out.get(key) is None:
            out[key] = value
    return out
