"""``client.videos``: video generation tasks (``/v1/video/generations``).

A generation is asynchronous: :meth:`generate` returns the task id at once, :meth:`retrieve` reports
the task's status. Beyond 0.1.12: ``prompt=`` as a shortcut for a one-text ``content``; ids are escaped;
:meth:`wait` polls until the task is terminal; :meth:`download` saves the finished video to a file
(the API key is sent only when the file is served by the configured gateway itself).
"""

from __future__ import annotations

import os
import pathlib
import urllib.parse
from typing import Any, BinaryIO, Callable, Dict, Mapping, Optional, Tuple, Union

import httpx

from .._core.request import (
    CallOptions,
    RequestOptions,
    call_options,
    coerce_params,
    dump_body,
    path_param,
    split_options,
)
from .._core.response import foreign_errors
from .._errors import InvalidParamsError, ProcessingFailedError
from ..lib.polling import Deadline, WaitTimeoutError, async_poll_until, check_wait_args, poll_until
from ..types.videos import (
    TERMINAL_VIDEO_STATUSES,
    CreateVideoGenerationResponse,
    ListVideoGenerationsFields,
    ListVideoGenerationsParams,
    VideoGenerationFields,
    VideoGenerationParams,
    VideoTaskListResponse,
    VideoTaskResponse,
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

__all__ = ["AsyncVideosResource", "VideosResource"]

_PATH = "/v1/video/generations"
PathArg = Union[str, "os.PathLike[str]"]
TaskArg = Union[str, VideoTaskResponse]
OnPoll = Optional[Callable[[VideoTaskResponse], None]]


def _generate_fields(prompt: Optional[str], fields: Dict[str, Any]) -> Dict[str, Any]:
    if prompt is not None:
        if "content" in fields:
            raise InvalidParamsError("pass either prompt= or content=, not both")
        fields["content"] = [{"type": "text", "text": prompt}]
    return fields


def _task_path(task_id: str) -> str:
    return f"{_PATH}/{path_param(task_id, name='task_id')}"


def _timed_out(task_id: str, last: Optional[VideoTaskResponse], timeout: float) -> WaitTimeoutError:
    status = last.status if last is not None else None
    return WaitTimeoutError(
        f"Video task {task_id!r} did not finish within {timeout:g}s (last status: {status!r}); "
        "it keeps running on the gateway: wait again later.",
        last=last,
        resource_id=task_id,
    )


def _video_url(task: VideoTaskResponse) -> str:
    if task.status != "succeeded":
        if task.status in TERMINAL_VIDEO_STATUSES:
            code = task.error.code if task.error else task.status
            message = task.error.message if task.error else f"the task ended {task.status}"
            raise ProcessingFailedError(
                f"Video task {task.id!r} has no video: {message}",
                last=task,
                resource_id=task.id,
                error_code=code,
            )
        raise InvalidParamsError(f"Video task {task.id!r} is still {task.status!r}: wait() for it first")
    url = task.content.video_url if task.content else None
    if not url:
        raise ProcessingFailedError(
            f"Video task {task.id!r} succeeded but carries no content.video_url",
            last=task,
            resource_id=task.id,
        )
    return url


def _same_origin_path(base_url: str, url: str) -> Optional[str]:
    """The path to send with credentials when ``url`` is on the configured gateway, else ``None``."""
    base, target = httpx.URL(base_url), httpx.URL(url)
    if not target.is_absolute_url:
        return url if url.startswith("/") else None
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
        return None
    prefix = base.raw_path.decode("ascii").split("?")[0].rstrip("/")
    full = target.raw_path.decode("ascii")
    return full[len(prefix) :] if full.startswith(prefix + "/") else None


def _download_options(opts: RequestOptions) -> RequestOptions:
    return RequestOptions.build(
        opts.timeout,
        {"Accept": "*/*", **(opts.extra_headers or {})},
        extra_query=opts.extra_query,
        max_retries=opts.max_retries,
        total_timeout=opts.total_timeout,
        request_id=opts.request_id,
    )


def _target(path: PathArg, task: VideoTaskResponse, url: str) -> pathlib.Path:
    """``path``, or inside it when it is a directory: the URL's file name (else ``<task id>.mp4``)."""
    target = pathlib.Path(os.fspath(path))
    if target.is_dir():
        name = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1])
        if not name or name in (".", "..") or "\\" in name:
            name = f"{task.id}.mp4"
        target = target / name
    return target


def _open(target: pathlib.Path) -> Tuple[pathlib.Path, BinaryIO]:
    try:
        return target, open(target, "wb")  # closed by the caller
    except OSError as exc:
        raise InvalidParamsError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None


