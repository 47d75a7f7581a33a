"""The HTTP clients' call helpers on top of ``send``: JSON, models, and 0.1.4's method names.

Mixins for ``SyncHttpClient`` / ``AsyncHttpClient`` (``meshapi._transport.client``), kept apart from the
send loops so each module stays about one thing. Resources call ``request_model`` / ``request_json``;
``get`` / ``post`` / ``patch`` / ``delete`` / ``stream`` are what 0.1.4 code called on the HTTP client.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Dict, Iterator, Mapping, Optional, Type, TypeVar

import httpx
from pydantic import BaseModel

from .._config import MeshAPIConfig
from .._core.frames import aiter_frames, iter_frames
from .._core.request import RequestOptions
from .._core.response import decode_model, foreign_errors, parse_json_response

__all__ = ["AsyncMethods", "SyncMethods"]

T = TypeVar("T", bound=BaseModel)


class SyncMethods:
    @property
    def config(self) -> MeshAPIConfig:  # pragma: no cover - HttpClientBase.config
        raise NotImplementedError

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
        stream: bool = False,
    ) -> httpx.Response:  # pragma: no cover - SyncHttpClient.send
        raise NotImplementedError

    def request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        return parse_json_response(self.send(method, path, body=body, params=params, options=options))

    def request_model(
        self,
        model: Type[T],
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> T:
        return decode_model(model, self.send(method, path, body=body, params=params, options=options))

    # 0.1.4 method names, kept for code that used the HTTP client directly
    def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return self.request_json("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request_json("POST", path, body=body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.request_json("PATCH", path, body=body)

    def delete(self, path: str) -> None:
        self.send("DELETE", path)

    def stream(self, path: str, body: Any) -> Iterator[Dict[str, Any]]:
        """0.1.4: the JSON objects of an SSE POST, until ``[DONE]`` (the chat and image streams)."""
        response = self.send("POST", path, body=body, stream=True)
        try:
            with foreign_errors("stream"):
                yield from iter_frames(response.iter_bytes(), self.config.max_response_bytes)
        finally:
            response.close()


class AsyncMethods:
    @property
    def config(self) -> MeshAPIConfig:  # pragma: no cover - HttpClientBase.config
        raise NotImplementedError

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
        stream: bool = False,
    ) -> httpx.Response:  # pragma: no cover - AsyncHttpClient.send
        raise NotImplementedError

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> Any:
        return parse_json_response(await self.send(method, path, body=body, params=params, options=options))

    async def request_model(
        self,
        model: Type[T],
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        options: Optional[RequestOptions] = None,
    ) -> T:
        return decode_model(model, await self.send(method, path, body=body, params=params, options=options))

    async def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return await self.request_json("GET", path, params=params)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.request_json("POST", path, body=body)

    async def patch(self, path: str, body: Any = None) -> Any:
        return await self.request_json("PATCH", path, body=body)

    async def delete(self, path: str) -> None:
        await self.send("DELETE", path)

    async def stream(self, path: str, body: Any) -> AsyncIterator[Dict[str, Any]]:
        """0.1.4: the JSON objects of an SSE POST, until ``[DONE]``."""
        response = await self.send("POST", path, body=body, stream=True)
        try:
            with foreign_errors("stream"):
                async for frame in aiter_frames(response.aiter_bytes(), self.config.max_response_bytes):
                    yield frame
        finally:
            await response.aclose()
