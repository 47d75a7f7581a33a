"""``client.templates``: prompt templates (``/v1/templates``)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from .._core.request import (
    CallOptions,
    RequestOptions,
    call_options,
    coerce_params,
    dump_body,
    path_param,
    split_options,
)
from .._core.response import ListResponse, parse_list
from .._errors import InvalidParamsError
from ..types.templates import (
    CreateTemplateFields,
    CreateTemplateParams,
    TemplateSummary,
    UpdateTemplateFields,
    UpdateTemplateParams,
)
from ._base import (
    AsyncAPIResource,
    AsyncRaw,
    AsyncStreaming,
    M,
    Raw,
    Streaming,
    SyncAPIResource,
    Unpack,
    Views,
    view,
)

__all__ = ["AsyncTemplatesResource", "TemplatesResource"]

_PATH = "/v1/templates"


def _template_path(template_id: str) -> str:
    return f"{_PATH}/{path_param(template_id, name='template_id')}"


def _update_body(params: object, fields: Mapping[str, Any], opts: RequestOptions) -> Dict[str, Any]:
    body = dump_body(coerce_params(UpdateTemplateParams, params, fields), opts)
    if not body:
        raise InvalidParamsError(
            "templates.update() needs at least one field to change (name=, description=, system=, model=, "
            "messages=, params=, variables=)"
        )
    return body


class CreateTemplateArgs(CreateTemplateFields, CallOptions, total=False):
    """The keywords of the methods that take a ``CreateTemplateParams``: its fields and the per-call options."""


class UpdateTemplateArgs(UpdateTemplateFields, CallOptions, total=False):
    """The keywords of the methods that take a ``UpdateTemplateParams``: its fields and the per-call options."""


class TemplatesResource(SyncAPIResource["TemplatesViews[Raw]", "TemplatesViews[Streaming]"]):
    def create(
        self,
        params: Optional[CreateTemplateParams] = None,
        **kwargs: Unpack[CreateTemplateArgs],
    ) -> TemplateSummary:
        """Create a template (``POST /v1/templates``; the gateway answers 201).

        Pass a ``CreateTemplateParams`` or its fields as keyword arguments. The template's own
        ``params`` field (default inference parameters) is a keyword too:
        ``create(name="t", params={"temperature": 0.2})``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(CreateTemplateParams, params, fields), opts)
        return self._http.request_model(TemplateSummary, "POST", _PATH, body=body, options=opts)

    def list(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[TemplateSummary]:
        """Your templates, newest first (``GET /v1/templates``): a list that also carries
        ``request_id`` and ``response`` (a ``{"data": [...]}`` wrapper is accepted too)."""
        response = self._http.send(
            "GET",
            _PATH,
            options=call_options(options),
        )
        return parse_list(TemplateSummary, response)

    def get(
        self,
        template_id: str,
        **options: Unpack[CallOptions],
    ) -> TemplateSummary:
        """One of your templates (``GET /v1/templates/{template_id}``)."""
        return self._http.request_model(
            TemplateSummary,
            "GET",
            _template_path(template_id),
            options=call_options(options),
        )

    def update(
        self,
        template_id: str,
        params: Optional[UpdateTemplateParams] = None,
        **kwargs: Unpack[UpdateTemplateArgs],
    ) -> TemplateSummary:
        """Change some fields of a template (``PATCH /v1/templates/{template_id}``).

        Only the fields you set are sent (a dict given as ``params`` is the template's ``params``
        field). Raises ``InvalidParamsError`` before sending when no field is given.
        """
        opts, fields = split_options(kwargs)
        path = _template_path(template_id)
        body = _update_body(params, fields, opts)
        return self._http.request_model(TemplateSummary, "PATCH", path, body=body, options=opts)

    def delete(
        self,
        template_id: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete a template (``DELETE /v1/templates/{template_id}``; 204, or 200 with any body)."""
        self._http.send(
            "DELETE",
            _template_path(template_id),
            options=call_options(options),
        )


class AsyncTemplatesResource(AsyncAPIResource["TemplatesViews[AsyncRaw]", "TemplatesViews[AsyncStreaming]"]):
    async def create(
        self,
        params: Optional[CreateTemplateParams] = None,
        **kwargs: Unpack[CreateTemplateArgs],
    ) -> TemplateSummary:
        """Create a template (``POST /v1/templates``; the gateway answers 201).

        Pass a ``CreateTemplateParams`` or its fields as keyword arguments. The template's own
        ``params`` field (default inference parameters) is a keyword too:
        ``create(name="t", params={"temperature": 0.2})``.
        """
        opts, fields = split_options(kwargs)
        body = dump_body(coerce_params(CreateTemplateParams, params, fields), opts)
        return await self._http.request_model(TemplateSummary, "POST", _PATH, body=body, options=opts)

    async def list(
        self,
        **options: Unpack[CallOptions],
    ) -> ListResponse[TemplateSummary]:
        """Your templates, newest first (``GET /v1/templates``): a list that also carries
        ``request_id`` and ``response`` (a ``{"data": [...]}`` wrapper is accepted too)."""
        response = await self._http.send(
            "GET",
            _PATH,
            options=call_options(options),
        )
        return parse_list(TemplateSummary, response)

    async def get(
        self,
        template_id: str,
        **options: Unpack[CallOptions],
    ) -> TemplateSummary:
        """One of your templates (``GET /v1/templates/{template_id}``)."""
        return await self._http.request_model(
            TemplateSummary,
            "GET",
            _template_path(template_id),
            options=call_options(options),
        )

    async def update(
        self,
        template_id: str,
        params: Optional[UpdateTemplateParams] = None,
        **kwargs: Unpack[UpdateTemplateArgs],
    ) -> TemplateSummary:
        """Change some fields of a template (``PATCH /v1/templates/{template_id}``).

        Only the fields you set are sent (a dict given as ``params`` is the template's ``params``
        field). Raises ``InvalidParamsError`` before sending when no field is given.
        """
        opts, fields = split_options(kwargs)
        path = _template_path(template_id)
        body = _update_body(params, fields, opts)
        return await self._http.request_model(TemplateSummary, "PATCH", path, body=body, options=opts)

    async def delete(
        self,
        template_id: str,
        **options: Unpack[CallOptions],
    ) -> None:
        """Delete a template (``DELETE /v1/templates/{template_id}``; 204, or 200 with any body)."""
        await self._http.send(
            "DELETE",
            _template_path(template_id),
            options=call_options(options),
        )


class TemplatesViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``TemplatesResource`` and its twin."""

    create = view(TemplatesResource.create, AsyncTemplatesResource.create)
    list = view(TemplatesResource.list, AsyncTemplatesResource.list)
    get = view(TemplatesResource.get, AsyncTemplatesResource.get)
    update = view(TemplatesResource.update, AsyncTemplatesResource.update)
    delete = view(TemplatesResource.delete, AsyncTemplatesResource.delete)
