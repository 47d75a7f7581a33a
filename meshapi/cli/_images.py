"""``meshapi images generate|edit``: images into PNG files.

The gateway returns PNG images and the SDK carries no image library to convert them, so the output
name must end in ``.png``: any other name (``x.jpg``, ``x.webp``, ``x.gif``, no extension) is refused
before anything is sent (exit 2), with a line that names the file and the fix. The returned bytes are
still checked before anything is written, so a gateway that sent something else is reported (exit 1,
no file) instead of writing it under a ``.png`` name. ``--size`` is checked (``WIDTHxHEIGHT``, 1 to
4096 each) and the pixels actually received are shown; existing files are never overwritten without
``--force``. ``images edit`` sends an image file (and a mask) with the operation and writes the edited
image.
"""

from __future__ import annotations

import pathlib
from typing import Any, Dict, List, Optional, Tuple

from .._errors import APIConnectionError, APIResponseValidationError
from ._args import Commands, add_budget, existing_file, output_path, positive_int
from ._context import Context
from ._failures import EXIT_OK, UsageError

__all__ = ["DEFAULT_IMAGE_MODEL", "png_output", "register", "run_images_edit", "run_images_generate"]

DEFAULT_IMAGE_MODEL = "openai/gpt-image-1"
_OPERATIONS = ["edit", "inpaint", "outpaint", "mix", "reframe", "upscale", "remove_background"]


def register(commands: Commands) -> None:
    images = commands.group("images", help="image generation", dest="images_command")
    generate = images.leaf(
        "generate",
        help="generate an image into a file",
        handler=run_images_generate,
        action="generating the image",
    )
    add_budget(generate)
    generate.add_argument("prompt", help="what the image shows")
    generate.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="PNG file to write (a .png name: the gateway returns PNG images)",
    )
    generate.add_argument(
        "-m", "--model", default=DEFAULT_IMAGE_MODEL, help=f"model id (default {DEFAULT_IMAGE_MODEL})"
    )
    generate.add_argument("--size", help="WIDTHxHEIGHT in pixels, e.g. 1024x1024")
    generate.add_argument("--force", action="store_true", help="overwrite existing files")
    generate.add_argument("-n", type=positive_int, default=1, help="number of images (files get -1, -2, ...)")

    edit = images.leaf(
        "edit", help="edit an image file into a new file", handler=run_images_edit, action="editing the image"
    )

    add_budget(edit)
    edit.add_argument("image", metavar="IMAGE", help="the image to edit (PNG, JPEG, ...)")
    edit.add_argument("-p", "--prompt", default="", help="what to change")
    edit.add_argument("-o", "--output", required=True, metavar="PATH", help="PNG file to write (a .png name)")
    edit.add_argument(
        "-m", "--model", default=DEFAULT_IMAGE_MODEL, help=f"model id (default {DEFAULT_IMAGE_MODEL})"
    )
    edit.add_argument("--operation", default="edit", choices=_OPERATIONS, help="what to do (default edit)")
    edit.add_argument("--mask", metavar="FILE", help="mask image (inpaint)")