class VideoGenerationArgs(VideoGenerationFields, CallOptions, total=False):
    """The keywords of the methods that take a ``VideoGenerationParams``: its fields and the per-call options."""


class ListVideoGenerationsArgs(ListVideoGenerationsFields, CallOptions, total=False):
    """The keywords of the methods that take a ``ListVideoGenerationsParams``: its fields and the per-call options."""


class VideosResource(SyncAPIResource["VideosViews[Raw]", "VideosViews[Streaming]"]):
    def generate(
        self,
        params: Optional[VideoGenerationParams] = None,
        *,
        prompt: Optional[str] = None,
        **kwargs: Unpack[VideoGenerationArgs],
    ) -> CreateVideoGenerationResponse:
        """Start a generation (``POST /v1/video/generations``); returns the task id (``.id``) at once.

        Pass a ``VideoGenerationParams`` or its fields (``model=``, ``content=``, ``ratio=``,
        ``duration=``); ``prompt="..."`` is short for ``content=[{"type": "text", "text": "..."}]``.
        """
        opts, fields = split_options(kwargs)
        checked = coerce_params(VideoGenerationParams, params, _generate_fields(prompt, fields))
        body = dump_body(checked, opts)
        return self._http.request_model(CreateVideoGenerationResponse, "POST", _PATH, body=body, options=opts)

    def list(
        self,
        params: Optional[ListVideoGenerationsParams] = None,
        **kwargs: Unpack[ListVideoGenerationsArgs],
    ) -> VideoTaskListResponse:
        """The caller's tasks (``GET /v1/video/generations``), newest first; ``limit=``/``offset=`` page."""
        opts, fields = split_options(kwargs)
        query = coerce_params(ListVideoGenerationsParams, params, fields).to_body() or None
        return self._http.request_model(VideoTaskListResponse, "GET", _PATH, params=query, options=opts)

    def retrieve(
        self,
        task_id: str,
        **options: Unpack[CallOptions],
    ) -> VideoTaskResponse:
        """One task and its status (``GET /v1/video/generations/{task_id}``).

        Under API version 2026-09 (``api_version="2026-09"``) ``task_id`` may also be the request id of the
        call that created the task (``task.request_id``).
        """
        opts = call_options(options)
        return self._http.request_model(VideoTaskResponse, "GET", _task_path(task_id), options=opts)

    def wait(
        self,
        task_id: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 5.0,
        on_poll: OnPoll = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> VideoTaskResponse:
        """Poll :meth:`retrieve` until the task is terminal (``succeeded``, ``failed``, ``expired``,
        ``cancelled``) and return it. A failed task is returned, not raised: check ``.status`` and
        ``.error``. Past ``timeout`` seconds ``WaitTimeoutError`` is raised with the last task in
        ``.last``. ``on_poll(task)`` is called after every poll (e.g. to show progress). Polls start
        0.25 s apart and double up to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        return poll_until(
            lambda: self.retrieve(task_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_VIDEO_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(task_id, last, timeout),
            on_poll,
        )

    def download(
        self,
        task: TaskArg,
        path: PathArg,
        **options: Unpack[CallOptions],
    ) -> pathlib.Path:
        """Save a succeeded task's video (``content.video_url``) to ``path``; returns it as a ``Path``.

        When ``path`` is a directory the file is named after the URL (e.g. ``t-....mp4``).

        ``task`` is a ``VideoTaskResponse`` or a task id (then fetched first). A task that failed or
        expired raises ``ProcessingFailedError``; one still running raises ``InvalidParamsError``.
        """
        opts = call_options(options)
        if not isinstance(task, VideoTaskResponse):
            task = self.retrieve(task, extra_headers=opts.extra_headers)
        url = _video_url(task)
        local = _same_origin_path(self._http.config.base_url, url)
        fetch = _download_options(opts)
        if local is not None:
            response = self._http.send("GET", local, options=fetch, stream=True)
        else:
            response = self._http.send_url("GET", url, content=b"", headers={"Accept": "*/*"}, options=fetch)
        try:
            target, handle = _open(_target(path, task, url))
        except InvalidParamsError:
            response.close()
            raise
        done = False
        try:
            with foreign_errors("download"):
                for chunk in response.iter_bytes():
                    handle.write(chunk)
            done = True
        finally:
            handle.close()
            response.close()
            if not done:
                target.unlink(missing_ok=True)  # no half-written video left behind
        return target


class AsyncVideosResource(AsyncAPIResource["VideosViews[AsyncRaw]", "VideosViews[AsyncStreaming]"]):
    async def generate(
        self,
        params: Optional[VideoGenerationParams] = None,
        *,
        prompt: Optional[str] = None,
        **kwargs: Unpack[VideoGenerationArgs],
    ) -> CreateVideoGenerationResponse:
        """Start a generation (``POST /v1/video/generations``); returns the task id (``.id``) at once.

        Pass a ``VideoGenerationParams`` or its fields (``model=``, ``content=``, ``ratio=``,
        ``duration=``); ``prompt="..."`` is short for ``content=[{"type": "text", "text": "..."}]``.
        """
        opts, fields = split_options(kwargs)
        checked = coerce_params(VideoGenerationParams, params, _generate_fields(prompt, fields))
        body = dump_body(checked, opts)
        return await self._http.request_model(
            CreateVideoGenerationResponse, "POST", _PATH, body=body, options=opts
        )

    async def list(
        self,
        params: Optional[ListVideoGenerationsParams] = None,
        **kwargs: Unpack[ListVideoGenerationsArgs],
    ) -> VideoTaskListResponse:
        """The caller's tasks (``GET /v1/video/generations``), newest first; ``limit=``/``offset=`` page."""
        opts, fields = split_options(kwargs)
        query = coerce_params(ListVideoGenerationsParams, params, fields).to_body() or None
        return await self._http.request_model(VideoTaskListResponse, "GET", _PATH, params=query, options=opts)

    async def retrieve(
        self,
        task_id: str,
        **options: Unpack[CallOptions],
    ) -> VideoTaskResponse:
        """One task and its status (``GET /v1/video/generations/{task_id}``).

        Under API version 2026-09 (``api_version="2026-09"``) ``task_id`` may also be the request id of the
        call that created the task (``task.request_id``).
        """
        opts = call_options(options)
        return await self._http.request_model(VideoTaskResponse, "GET", _task_path(task_id), options=opts)

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float = 600.0,
        poll_interval: float = 5.0,
        on_poll: OnPoll = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> VideoTaskResponse:
        """Poll :meth:`retrieve` until the task is terminal (``succeeded``, ``failed``, ``expired``,
        ``cancelled``) and return it. A failed task is returned, not raised: check ``.status`` and
        ``.error``. Past ``timeout`` seconds ``WaitTimeoutError`` is raised with the last task in
        ``.last``. ``on_poll(task)`` is called after every poll (e.g. to show progress). Polls start
        0.25 s apart and double up to ``poll_interval``."""
        check_wait_args(timeout, poll_interval)
        return await async_poll_until(
            lambda: self.retrieve(task_id, extra_headers=extra_headers),
            lambda last: last.status in TERMINAL_VIDEO_STATUSES,
            Deadline(timeout, poll_interval),
            self._http._sleep,
            lambda last: _timed_out(task_id, last, timeout),
            on_poll,
        )

    async def download(
        self,
        task: TaskArg,
        path: PathArg,
        **options: Unpack[CallOptions],
    ) -> pathlib.Path:
        """Save a succeeded task's video (``content.video_url``) to ``path``; returns it as a ``Path``.

        When ``path`` is a directory the file is named after the URL (e.g. ``t-....mp4``).

        ``task`` is a ``VideoTaskResponse`` or a task id (then fetched first). A task that failed or
        expired raises ``ProcessingFailedError``; one still running raises ``InvalidParamsError``.
        """
        opts = call_options(options)
        if not isinstance(task, VideoTaskResponse):
            task = await self.retrieve(task, extra_headers=opts.extra_headers)
        url = _video_url(task)
        local = _same_origin_path(self._http.config.base_url, url)
        fetch = _download_options(opts)
        if local is not None:
            response = await self._http.send("GET", local, options=fetch, stream=True)
        else:
            response = await self._http.send_url(
                "GET", url, content=b"", headers={"Accept": "*/*"}, options=fetch
            )
        try:
            target, handle = _open(_target(path, task, url))
        except InvalidParamsError:
            await response.aclose()
            raise
        done = False
        try:
            with foreign_errors("download"):
                async for chunk in response.aiter_bytes():
                    handle.write(chunk)
            done = True
        finally:
            handle.close()
            await response.aclose()
            if not done:
                target.unlink(missing_ok=True)  # no half-written video left behind
        return target


class VideosViews(Views[M]):
    """The typed ``with_raw_response`` / ``with_streaming_response`` of ``VideosResource`` and its twin."""

    generate = view(VideosResource.generate, AsyncVideosResource.generate)
    list = view(VideosResource.list, AsyncVideosResource.list)
    retrieve = view(VideosResource.retrieve, AsyncVideosResource.retrieve)
    wait = view(VideosResource.wait, AsyncVideosResource.wait)
    download = view(VideosResource.download, AsyncVideosResource.download)
