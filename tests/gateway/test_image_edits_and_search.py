"""/v1/images/edits changes the given PNG; /v1/models/search filters, sorts, pages; the new catalog."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any, Dict, Tuple

import httpx

from meshapi_gateway.fakes import png

from .conftest import assert_envelope

NEW_MODELS = {
    "google/gemini-3-flash-preview": ("text", {"text", "image", "audio", "video"}, {"text"}),
    "openai/gpt-4o-mini-audio-preview": ("text", {"text", "audio"}, {"text", "audio"}),
    "sarvam/bulbul:v2": ("audio", {"text"}, {"audio"}),
    "sarvam/saaras:v3": ("audio", {"audio"}, {"text"}),
    "byteplus/seedance-1-5-pro-251215": ("video", {"text", "image"}, {"video"}),
    "omni-moderation-latest": ("moderation", {"text", "image"}, {"text"}),
}


def _png(width: int, height: int, colour: Tuple[int, int, int]) -> bytes:
    return png.encode_rgb(width, height, bytes(colour) * (width * height))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _edit(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/v1/images/edits", json={"model": "openai/gpt-image-1", **body})


def _pixels(item: Dict[str, Any]) -> Tuple[int, int, bytes]:
    data = item["b64_json"] if "b64_json" in item else item["url"].split(",", 1)[1]
    return png.decode_rgb(base64.b64decode(data))


def test_edit_changes_the_given_png_deterministically(client: httpx.Client) -> None:
    source = _png(20, 10, (200, 200, 200))
    response = _edit(client, image="data:image/png;base64," + _b64(source), prompt="make it sunset orange")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["size"] == "20x10" and body["output_format"] == "png" and body["usage"]["total_tokens"] > 0
    width, height, rgb = _pixels(body["data"][0])
    assert (width, height) == (20, 10) and rgb != bytes((200, 200, 200)) * 200
    again = _edit(client, image=_b64(source), prompt="make it sunset orange").json()  # bare base64 too
    assert again["data"] == body["data"]
    other = _edit(client, image={"url": "data:image/png;base64," + _b64(source)}, prompt="blue").json()
    assert other["data"] != body["data"]
    two = _edit(client, image=_b64(source), prompt="x", n=2, response_format="url", size="64x64").json()
    assert len(two["data"]) == 2 and two["data"][0]["url"].startswith("data:image/png;base64,")
    assert _pixels(two["data"][0])[:2] == (64, 64) and two["data"][0] != two["data"][1]


def test_inpaint_only_changes_the_masked_area_and_mix_blends(client: httpx.Client) -> None:
    source = _png(4, 2, (10, 10, 10))
    mask = png.encode_rgb(4, 2, bytes((255, 255, 255)) * 4 + bytes((0, 0, 0)) * 4)  # top row light
    body = _edit(client, image=_b64(source), mask=_b64(mask), prompt="paint", operation="inpaint").json()
    _, _, rgb = _pixels(body["data"][0])
    assert rgb[12:] == bytes((10, 10, 10)) * 4 and rgb[:12] != bytes((10, 10, 10)) * 4
    white = _png(4, 2, (250, 250, 250))
    plain = _pixels(_edit(client, image=_b64(source), prompt="mix").json()["data"][0])[2]
    mixed = _pixels(
        _edit(
            client, image=_b64(source), prompt="mix", operation="mix", reference_images=[_b64(white)]
        ).json()["data"][0]
    )[2]
    assert mixed[0] > plain[0]  # the white reference brightened the result


def test_edit_errors(client: httpx.Client) -> None:
    good = _b64(_png(2, 2, (1, 2, 3)))
    assert_envelope(_edit(client, image="https://example.com/cat.png", prompt="x"), 400, "invalid_request")
    assert_envelope(_edit(client, image="bm90IGEgcG5n", prompt="x"), 400, "invalid_request")
    assert_envelope(_edit(client, image=good, prompt=""), 400, "invalid_request")
    assert_envelope(_edit(client, image=good, prompt="x", operation="inpaint"), 400, "invalid_request")
    assert_envelope(
        _edit(client, image=good, prompt="x", operation="upscale"), 400, "model_capability_not_supported"
    )
    no_edit = client.post("/v1/images/edits", json={"model": "openai/gpt-4o", "image": good, "prompt": "x"})
    assert_envelope(no_edit, 400, "model_capability_not_supported")
    assert client.post("/v1/images/edits", json={"model": "openai/gpt-image-1"}).status_code == 422


def test_the_png_decoder_reads_filtered_rows() -> None:
    # Row 0 uses the Sub filter, row 1 the Up filter: both must decode back to the same pixels.
    rows = [bytes([1, 10, 20, 30, 5, 5, 5]), bytes([2, 1, 1, 1, 2, 2, 2])]
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    data = png.PNG_SIGNATURE + png._chunk(b"IHDR", ihdr) + png._chunk(b"IDAT", zlib.compress(b"".join(rows)))
    data += png._chunk(b"IEND", b"")
    assert png.decode_rgb(data) == (2, 2, bytes([10, 20, 30, 15, 25, 35, 11, 21, 31, 17, 27, 37]))


def test_the_catalog_holds_the_0_1_12_models(client: httpx.Client) -> None:
    for model_id, (kind, inputs, outputs) in NEW_MODELS.items():
        info = client.get(f"/v1/models/{model_id}").json()
        assert info["model_type"] == kind, model_id
        assert set(info["input_modalities"]) == inputs and set(info["output_modalities"]) == outputs
        assert isinstance(info["pricing"]["prompt_usd_per_1k"], str)
    assert (
        client.get("/v1/models/byteplus/seedance-1-5-pro-251215").json()["supports_video_generation"] is True
    )
    audio = {m["id"] for m in client.get("/v1/models", params={"type": "audio"}).json()}
    assert {"sarvam/bulbul:v2", "sarvam/saaras:v3"} <= audio
    assert (
        client.get("/v1/models/openai/gpt-4o-mini-audio-preview").json()["pricing"]["audio_output_usd_per_1m"]
        == "20"
    )


def test_model_search_filters_sorts_and_pages(client: httpx.Client) -> None:
    page = client.get("/v1/models/search", params={"q": "gemini"}).json()
    assert {m["id"] for m in page["items"]} == {"google/gemini-2.5-flash", "google/gemini-3-flash-preview"}
    assert page["total"] == 2 and page["facets"]["brand"] == {"google": 2}
    assert "sarvam" in page["brands"]
    video_out = client.get("/v1/models/search", params={"output_modality": "video"}).json()
    assert [m["id"] for m in video_out["items"]] == ["byteplus/seedance-1-5-pro-251215"]
    audio_in = client.get(
        "/v1/models/search", params=[("input_modality", "audio"), ("input_modality", "text")]
    ).json()
    assert "openai/gpt-4o-mini-audio-preview" in {m["id"] for m in audio_in["items"]}
    assert all({"audio", "text"} <= set(m["input_modalities"]) for m in audio_in["items"])
    by_price = client.get(
        "/v1/models/search", params={"sort": "price", "output_modality": "text", "order": "desc", "limit": 3}
    ).json()
    prices = [float(m["pricing"]["completion_usd_per_1m"]) for m in by_price["items"]]
    assert prices == sorted(prices, reverse=True) and by_price["limit"] == 3 and by_price["total"] > 3
    first = client.get("/v1/models/search", params={"sort": "context_length", "limit": 2}).json()
    second = client.get(
        "/v1/models/search", params={"sort": "context_length", "limit": 2, "offset": 2}
    ).json()
    assert first["total"] == second["total"] and not {m["id"] for m in first["items"]} & {
        m["id"] for m in second["items"]
    }
    assert client.get("/v1/models/search", params={"discounted": "true"}).json()["total"] == 0
    assert_envelope(
        client.get("/v1/models/search", params={"sort": "price"}), 400, "invalid_search_parameter"
    )
    assert_envelope(
        client.get("/v1/models/search", params={"sort": "speed"}), 400, "invalid_search_parameter"
    )
    assert_envelope(client.get("/v1/models/search", params={"order": "up"}), 400, "invalid_search_parameter")
