"""``client.templates``: prompt templates (``/v1/templates``)."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from .._core.request import RequestOptions, coerce_params, dump_body, path_param
from .._core.response import ListResponse, parse_list
from .._errors import InvalidParamsError
from ..types.templates import CreateTemplateParams, TemplateSummary, UpdateTemplateParams
from ._base import AsyncAPIResource, SyncAPIResource, TimeoutArg, options

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


class TemplatesResource(SyncAPIResource):
    def create(
        self,
        params: Optional[CreateTemplateParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> TemplateSummary:
        """Create a template (``POST /v1/templates``; the gateway answers 201).

        Pass a ``CreateTemplateParams`` or its fields as keyword arguments. The template's own
        ``params`` field (default inference parameters) is a keyword too:
        ``create(name="t", params={"temperature": 0.2})``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(CreateTemplateParams, params, fields), opts)
        return self._http.request_model(TemplateSummary, "POST", _PATH, body=body, options=opts)

    def list(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[TemplateSummary]:
        """Your templates, newest first (``GET /v1/templates``): a list that also carries
        ``request_id`` and ``response`` (a ``{"data": [...]}`` wrapper is accepted too)."""
        response = self._http.send(
            "GET",
            _PATH,
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(TemplateSummary, response)

    def get(
        self,
        template_id: str,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> TemplateSummary:
        """One of your templates (``GET /v1/templates/{template_id}``)."""
        return self._http.request_model(
            TemplateSummary,
            "GET",
            _template_path(template_id),
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )

    def update(
        self,
        template_id: str,
        params: Optional[UpdateTemplateParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> TemplateSummary:
        """Change some fields of a template (``PATCH /v1/templates/{template_id}``).

        Only the fields you set are sent (a dict given as ``params`` is the template's ``params``
        field). Raises ``InvalidParamsError`` before sending when no field is given.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        path = _template_path(template_id)
        body = _update_body(params, fields, opts)
        return self._http.request_model(TemplateSummary, "PATCH", path, body=body, options=opts)

    def delete(
        self,
        template_id: str,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> None:
        """Delete a template (``DELETE /v1/templates/{template_id}``; 204, or 200 with any body)."""
        self._http.send(
            "DELETE",
            _template_path(template_id),
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )


class AsyncTemplatesResource(AsyncAPIResource):
    async def create(
        self,
        params: Optional[CreateTemplateParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> TemplateSummary:
        """Create a template (``POST /v1/templates``; the gateway answers 201).

        Pass a ``CreateTemplateParams`` or its fields as keyword arguments. The template's own
        ``params`` field (default inference parameters) is a keyword too:
        ``create(name="t", params={"temperature": 0.2})``.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        body = dump_body(coerce_params(CreateTemplateParams, params, fields), opts)
        return await self._http.request_model(TemplateSummary, "POST", _PATH, body=body, options=opts)

    async def list(
        self,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> ListResponse[TemplateSummary]:
        """Your templates, newest first (``GET /v1/templates``): a list that also carries
        ``request_id`` and ``response`` (a ``{"data": [...]}`` wrapper is accepted too)."""
        response = await self._http.send(
            "GET",
            _PATH,
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
        return parse_list(TemplateSummary, response)

    async def get(
        self,
        template_id: str,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> TemplateSummary:
        """One of your templates (``GET /v1/templates/{template_id}``)."""
        return await self._http.request_model(
            TemplateSummary,
            "GET",
            _template_path(template_id),
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )

    async def update(
        self,
        template_id: str,
        params: Optional[UpdateTemplateParams] = None,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
        **fields: Any,
    ) -> TemplateSummary:
        """Change some fields of a template (``PATCH /v1/templates/{template_id}``).

        Only the fields you set are sent (a dict given as ``params`` is the template's ``params``
        field). Raises ``InvalidParamsError`` before sending when no field is given.
        """
        opts = options(
            timeout,
            extra_headers,
            extra_body,
            extra_query=extra_query,
            max_retries=max_retries,
            total_timeout=total_timeout,
            request_id=request_id,
        )
        path = _template_path(template_id)
        body = _update_body(params, fields, opts)
        return await self._http.request_model(TemplateSummary, "PATCH", path, body=body, options=opts)

    async def delete(
        self,
        template_id: str,
        *,
        timeout: TimeoutArg = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        total_timeout: Optional[float] = None,
        request_id: Optional[str] = None,
    ) -> None:
        """Delete a template (``DELETE /v1/templates/{template_id}``; 204, or 200 with any body)."""
        await self._http.send(
            "DELETE",
            _template_path(template_id),
            options=options(
                timeout,
                extra_headers,
                extra_body,
                extra_query=extra_query,
                max_retries=max_retries,
                total_timeout=total_timeout,
                request_id=request_id,
            ),
        )
