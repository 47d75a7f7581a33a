"""Example payloads of API.md (§3.3-3.5, §4.2-4.9, §5, §6), shared by the resource tests."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

RESPONSE = {
    "id": "resp_0c1a9e",
    "object": "response",
    "created_at": 1767312500,
    "status": "completed",
    "model": "openai/o4-mini",
    "output": [
        {"type": "reasoning", "id": "rs_11", "summary": []},
        {
            "type": "message",
            "id": "msg_77",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "101", "annotations": []}],
        },
    ],
    "usage": {"input_tokens": 15, "output_tokens": 68, "total_tokens": 83},
}

RESPONSES_LIST = {
    "object": "list",
    "data": [
        {
            "id": "resp_0c1a9e",
            "object": "response",
            "model": "openai/o4-mini",
            "provider": "openai",
            "status": "completed",
            "created_at": 1767312500,
            "completed_at": 1767312510,
            "usage_synced": True,
        }
    ],
    "has_more": False,
    "first_id": "resp_0c1a9e",
    "last_id": "resp_0c1a9e",
}

COMPARE = {
    "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
    "object": "compare.completion",
    "created": 1767312100,
    "models": ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"],
    "results": [
        {
            "model": "openai/gpt-4o-mini",
            "response_body": {
                "id": "chatcmpl-a1",
                "object": "chat.completion",
                "created": 1767312100,
                "model": "openai/gpt-4o-mini",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": "Vector search ranks items by embedding similarity.",
                        },
                        "finish_reason": "stop",
                    }
                ],
            },
            "content": "Vector search ranks items by embedding similarity.",
            "latency_ms": 812,
            "error": None,
            "error_code": None,
            "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
            "request_id": "req_01JBA0XK2M4N6P8Q0R2S4T6V8W::openai/gpt-4o-mini",
        },
        {
            "model": "anthropic/claude-3.5-haiku",
            "response_body": None,
            "content": None,
            "latency_ms": 120000,
            "error": "Upstream provider did not respond in time.",
            "error_code": "gateway_timeout",
            "usage": None,
            "request_id": "req_01JBA0XK2M4N6P8Q0R2S4T6V8W::anthropic/claude-3.5-haiku",
        },
    ],
    "comparison": None,
    "comparison_model": None,
    "comparison_usage": None,
    "comparison_fallback_used": False,
    "total_latency_ms": 120004,
    "partial": True,
    "skip_comparison": False,
}

EMBEDDINGS = {
    "object": "list",
    "data": [
        {"object": "embedding", "index": 0, "embedding": [0.0123, -0.4411, 0.2875, 0.0932]},
        {"object": "embedding", "index": 1, "embedding": [0.0310, -0.3907, 0.3342, 0.1128]},
    ],
    "model": "openai/text-embedding-3-small",
    "usage": {"prompt_tokens": 4, "total_tokens": 4, "byok_used": False, "fallback_triggered": False},
}

TEMPLATE = {
    "id": "3f6d2a8e-91c4-4b7a-a0e5-5c1d7b2e9f10",
    "name": "support-triage",
    "owner": "0b7c9d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e",
    "is_global": False,
    "description": None,
    "system": "You triage tickets for {{ product }}.",
    "messages": None,
    "model": "openai/gpt-4o-mini",
    "params": {"temperature": 0.2},
    "variables": ["product"],
    "created_at": "2026-01-05T09:30:00+00:00",
    "updated_at": "2026-01-05T09:30:00+00:00",
}

IMAGE = {
    "created": 1767312400,
    "data": [{"b64_json": "iVBORw0KGgoAAAANSUhEUgAA", "revised_prompt": None}],
    "background": "opaque",
    "output_format": "png",
    "quality": "high",
    "size": "1024x1024",
    "usage": {"prompt_tokens": 11, "completion_tokens": 4160, "total_tokens": 4171},
}

FILE_ID = "6b0f4a52-3d1e-4c9a-9f27-2a8e5d71c0b4"
SIGNED_URL = (
    f"https://storage.example-cdn.net/uploads/{FILE_ID}?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Expires=600"
    "&X-Goog-Signature=3fa1"
)
INIT_UPLOAD = {"file_id": FILE_ID, "signed_url": SIGNED_URL, "expires_at": "2026-01-05T10:40:00Z"}

FILE_STATUS: Dict[str, Any] = {
    "file_id": FILE_ID,
    "upload_status": "ready",
    "file_name": "refund-policy.md",
    "file_type": "document",
    "mime_type": "text/markdown",
    "size_bytes": 3172,
    "asset_url": None,
    "signed_url": None,
    "signed_url_expires_at": None,
    "embedding_status": "ready",
    "created_at": "2026-01-05T10:30:12Z",
    "updated_at": "2026-01-05T10:30:41Z",
    "total_tokens": 812,
    "total_cost_usd": 0.0000162,
    "last_error_code": None,
}
FILE_LIST = {"files": [FILE_STATUS], "total": 1, "limit": 50, "offset": 0}

BULK_EMBED = {
    "results": [
        {"file_id": FILE_ID, "embedding_status": "queued", "chunk_count": None, "error": None},
        {
            "file_id": "0d9e7c1b-5a44-4f0e-8b61-7c2f9a3e6d15",
            "embedding_status": "ready",
            "chunk_count": 14,
            "error": "embedding_status must be pending or failed",
        },
    ]
}

SEARCH = {
    "results": [
        {
            "score": 0.8731,
            "text": "Refunds are issued within 5 business days.",
            "parent_text": "## Refunds\nRefunds are issued within 5 business days. Contact support with your order id.",
            "file_id": FILE_ID,
            "file_name": "refund-policy.md",
            "file_type": "document",
            "mime_type": "text/markdown",
            "chunk_index": 2,
            "created_at": 1767609041,
            "metadata": {"team": "support", "lang": "en"},
        },
    ]
}

BATCH_REQUESTS = [
    {
        "custom_id": "ticket-101",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "Classify: 'app crashes on login'"}],
            "max_tokens": 10,
        },
    },
    {
        "custom_id": "ticket-102",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "Classify: 'refund not received'"}],
            "max_tokens": 10,
        },
    },
]
BATCH = {
    "id": "batch_68c2f1e9a0b4",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "status": "validating",
    "model": "openai/gpt-4o-mini",
    "provider": "openai",
    "input_file_id": "file-9Qm2",
    "output_file_id": None,
    "error_file_id": None,
    "completion_window": "24h",
    "created_at": 1767610000,
    "completed_at": None,
    "expires_at": 1767696400,
    "request_counts": {"total": 2, "completed": 0, "failed": 0},
    "metadata": {"job": "nightly-triage"},
}
BATCH_LIST = {
    "object": "list",
    "data": [
        {
            "id": "batch_68c2f1e9a0b4",
            "object": "batch",
            "endpoint": "/v1/chat/completions",
            "input_file_id": "file-9Qm2",
            "output_file_id": "file-Zr81",
            "status": "completed",
            "model": "openai/gpt-4o-mini",
            "provider": "openai",
            "created_at": 1767610000,
            "completed_at": 1767611800,
            "usage_synced": True,
        }
    ],
    "has_more": False,
    "first_id": "batch_68c2f1e9a0b4",
    "last_id": "batch_68c2f1e9a0b4",
}


def sse(events: List[Tuple[Optional[str], Any]]) -> bytes:
    """An SSE body: ``(event name or None, JSON payload or raw string)`` per event."""
    out = []
    for name, data in events:
        line = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        out.append((f"event: {name}\n" if name else "") + f"data: {line}\n\n")
    return "".join(out).encode()


RESPONSES_EVENTS: List[Tuple[Optional[str], Any]] = [
    (
        "response.created",
        {
            "type": "response.created",
            "sequence_number": 0,
            "response": {
                "id": "resp_0c1a",
                "object": "response",
                "status": "in_progress",
                "model": "openai/o4-mini",
                "output": [],
            },
        },
    ),
    (
        "response.output_text.delta",
        {
            "type": "response.output_text.delta",
            "sequence_number": 4,
            "item_id": "msg_77",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
        },
    ),
    (
        "response.output_text.delta",
        {
            "type": "response.output_text.delta",
            "sequence_number": 5,
            "item_id": "msg_77",
            "output_index": 0,
            "content_index": 0,
            "delta": "lo \u00e9",
        },
    ),
    (
        "response.completed",
        {
            "type": "response.completed",
            "sequence_number": 9,
            "response": {
                "id": "resp_0c1a",
                "object": "response",
                "status": "completed",
                "model": "openai/o4-mini",
                "output": [
                    {
                        "type": "message",
                        "id": "msg_77",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": "Hello \u00e9"}],
                    }
                ],
                "usage": {"input_tokens": 8, "output_tokens": 2, "total_tokens": 10},
            },
        },
    ),
]

MODELS = ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"]
COMPARE_EVENTS: List[Tuple[Optional[str], Any]] = [
    (
        "meta",
        {
            "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
            "models": MODELS,
            "comparison_model": "openai/gpt-4o-mini",
            "skip_comparison": False,
        },
    ),
    (
        "model_chunk",
        {
            "model": MODELS[0],
            "delta": "Vector search ranks items by embedding similarity.",
            "latency_ms": 812,
            "error": None,
            "error_code": None,
            "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
        },
    ),
    (
        "model_chunk",
        {
            "model": MODELS[1],
            "delta": "It finds nearest neighbours in vector space.",
            "latency_ms": 1034,
            "error": None,
            "error_code": None,
            "usage": {"prompt_tokens": 15, "completion_tokens": 10, "total_tokens": 25},
        },
    ),
    (
        "model_done",
        {
            "results": [
                {
                    "model": MODELS[0],
                    "content": "Vector search ranks items by embedding similarity.",
                    "latency_ms": 812,
                    "error": None,
                    "error_code": None,
                    "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
                    "request_id": "req_01JBA0::openai/gpt-4o-mini",
                },
                {
                    "model": MODELS[1],
                    "content": "It finds nearest neighbours in vector space.",
                    "latency_ms": 1034,
                    "error": None,
                    "error_code": None,
                    "usage": {"prompt_tokens": 15, "completion_tokens": 10, "total_tokens": 25},
                    "request_id": "req_01JBA0::anthropic/claude-3.5-haiku",
                },
            ]
        },
    ),
    ("comparison_chunk", {"delta": "Both answers are accurate; ", "finish_reason": None}),
    ("comparison_chunk", {"delta": "the first is more precise.", "finish_reason": "stop"}),
    (
        "done",
        {
            "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
            "total_latency_ms": 2210,
            "partial": False,
            "comparison_model": "openai/gpt-4o-mini",
            "comparison_fallback_used": False,
        },
    ),
]

IMAGE_STREAM = (
    b'data: {"id":"imgstream_5c2e","object":"image.chunk","created":1767312400,"status":"processing",'
    b'"model":"openai/gpt-image-1","data":[]}\n\n'
    b": keep-alive\n\n: keep-alive\n\n"
    b'data: {"id":"imgstream_5c2e","object":"image.chunk","created":1767312400,"status":"completed",'
    b'"model":"openai/gpt-image-1","data":[{"b64_json":"aGVsbG8=","revised_prompt":null}]}\n\n'
    b"data: [DONE]\n\n"
)