def _image_bytes(context: Context, item: Any) -> bytes:
    try:
        data: bytes = item.image_bytes()
        return data
    except ValueError:
        if not item.url:
            raise
    # Hosted at a URL: fetch it without the API key (it is a plain download).
    import httpx

    context.action = "downloading the image"
    try:
        response = httpx.get(item.url, timeout=60.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise APIConnectionError(f"could not download the image from its URL: {type(exc).__name__}") from None
    return response.content


def _output_paths(output: str, count: int) -> List[pathlib.Path]:
    path = pathlib.Path(output)
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{index}{path.suffix}") for index in range(1, count + 1)]


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAX_IMAGE_SIDE = 4096


def _check_size(size: str) -> Tuple[int, int]:
    """``WxH`` as two positive pixel counts (a usage error otherwise)."""
    width_text, sep, height_text = size.lower().partition("x")
    if sep and width_text.isdigit() and height_text.isdigit():
        width, height = int(width_text), int(height_text)
        if 1 <= width <= _MAX_IMAGE_SIDE and 1 <= height <= _MAX_IMAGE_SIDE:
            return width, height
    raise UsageError(
        f"--size must be WIDTHxHEIGHT in pixels, each 1 to {_MAX_IMAGE_SIDE} (e.g. 1024x1024), got {size!r}"
    )


def png_output(raw: str) -> pathlib.Path:
    """``raw`` as the PNG file to write: a ``UsageError`` (before any call) unless it ends in ``.png``."""
    path = output_path(raw)
    if path.suffix.lower() != ".png":
        raise UsageError(
            f"-o {raw}: the gateway returns PNG images and meshapi does not convert them; "
            f"name the file .png (e.g. {path.stem or 'image'}.png)"
        )
    return path


def _png_size(data: bytes) -> Optional[Tuple[int, int]]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _kind_of(data: bytes) -> str:
    known = {b"\xff\xd8\xff": "JPEG", b"RIFF": "WEBP", b"GIF8": "GIF"}
    return next((kind for magic, kind in known.items() if data.startswith(magic)), "unknown")


def _check_png(data: bytes, request_id: Optional[str]) -> None:
    if not data.startswith(_PNG_MAGIC):
        raise APIResponseValidationError(
            f"the gateway returned {_kind_of(data)} data, not a PNG image; nothing was written",
            request_id=request_id or "",
        )


def run_images_generate(context: Context) -> int:
    args, ui = context.args, context.ui
    png_output(args.output)
    requested = _check_size(args.size) if args.size else None
    paths = _output_paths(args.output, args.n)
    existing = [str(path) for path in paths if path.exists()]
    if existing and not args.force:
        raise UsageError(f"{', '.join(existing)} already exists; pass --force to overwrite")
    fields: Dict[str, Any] = {"prompt": args.prompt, "model": args.model, "response_format": "b64_json"}
    if args.size:
        fields["size"] = args.size
    if args.n != 1:
        fields["n"] = args.n
    result = context.client().images.generate(**fields)
    if not result.data:
        raise APIResponseValidationError("the gateway returned no image", request_id=result._request_id or "")
    images = [_image_bytes(context, item) for item in result.data]
    for data in images:
        _check_png(data, result._request_id)
    written = []
    for item, data, path in zip(result.data, images, paths):
        path.write_bytes(data)
        pixels = _png_size(data)
        entry: Dict[str, Any] = {"path": str(path), "bytes": len(data), "revised_prompt": item.revised_prompt}
        if pixels is not None:
            entry["width"], entry["height"] = pixels
        written.append(entry)
    if ui.json_mode:
        ui.emit_json({"model": args.model, "images": written})
    else:
        for entry in written:
            size = f"{entry['width']}x{entry['height']} px, " if "width" in entry else ""
            ui.line(f"wrote {entry['path']} ({size}{entry['bytes']:,} bytes)")
    if requested is not None and written and "width" in written[0]:
        actual = (written[0]["width"], written[0]["height"])
        if actual != requested:
            ui.note(
                f"meshapi: asked for {requested[0]}x{requested[1]} pixels, the gateway drew "
                f"{actual[0]}x{actual[1]}"
            )
    return EXIT_OK


def run_images_edit(context: Context) -> int:
    args, ui = context.args, context.ui
    source = existing_file(args.image)
    target = png_output(args.output)
    fields: Dict[str, Any] = {
        "model": args.model,
        "image": source,
        "prompt": args.prompt,
        "operation": args.operation,
        "response_format": "b64_json",
    }
    if args.mask:
        fields["mask"] = existing_file(args.mask)
    result = context.client().images.edit(**fields)
    if not result.data:
        raise APIResponseValidationError("the gateway returned no image", request_id=result._request_id or "")
    try:
        data = result.data[0].image_bytes()
    except ValueError as exc:
        raise APIResponseValidationError(f"the edited image is not inline: {exc}") from None
    _check_png(data, result._request_id)
    target.write_bytes(data)
    if ui.json_mode:
        ui.emit_json(
            {"path": str(target), "bytes": len(data), "model": args.model, "operation": args.operation}
        )
    else:
        ui.line(f"wrote {target} ({len(data):,} bytes)")
    return EXIT_OK
