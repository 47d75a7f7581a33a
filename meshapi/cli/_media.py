"""Media commands: ``audio say|transcribe|voices``, ``videos generate``, ``images edit``.

Same conventions as the other commands: results on stdout (or one JSON document with ``--json``),
progress on stderr, input files checked before anything is sent (a missing one is exit 2), an API
failure is one line on stderr and exit 1. ``register()`` adds the parsers; ``build_parser`` calls it.
"""

from __future__ import annotations

import pathlib
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from ._context import Context
from ._failures import EXIT_API, EXIT_OK, UsageError

__all__ = [
    "DEFAULT_EDIT_MODEL",
    "DEFAULT_STT_MODEL",
    "DEFAULT_TTS_MODEL",
    "DEFAULT_VIDEO_MODEL",
    "register",
    "run_audio_say",
    "run_audio_transcribe",
    "run_audio_voices",
    "run_images_edit",
    "run_videos_generate",
]

DEFAULT_TTS_MODEL = "sarvam/bulbul:v2"
DEFAULT_STT_MODEL = "sarvam/saaras:v3"
DEFAULT_VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"
DEFAULT_EDIT_MODEL = "openai/gpt-image-1"


def register(builder: Any, commands: Any, images: Any, types: Mapping[str, Callable[[str], Any]]) -> None:
    """Add the media parsers: ``audio`` and ``videos`` groups, and ``edit`` under the ``images`` group."""
    positive_int, positive_float = types["positive_int"], types["positive_float"]
    audio = builder.group(
        commands, "audio", help="text to speech, speech to text, voices", dest="audio_command"
    )
    say = builder.leaf(audio, "say", help="speak a text into an audio file", handler="_media:run_audio_say",
                       action="synthesizing speech")  # fmt: skip
    say.add_argument("text")
    say.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write (e.g. hello.wav)")
    say.add_argument(
        "-m", "--model", default=DEFAULT_TTS_MODEL, help=f"model id (default {DEFAULT_TTS_MODEL})"
    )
    say.add_argument("--voice", help="voice id (see `meshapi audio voices`)")
    say.add_argument("--speaker", help="speaker name, for models that use one (Sarvam)")
    say.add_argument("--format", dest="response_format", help="audio format, e.g. wav or mp3_44100_128")
    say.add_argument("--language", dest="language_code", help="language code, e.g. en-IN")
    transcribe = builder.leaf(audio, "transcribe", help="turn an audio file into text",
                              handler="_media:run_audio_transcribe", action="transcribing")  # fmt: skip
    transcribe.add_argument("file", metavar="FILE")
    transcribe.add_argument(
        "-m", "--model", default=DEFAULT_STT_MODEL, help=f"model id (default {DEFAULT_STT_MODEL})"
    )
    transcribe.add_argument("--language", dest="language_code", help="language code of the speech")
    transcribe.add_argument("--translate", action="store_true", help="translate the speech to English text")
    voices = builder.leaf(audio, "voices", help="list the voices", handler="_media:run_audio_voices",
                          action="listing voices")  # fmt: skip
    voices.add_argument("--search", metavar="TEXT", help="only voices matching TEXT")
    voices.add_argument("--category", help="only this category")
    voices.add_argument("--limit", type=positive_int, help="page size")

    videos = builder.group(commands, "videos", help="video generation", dest="videos_command")
    generate = builder.leaf(videos, "generate", help="start a video generation (optionally wait and save it)",
                            handler="_media:run_videos_generate", action="generating the video")  # fmt: skip
    generate.add_argument("prompt")
    generate.add_argument(
        "-m", "--model", default=DEFAULT_VIDEO_MODEL, help=f"model id (default {DEFAULT_VIDEO_MODEL})"
    )
    generate.add_argument("--ratio", help="aspect ratio, e.g. 16:9")
    generate.add_argument("--duration", type=positive_int, metavar="SECONDS", help="length of the video")
    generate.add_argument("--resolution", help="e.g. 720p")
    generate.add_argument("--wait", action="store_true", help="wait until the task ends")
    generate.add_argument("-o", "--output", metavar="PATH", help="save the video here (implies --wait)")
    generate.add_argument("--interval", type=positive_float, default=2.0, metavar="SECONDS",
                          help="poll interval while waiting (default 2)")  # fmt: skip
    generate.add_argument("--wait-timeout", type=positive_float, default=600.0, metavar="SECONDS",
                          help="give up waiting after (default 600)")  # fmt: skip

    edit = builder.leaf(images, "edit", help="edit an image file into a new file", handler="_media:run_images_edit",
                        action="editing the image")  # fmt: skip
    edit.add_argument("image", metavar="IMAGE", help="the image to edit (PNG, JPEG, ...)")
    edit.add_argument("-p", "--prompt", default="", help="what to change")
    edit.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write")
    edit.add_argument(
        "-m", "--model", default=DEFAULT_EDIT_MODEL, help=f"model id (default {DEFAULT_EDIT_MODEL})"
    )
    edit.add_argument("--operation", default="edit",
                      choices=["edit", "inpaint", "outpaint", "mix", "reframe", "upscale", "remove_background"])  # fmt: skip
    edit.add_argument("--mask", metavar="FILE", help="mask image (inpaint)")


