"""``/v1/embeddings`` (SDK ``client.embeddings``; docs/protocol.md §4.4): deterministic vectors per input."""

from __future__ import annotations

from typing import Any, List

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError
from ..fakes import engine, vectors
from ..http.context import chat_model, json_body, json_response, require_capability
from ..http.validation import AnyValue, Int, ListOf, Literal, MapOf, Obj, OneOf, Str, opt, req

DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"

EMBEDDINGS = Obj(
    {
        "input": req(OneOf(Str(), ListOf(AnyValue(), min_length=1))),
        "model": opt(Str()),
        "dimensions": opt(Int(ge=1)),
        "encoding_format": opt(Literal("float", "base64")),
        "input_type": opt(Str()),
        "provider": opt(OneOf(Str(), MapOf())),
        "user": opt(Str(max_length=256)),
        "instructions": opt(Str()),
    }
)


def _input_texts(value: Any) -> List[str]:
    """One text per embedding input (token arrays and multimodal items turned into text)."""
    if isinstance(value, str):
        return [value]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [" ".join(f"tok{v}" for v in value)]
    texts = []
    for item in value:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, list):
            texts.append(" ".join(f"tok{v}" for v in item))
        elif isinstance(item, dict):
            if isinstance(item.get("text"), str):
                texts.append(item["text"])
            else:
                media = item.get("image_url") or item.get("video_url") or {}
                texts.append(str(media.get("url", "")) if isinstance(media, dict) else str(media))
        else:
            raise ApiError(
                422,
                "validation_error",
                "Request validation failed.",
                details=[
                    {
                        "type": "string_type",
                        "loc": ["body", "input"],
                        "msg": "Input should be a valid string",
                        "input": item,
                    }
                ],
            )
    return texts


async def create_embeddings(request: Request) -> Response:
    body = await json_body(request, EMBEDDINGS)
    entry = chat_model(request, body.get("model") or DEFAULT_EMBEDDING_MODEL)
    require_capability(entry, entry.supports_embeddings, "embeddings")
    native = entry.embedding_dimensions or 1536
    dims = body.get("dimensions") or native
    if dims > native:
        raise ApiError(
            400,
            "invalid_request",
            f"dimensions must be at most {native} for {entry.id}.",
            param="dimensions",
        )
    texts = _input_texts(body["input"])
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(texts):
        vector = vectors.embedding(text, dims)
        tokens += engine.count_tokens(text)
        encoded: Any = vectors.to_base64(vector) if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return json_response(
        {
            "object": "list",
            "data": data,
            "model": entry.id,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


ROUTES = [
    Route("/v1/embeddings", create_embeddings, methods=["POST"]),
]
