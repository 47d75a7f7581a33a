"""Sound and video commands: ``audio say|transcribe|voices`` and ``videos generate``.

Why it exists: the commands that turn text into media files and back. Same conventions as the other
commands: results on stdout (or one JSON document with ``--json``), progress on stderr, input files
checked before anything is sent (a missing one is exit 2), an API failure is one line on stderr and
exit 1; a video task that ends without success is exit 1 too.

A saved video's name says its container: the download is read before it gets its name, and when the
bytes are another container than the extension says (the local gateway makes AVI, ``-o boat.mp4``),
the file is saved under the container's extension (``boat.avi``) and a note says so.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any, Dict, List, Optional, Tuple

from ._args import Commands, add_budget, existing_file, output_path, positive_float, positive_int
from ._context import Context
from ._failures import EXIT_API, EXIT_OK
from ._ui import dump, one_line

__all__ = [
    "DEFAULT_STT_MODEL",
    "DEFAULT_TTS_MODEL",
    "DEFAULT_VIDEO_MODEL",
    "register",
    "run_audio_say",
    "run_audio_transcribe",
    "run_audio_voices",
    "run_videos_generate",
]

DEFAULT_TTS_MODEL = "sarvam/bulbul:v2"
DEFAULT_STT_MODEL = "sarvam/saaras:v3"
DEFAULT_VIDEO_MODEL = "byteplus/seedance-1-5-pro-251215"


def register(commands: Commands) -> None:
    audio = commands.group("audio", help="text to speech, speech to text, voices", dest="audio_command")
    say = audio.leaf(
        "say", help="speak a text into an audio file", handler=run_audio_say, action="synthesizing speech"
    )
    add_budget(say)
    say.add_argument("text", help="the text to speak")
    say.add_argument("-o", "--output", required=True, metavar="PATH", help="file to write (e.g. hello.wav)")
    say.add_argument(
        "-m", "--model", default=DEFAULT_TTS_MODEL, help=f"model id (default {DEFAULT_TTS_MODEL})"
    )
    say.add_argument("--voice", help="voice id (see `meshapi audio voices`)")
    say.add_argument("--speaker", help="speaker name, for models that use one (Sarvam)")
    say.add_argument("--format", dest="response_format", help="audio format, e.g. wav or mp3_44100_128")
    say.add_argument("--language", dest="language_code", help="language code, e.g. en-IN")
    transcribe = audio.leaf(
        "transcribe", help="turn an audio file into text", handler=run_audio_transcribe, action="transcribing"
    )
    add_budget(transcribe)
    transcribe.add_argument("file", metavar="FILE", help="the audio file (WAV, MP3, ...)")
    transcribe.add_argument(
        "-m", "--model", default=DEFAULT_STT_MODEL, help=f"model id (default {DEFAULT_STT_MODEL})"
    )
    transcribe.add_argument("--language", dest="language_code", help="language code of the speech")
    transcribe.add_argument("--translate", action="store_true", help="translate the speech to English text")
    voices = audio.leaf("voices", help="list the voices", handler=run_audio_voices, action="listing voices")
    voices.add_argument("--search", metavar="TEXT", help="only voices matching TEXT")
    voices.add_argument("--category", help="only this category")
    voices.add_argument("--limit", type=positive_int, help="page size")

    videos = commands.group("videos", help="video generation", dest="videos_command")
    generate = videos.leaf(
        "generate",
        help="start a video generation (optionally wait and save it)",
        handler=run_videos_generate,
        action="generating the video",
    )
    generate.add_argument("prompt", help="what the video shows")
    generate.add_argument(
        "-m", "--model", default=DEFAULT_VIDEO_MODEL, help=f"model id (default {DEFAULT_VIDEO_MODEL})"
    )
    generate.add_argument("--ratio", help="aspect ratio, e.g. 16:9")
    generate.add_argument("--duration", type=positive_int, metavar="SECONDS", help="length of the video")
    generate.add_argument("--resolution", help="e.g. 720p")
    generate.add_argument("--wait", action="store_true", help="wait until the task ends")
    generate.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="save the video here (implies --wait); the extension follows the container the gateway sends",
    )
    generate.add_argument(
        "--interval",
        type=positive_float,
        default=2.0,
        metavar="SECONDS",
        help="poll interval while waiting (default 2)",
    )
    generate.add_argument(
        "--wait-timeout",
        type=positive_float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after (default 600)",
    )


# --- audio --------------------------------------------------------------------------------------------


def run_audio_say(context: Context) -> int:
    args, ui = context.args, context.ui
    target = output_path(args.output)
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
    source = existing_file(args.file)
    audio = context.client().audio
    if args.translate:
        result = audio.translate(source, model=args.model)
    else:
        fields = {"language_code": args.language_code} if args.language_code else {}
        result = audio.transcribe(source, model=args.model, **fields)
    if ui.json_mode:
        ui.emit_json(dump(result))
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
        ui.emit_json(dump(page))
        return EXIT_OK
    rows = [[v.voice_id, v.name, v.category, one_line(v.description, 60)] for v in page.voices]
    ui.table(["id", "name", "category", "description"], rows)
    more = " (more: pass the next page token)" if page.has_more or page.next_page_token else ""
    ui.note(f"{len(page.voices)} voice{'s' if len(page.voices) != 1 else ''}{more}")
    return EXIT_OK


# --- videos -------------------------------------------------------------------------------------------


def run_videos_generate(context: Context) -> int:
    args, ui = context.args, context.ui
    target = output_path(args.output) if args.output else None
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
    document: Dict[str, Any] = dump(task)
    if task.status == "succeeded" and target is not None:
        context.action = "downloading the video"
        saved = _save_video(context, task, target)
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


#: Video containers: (extension given to a file of that kind, extensions that already name it).
_CONTAINERS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "AVI": (".avi", (".avi",)),
    "MP4": (".mp4", (".mp4", ".m4v", ".mov")),
    "WebM": (".webm", (".webm", ".mkv")),
}


def video_container(head: bytes) -> Optional[str]:
    """The container a video file's first bytes show (``AVI``, ``MP4``, ``WebM``), else ``None``."""
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if head[4:8] == b"ftyp":
        return "MP4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "WebM"
    return None


def _save_video(context: Context, task: Any, target: pathlib.Path) -> pathlib.Path:
    """Download ``task``'s video beside ``target``, then name it after its container (a note when the
    extension changes); an unknown container keeps the name asked for."""
    part = target.with_name(target.name + ".part")
    try:
        context.client().videos.download(task, part)
        with open(part, "rb") as handle:
            kind = video_container(handle.read(12))
        final = target
        if kind is not None:
            extension, names = _CONTAINERS[kind]
            if target.suffix.lower() not in names:
                final = target.with_suffix(extension)
                context.ui.note(f"meshapi: the video is {kind}: saved as {final.name} (not {target.name})")
        os.replace(part, final)
    finally:
        if part.exists():
            part.unlink()
    return final