def _input_file(raw: str) -> pathlib.Path:
    path = pathlib.Path(raw)
    if not path.is_file():
        raise UsageError(f"no such file: {raw}" if not path.exists() else f"not a file: {raw}")
    return path


def _output_file(raw: str) -> pathlib.Path:
    path = pathlib.Path(raw)
    if not path.parent.is_dir():
        raise UsageError(f"no such directory: {path.parent}")
    return path


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


# --- audio --------------------------------------------------------------------------------------------


def run_audio_say(context: Context) -> int:
    args, ui = context.args, context.ui
    target = _output_file(args.output)
    fields: Dict[str, Any] = {"input": args.text, "model": args.model}
    for name in ("voice", "speaker", "response_format", "language_code"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    saved = context.client().audio.synthesize_to_file(target, **fields)
    size = saved.stat().st_size
    if ui.json_mode:
        ui.emit_json({"path": str(saved), "bytes": size, "model": args.model})
    else:
        ui.line(f"wrote {saved} ({size:,} bytes)")
    return EXIT_OK


def run_audio_transcribe(context: Context) -> int:
    args, ui = context.args, context.ui
    source = _input_file(args.file)
    audio = context.client().audio
    if args.translate:
        result = audio.translate(source, model=args.model)
    else:
        fields = {"language_code": args.language_code} if args.language_code else {}
        result = audio.transcribe(source, model=args.model, **fields)
    if ui.json_mode:
        ui.emit_json(_dump(result))
    else:
        ui.line(result.text)
    return EXIT_OK


def run_audio_voices(context: Context) -> int:
    args, ui = context.args, context.ui
    fields = {
        k: v
        for k, v in (("search", args.search), ("category", args.category), ("page_size", args.limit))
        if v
    }
    page = context.client().audio.list_voices(**fields)
    if ui.json_mode:
        ui.emit_json(_dump(page))
        return EXIT_OK
    rows = [[v.voice_id, v.name, v.category, _short(v.description)] for v in page.voices]
    ui.table(["id", "name", "category", "description"], rows)
    more = " (more: pass the next page token)" if page.has_more or page.next_page_token else ""
    ui.note(f"{len(page.voices)} voice{'s' if len(page.voices) != 1 else ''}{more}")
    return EXIT_OK


def _short(text: Optional[str], limit: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- videos -------------------------------------------------------------------------------------------


def run_videos_generate(context: Context) -> int:
    args, ui = context.args, context.ui
    target = _output_file(args.output) if args.output else None
    fields: Dict[str, Any] = {"model": args.model, "prompt": args.prompt}
    for name in ("ratio", "duration", "resolution"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    videos = context.client().videos
    created = videos.generate(**fields)
    if not (args.wait or target):
        if ui.json_mode:
            ui.emit_json({"id": created.id, "model": args.model})
        else:
            ui.line(created.id)
            ui.note(f"started; follow it with `meshapi videos generate ... --wait` or poll task {created.id}")
        return EXIT_OK
    context.action = f"waiting for video task {created.id}"
    seen: List[str] = []
    started = time.monotonic()

    def progress(task: Any) -> None:
        if not seen or seen[-1] != task.status:
            seen.append(task.status)
            if not ui.json_mode:
                ui.note(f"video {task.id}: {task.status} ({time.monotonic() - started:.0f}s)")

    task = videos.wait(created.id, timeout=args.wait_timeout, poll_interval=args.interval, on_poll=progress)
    document: Dict[str, Any] = _dump(task)
    if task.status == "succeeded" and target is not None:
        context.action = "downloading the video"
        saved = videos.download(task, target)
        document["path"], document["bytes"] = str(saved), saved.stat().st_size
    if ui.json_mode:
        ui.emit_json(document)
    else:
        ui.line(f"{task.id}  {task.status}" + (f"  {task.content.video_url}" if task.content else ""))
        if "path" in document:
            ui.line(f"wrote {document['path']} ({document['bytes']:,} bytes)")
    if task.status != "succeeded":
        reason = f": {task.error.message}" if task.error else ""
        ui.note(f"meshapi: video task {task.id} ended {task.status}{reason}")
        return EXIT_API
    return EXIT_OK


# --- images edit --------------------------------------------------------------------------------------


def run_images_edit(context: Context) -> int:
    args, ui = context.args, context.ui
    source = _input_file(args.image)
    target = _output_file(args.output)
    fields: Dict[str, Any] = {"model": args.model, "image": source, "prompt": args.prompt,
                              "operation": args.operation, "response_format": "b64_json"}  # fmt: skip
    if args.mask:
        fields["mask"] = _input_file(args.mask)
    result = context.client().images.edit(**fields)
    if not result.data:
        from .._errors import APIResponseValidationError

        raise APIResponseValidationError("the gateway returned no image", request_id=result._request_id or "")
    try:
        data = result.data[0].image_bytes()
    except ValueError as exc:
        from .._errors import APIResponseValidationError

        raise APIResponseValidationError(f"the edited image is not inline: {exc}") from None
    target.write_bytes(data)
    if ui.json_mode:
        ui.emit_json(
            {"path": str(target), "bytes": len(data), "model": args.model, "operation": args.operation}
        )
    else:
        ui.line(f"wrote {target} ({len(data):,} bytes)")
    return EXIT_OK
