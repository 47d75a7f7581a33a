"""Prompt templates (``/v1/templates``): create/update params and the stored template.

The params derive from ``RequestModel`` (unknown keys raise); ``PATCH`` sends only the fields that
are set. ``TemplateMessage`` (``role`` + ``content``) describes one item of ``messages``; the params
take plain dicts there, as 0.1.4 did.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, TypedDict

from ._base import MeshResult, RequestModel, SharedModel

__all__ = ["CreateTemplateParams", "TemplateMessage", "TemplateSummary", "UpdateTemplateParams"]


class TemplateMessage(SharedModel):
    role: str
    content: str


class CreateTemplateParams(RequestModel):
    name: str
    description: Optional[str] = None
    system: Optional[str] = None
    model: Optional[str] = None
    messages: Optional[List[Dict[str, Any]]] = None
    params: Optional[Dict[str, Any]] = None
    variables: Optional[List[str]] = None
    # Later addition: scope the template to a team.
    team_id: Optional[str] = None


class UpdateTemplateParams(RequestModel):
    name: Optional[str] = None
    description: Optional[str] = None
    system: Optional[str] = None
    model: Optional[str] = None
    messages: Optional[List[Dict[str, Any]]] = None
    params: Optional[Dict[str, Any]] = None
    variables: Optional[List[str]] = None


class TemplateSummary(MeshResult):
    id: str
    name: str
    owner: Optional[str] = None
    is_global: bool
    description: Optional[str] = None
    system: Optional[str] = None
    model: Optional[str] = None
    messages: Optional[List[Dict[str, Any]]] = None
    params: Optional[Dict[str, Any]] = None
    variables: Optional[List[str]] = None
    created_at: str
    updated_at: str
    # Later additions.
    org_id: Optional[str] = None
    team_id: Optional[str] = None
    creator_name: Optional[str] = None
    creator_email: Optional[str] = None


class CreateTemplateFields(TypedDict, total=False):
    """``CreateTemplateParams``'s fields as keyword arguments, typed (a test keeps both in step).

    Not ``params``: a mapping passed as the methods' ``params`` argument is that field."""

    name: str
    description: Optional[str]
    system: Optional[str]
    model: Optional[str]
    messages: Optional[Sequence[Mapping[str, Any]]]
    variables: Optional[Sequence[str]]
    team_id: Optional[str]


class UpdateTemplateFields(TypedDict, total=False):
    """``UpdateTemplateParams``'s fields as keyword arguments, typed (a test keeps both in step; not
    ``params``, as for ``CreateTemplateFields``)."""

    name: Optional[str]
    description: Optional[str]
    system: Optional[str]
    model: Optional[str]
    messages: Optional[Sequence[Mapping[str, Any]]]
    variables: Optional[Sequence[str]]
