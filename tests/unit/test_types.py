"""The pydantic models: wire payloads of API.md parse, params serialise as 0.1.4 did, typos raise."""

import base64
import copy
import pickle
import struct
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Dict, List, Type

import pytest
from pydantic import BaseModel, ValidationError

from meshapi import _types as T
from meshapi import types as types_pkg
from meshapi.types._base import MeshModel, RequestModel, SharedModel
from tests.unit import _payloads

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------------
# Wire payloads (API.md examples)
# --------------------------------------------------------------------------------------------------

CHAT_RESPONSE: Dict[str, Any] = {
    "id": "chatcmpl-7fQ2",
    "object": "chat.completion",
    "created": 1767312000,
    "model": "openai/gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris"},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 21, "completion_tokens": 1, "total_tokens": 22},
    "system_fingerprint": None,
}

_CHUNK_HEAD: Dict[str, Any] = {
    "id": "chatcmpl-7fQ2",
    "object": "chat.completion.chunk",
    "created": 1767312000,
    "model": "openai/gpt-4o-mini",
}
CHAT_CHUNKS: List[Dict[str, Any]] = [
    {
        **_CHUNK_HEAD,
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
    },
    {**_CHUNK_HEAD, "choices": [{"index": 0, "delta": {"content": "Paris"}, "finish_reason": None}]},
    {**_CHUNK_HEAD, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        **_CHUNK_HEAD,
        "choices": [],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 1,
            "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
        "cost": "0.0000024",
    },
]

TOOL_CALL_CHUNK: Dict[str, Any] = {
    **_CHUNK_HEAD,
    "choices": [
        {
            "index": 0,
            "delta": {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"a'},
                    }
                ]
            },
            "finish_reason": None,
        }
    ],
}

COMPARE_RESPONSE = _payloads.COMPARE

# As the SSE layer hands them over: the ``event:`` name copied into the payload under "event".
COMPARE_EVENTS: List[Dict[str, Any]] = [
    {
        "event": "meta",
        "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
        "models": ["openai/gpt-4o-mini", "anthropic/claude-3.5-haiku"],
        "comparison_model": "openai/gpt-4o-mini",
        "skip_comparison": False,
    },
    {
        "event": "model_chunk",
        "model": "openai/gpt-4o-mini",
        "delta": "Vector search ranks items by embedding similarity.",
        "latency_ms": 812,
        "error": None,
        "error_code": None,
        "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
    },
    {
        "event": "model_chunk",
        "model": "anthropic/claude-3.5-haiku",
        "delta": "It finds nearest neighbours in vector space.",
        "latency_ms": 1034,
        "error": None,
        "error_code": None,
        "usage": {"prompt_tokens": 15, "completion_tokens": 10, "total_tokens": 25},
    },
    {
        "event": "model_done",
        "results": [
            {
                "model": "openai/gpt-4o-mini",
                "content": "Vector search ranks items by embedding similarity.",
                "latency_ms": 812,
                "error": None,
                "error_code": None,
                "usage": {"prompt_tokens": 14, "completion_tokens": 11, "total_tokens": 25},
                "request_id": "req_01JBA0::openai/gpt-4o-mini",
            },
            {
                "model": "anthropic/claude-3.5-haiku",
                "content": "It finds nearest neighbours in vector space.",
                "latency_ms": 1034,
                "error": None,
                "error_code": None,
                "usage": {"prompt_tokens": 15, "completion_tokens": 10, "total_tokens": 25},
                "request_id": "req_01JBA0::anthropic/claude-3.5-haiku",
            },
        ],
    },
    {"event": "comparison_chunk", "delta": "Both answers are accurate; ", "finish_reason": None},
    {"event": "comparison_chunk", "delta": "the first is more precise.", "finish_reason": "stop"},
    {
        "event": "done",
        "comparison_id": "cmp_4e0b9d1a7c3f52e8a6b1",
        "total_latency_ms": 2210,
        "partial": False,
        "comparison_model": "openai/gpt-4o-mini",
        "comparison_fallback_used": False,
    },
    # Mode 2 (skip_comparison) event shapes.
    {"event": "model_stream_done", "model": "m", "finish_reason": None, "usage": None, "error": "boom"},
]

RESPONSES_RESPONSE = _payloads.RESPONSE

RESPONSES_EVENTS: List[Dict[str, Any]] = [
    {
        "event": "response.created",
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
    {
        "event": "response.output_text.delta",
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "msg_77",
        "output_index": 0,
        "content_index": 0,
        "delta": "Hel",
    },
    {
        "event": "response.completed",
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
                    "content": [{"type": "output_text", "text": "Hello"}],
                }
            ],
            "usage": {"input_tokens": 8, "output_tokens": 2, "total_tokens": 10},
        },
    },
]

EMBEDDINGS_RESPONSE = _payloads.EMBEDDINGS

