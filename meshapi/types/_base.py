"""Base classes for every pydantic model of the SDK.

``MeshModel`` is the base of response models: unknown fields are ignored (or kept, where a family
sets ``extra="allow"``), and each parsed result remembers the request id and the raw
``httpx.Response`` it came from (``result._request_id``, ``result._response``) without those ever
appearing in ``model_dump()``.

``RequestModel`` is the base of parameter models: unknown fields raise, so a misspelled keyword is
reported before anything is sent instead of being silently dropped (a 0.1.4 weakness).

Every model has openai-python's ``to_dict()`` / ``to_json()`` (fields that were set, wire names).

``DictLikeModel`` is the base of response parts that 0.1.12 returned as plain dicts (batch results,
token details, Responses output items): attributes, and indexing / ``.get()`` / ``==`` as the dict
they were parsed from.

``SharedModel`` is the base of the few models that travel both ways (chat content parts, tool calls):
tolerant when parsed, strict when the user constructs one directly with keywords.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Literal, Mapping, Optional, Type, Union, get_args, get_origin

import pydantic.main
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from .._forksafe import BUILD_LOCK


class _OpenAIDumps(BaseModel):
    """``to_dict()`` / ``to_json()`` as openai-python's models have them, on every model of the SDK.

    ``defer_build``: like every model here it builds its (empty) schema on first use, not at import,
    where pydantic's first build would cost a cold start about 15 ms.
    """

    model_config = ConfigDict(defer_build=True)

    if not hasattr(pydantic.main, "_rebuild_lock"):  # pydantic before 2.14 builds without a lock

        @classmethod
        def model_rebuild(
            cls,
            *,
            force: bool = False,
            raise_errors: bool = True,
            _parent_namespace_depth: int = 2,
            _types_namespace: Optional[Mapping[str, Any]] = None,
        ) -> Optional[bool]:
            """pydantic's ``model_rebuild`` under ``meshapi._forksafe.BUILD_LOCK``, which a fork holds:
            a fork while another thread builds one of these models would leave the child a half-built
            model and pydantic-core's internals mid-build (the child then hung on its first call)."""
            with BUILD_LOCK:
                return super().model_rebuild(
                    force=force,
                    raise_errors=raise_errors,
                    # one frame more than pydantic counts: this one
                    _parent_namespace_depth=_parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0,
                    _types_namespace=_types_namespace,
                )

    def to_dict(
        self,
        *,
        mode: Literal["json", "python"] = "python",
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> Dict[str, object]:
        """This model as a dict: by default only the fields that were set (parsed or passed).

        ``mode="json"`` gives JSON-safe values only; ``use_api_names`` uses the wire names of aliased
        fields. The other flags are ``model_dump``'s.
        """
        return self.model_dump(
            mode=mode,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )

    def to_json(
        self,
        *,
        indent: Optional[int] = 2,
        use_api_names: bool = True,
        exclude_unset: bool = True,
        exclude_defaults: bool = False,
        exclude_none: bool = False,
        warnings: bool = True,
    ) -> str:
        """This model as JSON text, indented by ``indent`` spaces (``None``: one line); flags as ``to_dict``."""
        return self.model_dump_json(
            indent=indent,
            by_alias=use_api_names,
            exclude_unset=exclude_unset,
            exclude_defaults=exclude_defaults,
            exclude_none=exclude_none,
            warnings=warnings,
        )


class MeshModel(_OpenAIDumps):
    model_config = ConfigDict(extra="ignore", protected_namespaces=(), defer_build=True)


class MeshResult(MeshModel):
    """A model a call returns: it remembers ``_request_id`` and the raw ``_response``.

    Only top-level results carry these private attributes: pydantic sets them up for every instance,
    which would double the cost of each streamed chunk and of every nested object.
    """

    _request_id: Optional[str] = PrivateAttr(default=None)
    _response: Any = PrivateAttr(default=None)

    def __getstate__(self) -> Dict[Any, Any]:
        # The raw httpx response is a live object; it does not travel through pickle/copy.
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private and private.get("_response") is not None:
            state["__pydantic_private__"] = {**private, "_response": None}
        return state


class DictLikeModel(MeshModel):
    """A response part that also reads like the dict it was parsed from (keys the server sent).

    For parts 0.1.12 delivered as plain dicts (batch results, token details, Responses output items): attribute access
    and ``part["key"]`` both work, and a part compares equal to the dict 0.1.12 would have held.
    """

    model_config = ConfigDict(extra="allow")

    def _as_dict(self) -> Dict[str, Any]:
        return self.model_dump(exclude_unset=True)

    def __getitem__(self, key: str) -> Any:
        if key not in self.model_fields_set and key not in (self.model_extra or {}):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self.model_fields_set or key in (self.model_extra or {}))

    def keys(self) -> List[str]:
        return list(self._as_dict())

    def values(self) -> List[Any]:
        return [self[key] for key in self.keys()]

    def items(self) -> List[Any]:
        return [(key, self[key]) for key in self.keys()]

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:  # type: ignore[override]
        # dict semantics (keys), as 0.1.12's dicts iterated; pydantic's (name, value) pairs are ``items()``
        return iter(self.keys())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self._as_dict() == dict(other)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


class RequestModel(_OpenAIDumps):
    model_config = ConfigDict(extra="forbid", protected_namespaces=(), defer_build=True)

    def to_body(self) -> Dict[str, Any]:
        """The JSON body sent for these params: every field that is not ``None``."""
        return self.model_dump(mode="json", exclude_none=True)


class SharedModel(MeshModel):
    """A model that appears both in params the user builds and in parsed responses.

    Content parts and tool calls are sent in ``ChatMessage`` and come back in
    ``ChatCompletionMessage``. Validation (``model_validate``, nested dicts, parsed responses) ignores
    unknown keys, like every response model; calling the class directly with an unknown keyword
    raises ``pydantic.ValidationError`` (``extra_forbidden``), like a ``RequestModel``.
    """

    def __init__(self, /, **data: Any) -> None:
        fields = type(self).model_fields
        unknown = [key for key in data if key not in fields]
        if unknown:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [{"type": "extra_forbidden", "loc": (key,), "input": data[key]} for key in unknown],
            )
        super().__init__(**data)

    # Tells pydantic this is not a custom ``__init__``: validation keeps bypassing it, so the check
    # above runs only on direct construction (the same flag pydantic sets on ``BaseModel.__init__``).
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


def _shared_model_in(annotation: Any) -> Optional[Type[SharedModel]]:
    """The ``SharedModel`` class named by a field annotation (directly or inside ``Optional``)."""
    candidates = get_args(annotation) if get_origin(annotation) is Union else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, SharedModel):
            return candidate
    return None


def reject_unknown_keys(model: Type[SharedModel], value: Any, where: str) -> None:
    """``ValueError`` for a key of the dict ``value`` (or of a nested shared model's dict) ``model`` lacks.

    How a model that holds shared models (``ChatMessage``) applies their direct-construction strictness
    to the plain dicts it is given.
    """
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        field = model.model_fields.get(key)
        if field is None:
            raise ValueError(f"{where}: unknown field {key!r} for {model.__name__}")
        nested = _shared_model_in(field.annotation)
        if nested is not None:
            reject_unknown_keys(nested, item, f"{where}.{key}")
