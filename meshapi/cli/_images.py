"""``meshapi images generate|edit``: images into files, in the format the file name asks for.

The output file's extension picks the format (``.png``, ``.jpg``/``.jpeg``, ``.webp``); it is sent as
``output_format`` and the returned bytes are checked before anything is written, so a gateway that
can only produce PNG is reported (exit 1, no file) instead of writing PNG bytes into ``x.jpg``.
``--size`` is checked (``WIDTHxHEIGHT``, 1 to 4096 each) and the pixels actually received are shown;
existing files are never overwritten without ``--force``. ``images edit`` sends an image file (and a
mask) with the operation and writes the edited image.
"""

from __future__ import annotations

import pathlib
from typing import Any, Dict, List, Optional, Tuple

from .._errors import APIConnectionError, APIResponseValidationError
from ._args import Commands, existing_file, output_path, positive_int
from ._context import Context
from ._failures import EXIT_OK, UsageError

__all__ = ["DEFAULT_IMAGE_MODEL", "register", "run_images_edit", "run_images_generate"]

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
    generate.add_argument("prompt")
    generate.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="file to write; its extension picks the format (.png, .jpg, .webp)",
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
    edit.add_argument("image", metavar="IMAGE", help="the image to edit (PNG, JPEG, ...)")
    edit.add_argument("-p", "--prompt", default="", help="what to change")
    edit.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write")
    edit.add_argument(
        "-m", "--model", default=DEFAULT_IMAGE_MODEL, help=f"model id (default {DEFAULT_IMAGE_MODEL})"
    )
    edit.add_argument("--operation", default="edit", choices=_OPERATIONS)
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


#: File extension -> the API's ``output_format`` and the bytes such a file starts with.
_IMAGE_FORMATS: Dict[str, Tuple[str, Tuple[bytes, ...]]] = {
    ".png": ("png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("jpeg", (b"\xff\xd8\xff",)),
    ".webp": ("webp", (b"RIFF",)),
}
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


def _image_format(path: pathlib.Path) -> Tuple[str, Tuple[bytes, ...]]:
    found = _IMAGE_FORMATS.get(path.suffix.lower())
    if found is None:
        raise UsageError(
            f"cannot tell which image format to write from {path.name!r}: name the file .png, .jpg or .webp"
        )
    return found


def _png_size(data: bytes) -> Optional[Tuple[int, int]]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _kind_of(data: bytes) -> str:
    for fmt, magics in _IMAGE_FORMATS.values():
        if any(data.startswith(magic) for magic in magics):
            return fmt.upper()
    return "unknown"


def run_images_generate(context: Context) -> int:
    args, ui = context.args, context.ui
    target = output_path(args.output)
    output_format, magics = _image_format(target)
    requested = _check_size(args.size) if args.size else None
    paths = _output_paths(args.output, args.n)
    existing = [str(path) for path in paths if path.exists()]
    if existing and not args.force:
        raise UsageError(f"{', '.join(existing)} already exists; pass --force to overwrite")
    fields: Dict[str, Any] = {"prompt": args.prompt, "model": args.model, "response_format": "b64_json"}
    if args.size:
        fields["size"] = args.size
    if output_format != "png":
        fields["output_format"] = output_format
    if args.n != 1:
        fields["n"] = args.n
    result = context.client().images.generate(**fields)
    if not result.data:
        raise APIResponseValidationError("the gateway returned no image", request_id=result._request_id or "")
    images = [_image_bytes(context, item) for item in result.data]
    for data in images:
        if not any(data.startswith(magic) for magic in magics):
            raise APIResponseValidationError(
                f"asked for {output_format.upper()} but the gateway returned {_kind_of(data)} data; "
                f"nothing was written (name the file for that format, e.g. {target.stem}.png)",
                request_id=result._request_id or "",
            )
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
    target = output_path(args.output)
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
    target.write_bytes(data)
    if ui.json_mode:
        ui.emit_json(
            {"path": str(target), "bytes": len(data), "model": args.model, "operation": args.operation}
        )
    else:
        ui.line(f"wrote {target} ({len(data):,} bytes)")
    return EXIT_OK