MODELS_LIST: List[Dict[str, Any]] = [
    {
        "id": "openai/gpt-4o-mini",
        "name": "GPT-4o mini",
        "context_length": 128000,
        "is_free": False,
        "pricing": {
            "prompt_usd_per_1k": "0.00015",
            "completion_usd_per_1k": "0.0006",
            "image_usd_per_image": None,
            "discount_pct": None,
            "prompt_usd_per_1k_discounted": None,
            "completion_usd_per_1k_discounted": None,
        },
        "description": "Small, fast general-purpose model.",
        "supports_thinking": False,
        "supports_completions_api": True,
        "supports_responses_api": True,
        "model_type": "text",
        "input_modalities": ["text", "image"],
        "output_modalities": ["text"],
        "provider": "openai",
        "supports_realtime": False,
        "is_composite": False,
        "composite_models": None,
    }
]

TEMPLATE = _payloads.TEMPLATE

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PNG_B64 = base64.b64encode(PNG_BYTES).decode()

IMAGE_RESPONSE: Dict[str, Any] = {
    "created": 1767312400,
    "data": [{"b64_json": PNG_B64, "revised_prompt": None}],
    "background": "opaque",
    "output_format": "png",
    "quality": "high",
    "size": "1024x1024",
    "usage": {"prompt_tokens": 11, "completion_tokens": 4160, "total_tokens": 4171},
}

IMAGE_CHUNKS: List[Dict[str, Any]] = [
    {
        "id": "imgstream_5c2e",
        "object": "image.chunk",
        "created": 1767312400,
        "status": "processing",
        "model": "openai/gpt-image-1",
        "data": [],
    },
    {
        "id": "imgstream_5c2e",
        "object": "image.chunk",
        "created": 1767312400,
        "status": "completed",
        "model": "openai/gpt-image-1",
        "data": [{"b64_json": PNG_B64, "revised_prompt": None}],
    },
]

INIT_UPLOAD_RESPONSE: Dict[str, Any] = {
    "file_id": "6b0f4a52-3d1e-4c9a-9f27-2a8e5d71c0b4",
    "signed_url": "https://storage.example-cdn.net/uploads/6b0f4a52?X-Goog-Signature=3fa1",
    "expires_at": "2026-01-05T10:40:00Z",
}

BULK_EMBED_RESPONSE = _payloads.BULK_EMBED

RAG_FILE = _payloads.FILE_STATUS

RAG_LIST = _payloads.FILE_LIST

SEARCH_RESPONSE: Dict[str, Any] = {
    "results": [
        {
            "score": 0.8731,
            "text": "Refunds are issued within 5 business days.",
            "parent_text": "## Refunds\nRefunds are issued within 5 business days. Contact support.",
            "file_id": "6b0f4a52-3d1e-4c9a-9f27-2a8e5d71c0b4",
            "file_name": "refund-policy.md",
            "file_type": "document",
            "mime_type": "text/markdown",
            "chunk_index": 2,
            "created_at": 1767609041,
            "metadata": {"team": "support", "lang": "en"},
        }
    ]
}

BATCH_CREATE_REQUEST: Dict[str, Any] = {
    "requests": [
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
    ],
    "completion_window": "24h",
    "metadata": {"job": "nightly-triage"},
}

BATCH_OBJECT = _payloads.BATCH

BATCH_COMPLETED: Dict[str, Any] = {
    **BATCH_OBJECT,
    "status": "completed",
    "results": [
        {
            "custom_id": "ticket-101",
            "response": {"status_code": 200, "body": CHAT_RESPONSE},
            "error": None,
        },
        {"custom_id": "ticket-102", "response": None, "error": {"code": "upstream_error", "message": "x"}},
    ],
    "errors_detail": [{"custom_id": "ticket-102", "anything": True}],
}

BATCH_LIST = _payloads.BATCH_LIST

ERROR_ENVELOPE: Dict[str, Any] = {
    "error": {
        "code": "rate_limit_exceeded",
        "message": "RPM limit of 60 req/min exceeded.",
        "retry_after_seconds": 23,
    },
    "request_id": "req_01JB9A6TQ3M1X8C4V7B2N5K0ZD",
}

VALIDATION_ERROR: Dict[str, Any] = {
    "error": {
        "code": "validation_error",
        "message": "Request validation failed.",
        "details": [
            {
                "type": "less_than_equal",
                "loc": ["body", "temperature"],
                "msg": "Input should be less than or equal to 2",
                "input": 3.5,
                "ctx": {"le": "2"},
            }
        ],
    },
    "request_id": "req_01JB9AC2W1D6F0H3J5K7L9N1QX",
}

# (model, payload) for every response example above.
RESPONSE_CASES: List[Any] = [
    (T.ChatCompletionResponse, CHAT_RESPONSE),
    *[(T.ChatCompletionChunk, c) for c in [*CHAT_CHUNKS, TOOL_CALL_CHUNK]],
    (T.CompareResponse, COMPARE_RESPONSE),
    *[(T.CompareStreamEvent, e) for e in COMPARE_EVENTS],
    (T.ResponsesResponse, RESPONSES_RESPONSE),
    *[(T.ResponsesStreamEvent, e) for e in RESPONSES_EVENTS],
    (T.EmbeddingsResponse, EMBEDDINGS_RESPONSE),
    (T.ModelInfo, MODELS_LIST[0]),
    (T.TemplateSummary, TEMPLATE),
    (T.ImageGenerationResponse, IMAGE_RESPONSE),
    *[(T.ImageGenerationChunk, c) for c in IMAGE_CHUNKS],
    (T.InitUploadResponse, INIT_UPLOAD_RESPONSE),
    (T.BulkEmbedResponse, BULK_EMBED_RESPONSE),
    (T.RagFileStatus, RAG_FILE),
    (T.RagFileListResponse, RAG_LIST),
    (T.SearchResponse, SEARCH_RESPONSE),
    (T.BatchObject, BATCH_OBJECT),
    (T.BatchObject, BATCH_COMPLETED),
    (T.BatchListResponse, BATCH_LIST),
    (T.ApiErrorEnvelope, ERROR_ENVELOPE),
    (T.ApiErrorEnvelope, VALIDATION_ERROR),
]


def _case_id(case: Any) -> str:
    return case[0].__name__


# --------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=_case_id)
def test_every_example_payload_parses(case: Any) -> None:
    model, payload = case
    parsed = model.model_validate(payload)
    assert isinstance(parsed, MeshModel)


def _add_unknown_keys(value: Any) -> Any:
    """A copy of ``value`` with an unknown key added to every object, at every depth."""
    if isinstance(value, dict):
        out = {k: _add_unknown_keys(v) for k, v in value.items()}
        out["x_unexpected_field"] = {"nested": [1, 2]}
        return out
    if isinstance(value, list):
        return [_add_unknown_keys(v) for v in value]
    return value


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=_case_id)
def test_unknown_fields_anywhere_in_a_response_are_tolerated(case: Any) -> None:
    model, payload = case
    noisy = model.model_validate(_add_unknown_keys(payload))
    kept = model.model_config.get("extra") == "allow"
    assert ("x_unexpected_field" in noisy.model_dump()) is kept


def test_chat_response_fields() -> None:
    r = T.ChatCompletionResponse.model_validate(CHAT_RESPONSE)
    assert r.choices[0].message is not None
    assert r.choices[0].message.content == "Paris"
    assert r.usage is not None and r.usage.total_tokens == 22
    assert r.system_fingerprint is None


def test_chat_chunks_fields() -> None:
    chunks = [T.ChatCompletionChunk.model_validate(c) for c in CHAT_CHUNKS]
    assert chunks[0].choices[0].delta is not None and chunks[0].choices[0].delta.role == "assistant"
    assert chunks[2].choices[0].finish_reason == "stop"
    tail = chunks[3]
    assert tail.choices == [] and tail.cost == "0.0000024"
    assert tail.usage is not None and tail.usage.prompt_tokens_details == {"cached_tokens": 0}
    tool = T.ChatCompletionChunk.model_validate(TOOL_CALL_CHUNK)
    delta = tool.choices[0].delta
    assert delta is not None and delta.tool_calls is not None
    assert isinstance(delta.tool_calls[0], T.ToolCallChunk)
    assert delta.tool_calls[0].function is not None and delta.tool_calls[0].function.arguments == '{"a'


def test_chat_message_with_parts_and_tool_calls_in_a_response() -> None:
    msg = T.ChatCompletionMessage.model_validate(
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "here", "annotations": []},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA==", "x": 1}},
            ],
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": "{}", "extra": 1},
                    "thought_signature": "sig",
                    "index": 0,
                }
            ],
            "refusal": None,
        }
    )
    assert isinstance(msg.content, list) and isinstance(msg.content[1], T.ContentPartImage)
    assert msg.tool_calls is not None and msg.tool_calls[0].thought_signature == "sig"


def test_compare_response_and_events() -> None:
    r = T.CompareResponse.model_validate(COMPARE_RESPONSE)
    assert r.partial is True and r.results[1].error_code == "gateway_timeout"
    assert isinstance(r.results[0], T.ModelCompareResult)
    assert r.results[0].usage is not None and r.results[0].usage.total_tokens == 25
    events = [T.CompareStreamEvent.model_validate(e) for e in COMPARE_EVENTS]
    assert [e.event for e in events][:4] == ["meta", "model_chunk", "model_chunk", "model_done"]
    # Undeclared keys are kept (extra="allow").
    assert events[3].model_extra is not None and len(events[3].model_extra["results"]) == 2
    assert events[-1].error == "boom"


def test_responses_response_and_events() -> None:
    r = T.ResponsesResponse.model_validate(RESPONSES_RESPONSE)
    assert r.id == "resp_0c1a9e" and r.status == "completed"
    assert r.usage is not None and r.usage.total_tokens == 83
    assert r.model_extra == {"created_at": 1767312500}
    events = [T.ResponsesStreamEvent.model_validate(e) for e in RESPONSES_EVENTS]
    assert events[1].model_extra is not None and events[1].model_extra["delta"] == "Hel"
    assert events[2].response is not None and events[2].response["usage"]["total_tokens"] == 10
    assert T.ResponsesResponse.model_validate({}).id is None


def test_embeddings_response_and_floats() -> None:
    r = T.EmbeddingsResponse.model_validate(EMBEDDINGS_RESPONSE)
    assert r.usage is not None and r.usage.byok_used is False and r.usage.prompt_tokens == 4
    assert r.data[0].floats() == [0.0123, -0.4411, 0.2875, 0.0932]
    values = [0.5, -1.25, 3.0]
    packed = base64.b64encode(struct.pack("<3f", *values)).decode()
    item = T.EmbeddingItem(object="embedding", index=0, embedding=packed)
    assert item.floats() == values
    with pytest.raises(ValueError, match="whole number of float32"):
        T.EmbeddingItem(object="embedding", index=3, embedding=base64.b64encode(b"abc").decode()).floats()
    with pytest.raises(ValueError, match="not valid base64"):
        T.EmbeddingItem(object="embedding", index=3, embedding="@@@").floats()


def test_byok_embeddings_usage_without_counts() -> None:
    usage = T.EmbeddingsUsage.model_validate({"byok_used": True, "fallback_triggered": False})
    assert usage.prompt_tokens is None and usage.byok_used is True


def test_models_list() -> None:
    models = [T.ModelInfo.model_validate(m) for m in MODELS_LIST]
    m = models[0]
    assert m.pricing is not None and m.pricing.prompt_usd_per_1k == "0.00015"
    assert m.provider == "openai" and m.is_composite is False and m.model_type == "text"
    later = T.ModelInfo.model_validate(
        {
            "id": "x/y",
            "name": "Y",
            "is_free": True,
            "context_window": 1000,
            "supports_tools": True,
            "pricing": {"prompt_usd_per_1m": "0.15", "pricing_unit": "per_token", "request_usd": "0"},
        }
    )
    assert later.context_window == 1000 and later.supports_tools is True
    assert later.pricing is not None and later.pricing.prompt_usd_per_1m == "0.15"
    page = T.ModelsPage.model_validate({"items": MODELS_LIST, "total": 1, "limit": 20, "offset": 0})
    assert page.items[0].id == "openai/gpt-4o-mini"


def test_template_summary() -> None:
    t = T.TemplateSummary.model_validate({**TEMPLATE, "team_id": "team_1", "creator_email": "a@b.c"})
    assert t.is_global is False and t.variables == ["product"]
    assert t.team_id == "team_1" and t.org_id is None


def test_image_response_chunks_and_bytes(tmp_path: Path) -> None:
    r = T.ImageGenerationResponse.model_validate(IMAGE_RESPONSE)
    assert r.data[0].image_bytes() == PNG_BYTES
    assert r.usage is not None and r.usage.total_tokens == 4171
    out = r.data[0].save(tmp_path / "out.png")
    assert isinstance(out, Path) and out.read_bytes() == PNG_BYTES
    assert r.data[0].save(str(tmp_path / "again.png")).read_bytes() == PNG_BYTES

    first, last = (T.ImageGenerationChunk.model_validate(c) for c in IMAGE_CHUNKS)
    assert first.data == [] and first.status == "processing"
    assert last.data[0].image_bytes() == PNG_BYTES
    assert T.ImageGenerationChunk.model_validate({"created": 1}).object == "image.chunk"


def test_image_bytes_from_data_urls_and_errors() -> None:
    assert T.ImageItem(url=f"data:image/png;base64,{PNG_B64}").image_bytes() == PNG_BYTES
    assert T.ImageItem(url="data:text/plain,hi%20there").image_bytes() == b"hi there"
    with pytest.raises(ValueError, match="remote https URL") as info:
        T.ImageItem(url="https://cdn.example/img.png?sig=SECRET").image_bytes()
    assert "SECRET" not in str(info.value)
    with pytest.raises(ValueError, match="no image data"):
        T.ImageItem().image_bytes()
    with pytest.raises(ValueError, match="not valid base64"):
        T.ImageItem(b64_json="!!!").image_bytes()
    with pytest.raises(ValueError, match="no ','"):
        T.ImageItem(url="data:image/png;base64").image_bytes()


def test_rag_payloads() -> None:
    assert T.InitUploadResponse.model_validate(INIT_UPLOAD_RESPONSE).expires_at == "2026-01-05T10:40:00Z"
    bulk = T.BulkEmbedResponse.model_validate(BULK_EMBED_RESPONSE)
    assert bulk.results[1].chunk_count == 14
    f = T.RagFileStatus.model_validate(RAG_FILE)
    assert f.total_cost_usd == pytest.approx(0.0000162)
    listing = T.RagFileListResponse.model_validate(RAG_LIST)
    assert listing.files[0].file_id == f.file_id and listing.limit == 50
    s = T.SearchResponse.model_validate(SEARCH_RESPONSE)
    assert s.results[0].metadata == {"team": "support", "lang": "en"}
    bare = T.SearchResult.model_validate({"score": 1.0, "text": "t", "parent_text": "p"})
    assert bare.metadata == {}


def test_batches() -> None:
    b = T.BatchObject.model_validate(BATCH_OBJECT)
    assert b.request_counts is not None and b.request_counts.total == 2
    assert b.expires_at == 1767696400 and b.metadata == {"job": "nightly-triage"}
    done = T.BatchObject.model_validate(BATCH_COMPLETED)
    assert done.results is not None
    ok, failed = done.results
    assert ok.response is not None and ok.response.status_code == 200
    assert ok.response.body is not None
    assert T.ChatCompletionResponse.model_validate(ok.response.body).choices[0].index == 0
    assert failed.error is not None and failed.error.code == "upstream_error"
    assert done.errors_detail == [{"custom_id": "ticket-102", "anything": True}]
    listing = T.BatchListResponse.model_validate(BATCH_LIST)
    assert listing.data[0].usage_synced is True and listing.has_more is False
    # Untyped keys still arrive as attributes (extra="allow").
    assert T.BatchObject.model_validate({"id": "b", "brand_new": 1}).model_extra == {"brand_new": 1}


def test_error_envelopes() -> None:
    e = T.ApiErrorEnvelope.model_validate(ERROR_ENVELOPE)
    assert e.error.retry_after_seconds == 23 and e.request_id.startswith("req_")
    v = T.ApiErrorEnvelope.model_validate(VALIDATION_ERROR)
    assert v.error.details is not None and v.error.details[0]["loc"] == ["body", "temperature"]


# --------------------------------------------------------------------------------------------------
# Serialisation of params (0.1.4 rules)
# --------------------------------------------------------------------------------------------------


def test_fields_with_defaults_are_always_sent() -> None:
    assert T.ResponsesParams(input="hi").to_body() == {"input": "hi", "stream": False}
    assert T.CompareParams(models=["a", "b"], messages=[{"role": "user", "content": "q"}]).to_body() == {
        "models": ["a", "b"],
        "messages": [{"role": "user", "content": "q"}],
        "stream": False,
        "skip_comparison": False,
    }
    assert T.BatchRequestItem(custom_id="c", body={"model": "m"}).to_body() == {
        "custom_id": "c",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m"},
    }
    assert T.ImageOptions().to_body() == {
        "n": 1,
        "size": "1024x1024",
        "quality": "high",
        "response_format": "url",
    }
    assert T.AudioOutputOptions().to_body() == {"voice": "alloy", "format": "wav"}
    params = T.ChatCompletionParams(messages=[{"role": "user", "content": "x"}], image={}, audio={})
    assert params.to_body()["image"]["n"] == 1 and params.to_body()["audio"]["voice"] == "alloy"


def test_unset_later_fields_leave_the_body_unchanged() -> None:
    body = T.ChatCompletionParams(messages=[{"role": "user", "content": "hi"}]).to_body()
    assert body == {"messages": [{"role": "user", "content": "hi"}]}
    assert T.EmbeddingsParams(input="x").to_body() == {"input": "x"}
    assert T.ImageGenerationParams(prompt="p").to_body() == {"prompt": "p"}
    assert T.CreateTemplateParams(name="n").to_body() == {"name": "n"}


def test_later_fields_are_sent_when_set() -> None:
    body = T.ChatCompletionParams(
        messages=[{"role": "assistant", "content": None, "reasoning_details": [{"type": "r"}]}],
        response_format={"type": "json_object"},
        timeout=12.5,
        models=["a", "b"],
        cache=False,
        transforms=["middle-out"],
        reasoning_effort="low",
        n=2,
        logprobs=True,
        top_logprobs=3,
        parallel_tool_calls=False,
        stream_options={"include_usage": True},
    ).to_body()
    assert body["timeout"] == 12.5 and body["cache"] is False and body["n"] == 2
    assert body["messages"] == [{"role": "assistant", "reasoning_details": [{"type": "r"}]}]
    rbody = T.ResponsesParams(
        input="x", timeout=3, previous_response_id="resp_1", background=True, max_tool_calls=2, text={}
    ).to_body()
    assert rbody["previous_response_id"] == "resp_1" and rbody["background"] is True
    assert T.CompareParams(models=["a"], messages=[], cache=False).to_body()["cache"] is False


def test_nested_dicts_and_models_are_accepted() -> None:
    p = T.ChatCompletionParams(
        messages=[
            {"role": "system", "content": "be brief"},
            T.ChatMessage(role="user", content=[T.ContentPartText(type="text", text="hi")]),
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                    {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
                    {"type": "video_url", "video_url": {"url": "https://x/v.mp4"}, "fps": "1"},
                ],
            },
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "42"},
        ],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        tool_choice={"type": "function", "function": {"name": "f"}},
    )
    assert isinstance(p.messages[2].content, list)
    assert isinstance(p.messages[2].content[0], T.ContentPartImage)
    assert isinstance(p.tool_choice, T.ToolChoiceObject)
    assert (
        T.ChatCompletionParams(messages=[{"role": "user", "content": "hi"}], tool_choice="auto").tool_choice
        == "auto"
    )
    e = T.EmbeddingsParams(
        input=[{"type": "image_url", "image_url": {"url": "u"}}], provider={"order": ["a"]}
    )
    assert isinstance(e.provider, T.ProviderPreferences)
    assert T.EmbeddingsParams(input=[[1, 2], [3]], provider="openai").to_body()["provider"] == "openai"


def test_responses_tools_union_keeps_builtin_extras() -> None:
    p = T.ResponsesParams(
        input=[{"role": "user", "content": "x"}],
        tools=[
            {"type": "function", "name": "f", "strict": True},
            {"type": "web_search_preview", "search_context_size": "low"},
        ],
    )
    assert p.tools is not None
    assert isinstance(p.tools[0], T.ResponsesFunctionTool) and isinstance(p.tools[1], T.BuiltinTool)
    assert p.to_body()["tools"][1] == {"type": "web_search_preview", "search_context_size": "low"}


def test_assistant_reply_round_trips_into_the_history() -> None:
    reply = T.ChatCompletionMessage.model_validate(
        {
            "role": "assistant",
            "content": "ok",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            "audio": {"id": "audio_1"},
        }
    )
    again = T.ChatMessage(**reply.model_dump())
    assert again.to_body()["audio"] == {"id": "audio_1"}
    assert T.ChatMessage.model_validate(reply.model_dump()).tool_calls == reply.tool_calls


# --------------------------------------------------------------------------------------------------
# Typos raise, constraints hold
# --------------------------------------------------------------------------------------------------

MINIMAL_PARAMS: Dict[str, Dict[str, Any]] = {
    "ChatCompletionParams": {"messages": [{"role": "user", "content": "x"}]},
    "ChatMessage": {"role": "user"},
    "Tool": {"type": "function", "function": {"name": "f"}},
    "ToolFunction": {"name": "f"},
    "ToolChoiceObject": {"type": "function", "function": {"name": "f"}},
    "ToolChoiceFunction": {"name": "f"},
    "ImageOptions": {},
    "AudioOutputOptions": {},
    "EmbeddingsParams": {"input": "x"},
    "ProviderPreferences": {},
    "ImageEmbeddingUrl": {"url": "u"},
    "VideoEmbeddingUrl": {"url": "u"},
    "MultimodalEmbeddingInput": {"type": "text", "text": "t"},
    "ResponsesParams": {"input": "x"},
    "ResponsesFunctionTool": {"name": "f"},
    "ModelOverride": {"model": "m"},
    "CompareParams": {"models": ["a"], "messages": []},
    "BatchRequestItem": {"custom_id": "c", "body": {}},
    "CreateBatchParams": {"requests": []},
    "ListModelsParams": {},
    "ModelSearchParams": {},
    "UsageQueryParams": {},
    "CreateTemplateParams": {"name": "n"},
    "UpdateTemplateParams": {},
    "CreateMemoryParams": {"slug": "prefs"},
    "UpdateMemoryParams": {},
    "CreateMemoryItemParams": {"item_type": "fact", "content": "c"},
    "UpdateMemoryItemParams": {},
    "ImageGenerationParams": {"prompt": "p"},
    "ImageEditParams": {"model": "m", "image": "data:image/png;base64,AA=="},
    "ImageRef": {"url": "u"},
    "InitUploadRequest": {"file_name": "a.md", "mime_type": "text/markdown"},
    "BulkEmbedRequest": {"file_ids": ["f"]},
    "SearchRequest": {"query": "q"},
    # 0.1.5 .. 0.1.12 families
    "SpeechParams": {"input": "x"},
    "VoiceSettings": {},
    "PronunciationDictionaryLocator": {"pronunciation_dictionary_id": "p", "version_id": "v"},
    "TranscriptionParams": {"model": "m"},
    "TranscriptionTranslateParams": {},
    "AudioTranslationsParams": {"model": "m"},
    "ListVoicesParams": {},
    "VideoContentItem": {"type": "text", "text": "t"},
    "VideoGenerationParams": {"model": "m", "content": [{"type": "text", "text": "t"}]},
    "ListVideoGenerationsParams": {},
    "ModerationParams": {"input": "x"},
    "ModerationImageUrl": {"url": "u"},
    "ModerationInputItem": {"type": "text", "text": "t"},
    "WebSearchParams": {"query": "q"},
    "RouterSelectParams": {"messages": [{"role": "user", "content": "x"}]},
}


def _model_classes() -> List[Type[BaseModel]]:
    out = []
    for name in types_pkg.__all__:
        obj = getattr(types_pkg, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            out.append(obj)
    return out


def test_every_request_model_is_listed_here() -> None:
    request_models = {
        c.__name__ for c in _model_classes() if issubclass(c, RequestModel) and c.__name__ != "BuiltinTool"
    }
    assert request_models == set(MINIMAL_PARAMS)


@pytest.mark.parametrize("name", sorted(MINIMAL_PARAMS))
def test_misspelled_keyword_on_a_param_model_raises(name: str) -> None:
    model = getattr(T, name)
    model(**MINIMAL_PARAMS[name])  # valid as given
    with pytest.raises(ValidationError, match="extra"):
        model(**MINIMAL_PARAMS[name], temprature=0.5)
    with pytest.raises(ValidationError):
        model.model_validate({**MINIMAL_PARAMS[name], "temprature": 0.5})


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "contnet": "hi"},
        {"role": "user", "content": [{"type": "text", "txt": "hi"}]},
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u", "detial": "low"}}]},
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "A", "fromat": "wav"}}]},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {}, "idx": 0}]},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}", "x": 1}}
            ],
        },
    ],
)
def test_typos_inside_messages_raise(message: Dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        T.ChatCompletionParams(messages=[message])
    with pytest.raises(ValidationError):
        T.CompareParams(models=["a"], messages=[message])


@pytest.mark.parametrize(
    "model",
    [T.ContentPartText, T.ImageDetail, T.InputAudio, T.ToolCall, T.ToolCallFunction, T.TemplateMessage],
)
def test_shared_models_strict_when_built_tolerant_when_parsed(model: Type[SharedModel]) -> None:
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        model(unknown_keyword=1)
    samples: Dict[Any, Dict[str, Any]] = {
        T.ContentPartText: {"type": "text", "text": "t"},
        T.ImageDetail: {"url": "u"},
        T.InputAudio: {"format": "wav"},
        T.ToolCall: {"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}},
        T.ToolCallFunction: {"name": "f", "arguments": ""},
        T.TemplateMessage: {"role": "user", "content": "c"},
    }
    parsed = model.model_validate({**samples[model], "unknown_keyword": 1})
    if model in (T.ToolCall, T.ToolCallFunction):  # chat response models keep what they do not know
        assert parsed.model_extra == {"unknown_keyword": 1}
        assert parsed.model_dump(exclude={"unknown_keyword"}) == model(**samples[model]).model_dump()
    else:
        assert parsed == model(**samples[model])


def test_builtin_tool_keeps_extra_keys() -> None:
    tool = T.BuiltinTool(type="file_search", vector_store_ids=["vs_1"])
    assert tool.to_body() == {"type": "file_search", "vector_store_ids": ["vs_1"]}
    # any hosted type passes (new ones appear faster than releases); a function tool is not a BuiltinTool
    assert T.BuiltinTool(type="mcp", server_label="x", allowed_tools=None).to_body() == {
        "type": "mcp",
        "server_label": "x",
        "allowed_tools": None,
    }
    with pytest.raises(ValidationError):
        T.BuiltinTool(type="function")


@pytest.mark.parametrize(
    "build",
    [
        lambda: T.ImageOptions(n=0),
        lambda: T.ImageOptions(n=11),
        lambda: T.ResponsesParams(input="x", temperature=2.5),
        lambda: T.ResponsesParams(input="x", top_p=1.5),
        lambda: T.ResponsesParams(input="x", max_output_tokens=0),
        lambda: T.ResponsesParams(input="x", user="u" * 257),
        lambda: T.ResponsesParams(input="x", timeout=0),
        lambda: T.ResponsesParams(input="x", max_tool_calls=11),
        lambda: T.ChatCompletionParams(messages=[], timeout=-1),
        lambda: T.ChatCompletionParams(messages=[], n=0),
        lambda: T.ChatCompletionParams(messages=[], reasoning_effort="extreme"),
        lambda: T.ChatCompletionParams(messages=[{"role": "robot", "content": "x"}]),
        lambda: T.ModelOverride(model="m", temperature=-0.1),
        lambda: T.CompareParams(models=["a"], messages=[], max_tokens=0),
        lambda: T.EmbeddingsParams(input="x", dimensions=0),
        lambda: T.EmbeddingsParams(input="x", user="u" * 257),
        lambda: T.BulkEmbedRequest(file_ids=[]),
        lambda: T.BulkEmbedRequest(file_ids=[str(i) for i in range(101)]),
        lambda: T.ImageGenerationParams(prompt="p", output_compression=101),
        lambda: T.ImageGenerationParams(prompt="p", partial_images=4),
        lambda: T.AudioOutputOptions(format="aiff"),
    ],
)
def test_constraints(build: Any) -> None:
    with pytest.raises(ValidationError):
        build()


# --------------------------------------------------------------------------------------------------
# Module-level properties
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", _model_classes(), ids=lambda c: c.__name__)
def test_type_hints_resolve(model: Type[BaseModel]) -> None:
    # Fails on Python 3.9 if any annotation uses ``X | None`` or builtin generics pydantic can't see.
    hints = typing.get_type_hints(model)
    assert set(model.model_fields) <= set(hints)


@pytest.mark.parametrize("model", _model_classes(), ids=lambda c: c.__name__)
def test_protected_namespaces_disabled(model: Type[BaseModel]) -> None:
    assert model.model_config.get("protected_namespaces") == ()


def test_pickle_and_copy_of_a_parsed_response() -> None:
    r = T.ChatCompletionResponse.model_validate(CHAT_RESPONSE)
    r._request_id = "req_1"
    r._response = object()  # a live object that must not travel
    again = pickle.loads(pickle.dumps(r))
    assert again.model_dump() == r.model_dump()
    assert again._request_id == "req_1" and again._response is None
    assert copy.deepcopy(r).choices == r.choices
    batch = pickle.loads(pickle.dumps(T.BatchObject.model_validate(BATCH_COMPLETED)))
    assert batch.results is not None and batch.results[0].custom_id == "ticket-101"


def test_types_module_reexports_everything_sorted() -> None:
    assert T.__all__ == sorted(T.__all__)
    assert set(T.__all__) == set(types_pkg.__all__)
    for name in (
        "ToolCallFunctionChunk",
        "ToolCallChunk",
        "TemplateMessage",
        "ModelCompareResult",
        "ImageGenerationChunk",
        "ChatRole",
        "ContentPart",
        "ToolChoice",
    ):
        assert name in T.__all__ and getattr(T, name) is getattr(types_pkg, name)


def test_import_emits_no_warnings() -> None:
    code = (
        "import meshapi.types, meshapi._types\n"
        "m = meshapi.types.ModelInfo(id='a', name='b', is_free=True, model_type='text')\n"
        "meshapi.types.CompareParams(models=['a'], messages=[], model_overrides=[{'model': 'a'}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


# --- the families load on first use (cold start) --------------------------------------------------------
def test_types_all_names_each_family_once_and_the_families_agree() -> None:
    import importlib

    import meshapi.types as types

    assert types.__all__ == sorted(types._MODULE_OF)
    assert types.chat.ChatMessage is types.ChatMessage  # the families are attributes too
    assert types.videos.VideoTaskResponse is types.VideoTaskResponse
    for family, names in types._FAMILIES.items():
        module = importlib.import_module(f"meshapi.types.{family}")
        assert set(names) <= set(module.__all__), family
        for name in names:
            assert getattr(types, name) is getattr(module, name)


GENERATED_START = "# --- generated from the families' __all__: do not edit (see the module docstring) ---"
GENERATED_END = "# --- end of the generated text ---"


def render_family_table() -> str:
    """``_FAMILIES`` and ``__all__`` of ``meshapi.types`` as its families' ``__all__`` make them (names
    sorted, wrapped at the line length)."""
    import importlib
    import pkgutil
    import textwrap

    import meshapi.types as types

    def wrapped(names: List[str], indent: str) -> List[str]:
        text = " ".join(f'"{name}",' for name in names)
        return textwrap.wrap(
            text, 110, initial_indent=indent, subsequent_indent=indent, break_long_words=False
        )

    families = sorted(
        m.name for m in pkgutil.iter_modules(types.__path__) if m.name not in types._NOT_FAMILIES
    )
    lines = ["# fmt: off", "_FAMILIES: Dict[str, Tuple[str, ...]] = {"]
    offered: Dict[str, str] = {}
    for family in families:
        module = importlib.import_module(f"meshapi.types.{family}")
        names = sorted(name for name in module.__all__ if name not in types._KEPT_OUT)
        for name in names:
            assert name not in offered, f"{name} is in {offered.get(name)} and {family}"
            offered[name] = family
        lines += [f'    "{family}": (', *wrapped(names, " " * 8), "    ),"]
    lines += ["}", "__all__ = [", *wrapped(sorted(offered), " " * 4), "]", "# fmt: on"]
    return "\n".join(lines)


def test_the_family_table_is_generated_from_the_families() -> None:
    import meshapi.types as types

    source = Path(types.__file__).read_text(encoding="utf-8")
    assert source.count(GENERATED_START) == 1 and source.count(GENERATED_END) == 1
    kept = source.split(GENERATED_START + "\n")[1].split("\n" + GENERATED_END)[0]
    expected = render_family_table()
    assert kept == expected, f"paste between the generated lines of meshapi/types/__init__.py:\n{expected}"
    assert types.__all__ == sorted(types.__all__)
    every = {name for family in types._FAMILIES for name in getattr(types, family).__all__}
    assert set(types._KEPT_OUT) <= every, "a name kept out is in no family any more"


def test_a_chat_program_loads_only_the_chat_family_and_builds_no_validator_at_import() -> None:
    code = (
        "import sys\n"
        "from meshapi import MeshAPI\n"
        "client = MeshAPI(base_url='http://127.0.0.1:9', token='t')\n"
        "client.chat.completions\n"
        "from meshapi.types import ChatCompletionResponse\n"
        "from meshapi import ChatCompletionChunk, ChatMessage\n"
        "loaded = sorted(m.split('.')[-1] for m in sys.modules if m.startswith('meshapi.types.'))\n"
        "print(' '.join(loaded))\n"
        "import pydantic\n"
        "built = sorted(\n"
        "    f'{m.__module__}.{m.__qualname__}' for mod in list(sys.modules.values())\n"
        "    if getattr(mod, '__name__', '').startswith('meshapi.') for m in vars(mod).values()\n"
        "    if isinstance(m, type) and issubclass(m, pydantic.BaseModel) and m.__pydantic_complete__\n"
        ")\n"
        "print(ChatCompletionResponse.__pydantic_complete__)\n"
        "print(' '.join(built))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded, complete, built = out.split("\n")[:3]
    # caching: the cache_control bases of chat's models; _chat_parts: its content parts (a private module)
    assert loaded.split() == ["_base", "_chat_parts", "caching", "chat"]
    assert complete == "False"  # built on the first validation, not at import
    assert built == ""  # no model of the SDK, base classes included, builds its schema at import
