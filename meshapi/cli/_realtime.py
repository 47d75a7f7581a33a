"""``meshapi realtime``: a text turn, a WAV-in / WAV-out voice turn, or a live microphone conversation.

* ``meshapi realtime "Say hello"`` - one text turn; prints the reply.
* ``meshapi realtime --in question.wav --out answer.wav`` - sends the WAV (converted to PCM16 24 kHz
  mono), asks for a spoken answer, writes it as a WAV and prints its transcript. With text instead of
  ``--in``, the text is the question and ``--out`` receives the spoken answer.
* ``meshapi realtime --voice`` - talks through the microphone and the speaker (extra ``voice``) with the
  gateway's voice activity detection deciding turns, until Ctrl-C.
"""

from __future__ import annotations

import pathlib
import sys
import threading
from typing import Any, Dict, List

from ._args import Commands
from ._chat import read_prompt
from ._context import Context
from ._failures import EXIT_OK, UsageError

__all__ = ["DEFAULT_REALTIME_MODEL", "register", "run_realtime"]

DEFAULT_REALTIME_MODEL = "openai/gpt-realtime-mini"
SPOKEN = {"output_modalities": ["audio"]}


def register(commands: Commands) -> None:
    realtime = commands.leaf(
        "realtime",
        help="one text or voice turn over a realtime session (WAV in/out, or the microphone)",
        handler=run_realtime,
        action="realtime turn",
    )
    realtime.add_argument("text", nargs="?", help="the text to say (or use --in / --voice)")
    realtime.add_argument("--in", dest="input", metavar="FILE.wav", help="send this WAV as the question")
    realtime.add_argument("--out", dest="output", metavar="FILE.wav", help="write the spoken answer here")
    realtime.add_argument(
        "--voice", action="store_true", help="talk through the microphone and speaker (extra 'voice')"
    )
    realtime.add_argument(
        "-m", "--model", default=DEFAULT_REALTIME_MODEL, help=f"model id (default {DEFAULT_REALTIME_MODEL})"
    )


def run_realtime(context: Context) -> int:
    args = context.args
    text = getattr(args, "text", None)
    source = getattr(args, "input", None)
    target = getattr(args, "output", None)
    if getattr(args, "voice", False):
        if text or source:
            raise UsageError("--voice takes neither text nor --in")
        return _voice(context)
    if text is not None and source:
        raise UsageError("give either text or --in FILE.wav, not both")
    if source is None and (text is not None or not _stdin_is_terminal()):
        text = read_prompt(text, "text")  # "" is refused and piped stdin is read, as for chat
    if not text and not source:
        raise UsageError("give the text to say, --in FILE.wav, or --voice")
    if source is None and target is None:
        return _text_turn(context, str(text))
    return _audio_turn(context, text, source, target)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is None or bool(sys.stdin.isatty())
    except (AttributeError, ValueError):
        return True


def _text_turn(context: Context, text: str) -> int:
    args, ui = context.args, context.ui
    with context.client().realtime.connect(model=args.model) as session:
        reply = session.send_text(text)
    if ui.json_mode:
        ui.emit_json({"model": args.model, "text": text, "reply": reply})
    else:
        ui.line(str(reply))
    return EXIT_OK


def _audio_turn(context: Context, text: Any, source: Any, target: Any) -> int:
    from ..realtime import voice
    from ..realtime.protocol import error_from_event

    args, ui = context.args, context.ui
    question = b""
    if source is not None:
        path = pathlib.Path(source)
        if not path.is_file():
            raise UsageError(f"--in: no such file: {path}")
        question = voice.read_wav(path)
        if not question:
            raise UsageError(f"--in: {path} holds no audio")
    audio: List[bytes] = []
    transcript: List[str] = []
    with context.client().realtime.connect(model=args.model) as session:
        # this command makes its own turn (commit, response.create): the gateway's server VAD, on by
        # default as in the GA protocol, would end a recording's turn by itself at its trailing silence
        session.session.update(output_modalities=["audio"], audio={"input": {"turn_detection": None}})
        if question:
            for chunk in voice.chunks(question, ms=200):
                session.input_audio_buffer.append(chunk)
            session.input_audio_buffer.commit()
        else:
            session.conversation.item.create(text=text)
        session.response.create(SPOKEN)
        for event in session.iter_events(timeout=60.0):
            if event.type == "error":
                raise error_from_event(event.model_dump(exclude_none=True))
            if event.type == "response.output_audio.delta":
                audio.append(event.audio)
            elif event.type == "response.output_audio_transcript.delta":
                transcript.append(event.delta)
            elif event.type == "response.done":
                break
    answer = b"".join(audio)
    document: Dict[str, Any] = {
        "model": args.model,
        "transcript": "".join(transcript),
        "in_ms": voice.duration_ms(question),
        "out_ms": voice.duration_ms(answer),
    }
    if target is not None:
        voice.write_wav(pathlib.Path(target), answer)
        document["out"] = str(target)
    if ui.json_mode:
        ui.emit_json(document)
    else:
        ui.line(document["transcript"])
        if target is not None:
            ui.line(f"wrote {target} ({document['out_ms'] / 1000:.2f} s of audio)")
    return EXIT_OK


def _voice(context: Context) -> int:  # pragma: no cover - needs a microphone and a speaker
    from ..realtime import voice

    args, ui = context.args, context.ui
    try:
        mic, speaker = voice.Microphone(), voice.Speaker()
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    with context.client().realtime.connect(model=args.model, reconnect=True) as session:
        session.session.update(
            output_modalities=["audio"], audio={"input": {"turn_detection": {"type": "server_vad"}}}
        )
        stop = threading.Event()

        def pump() -> None:
            with mic:
                for chunk in mic:
                    if stop.is_set():
                        return
                    session.input_audio_buffer.append(chunk)

        thread = threading.Thread(target=pump, name="meshapi-mic", daemon=True)
        thread.start()
        ui.line("listening (Ctrl-C to stop)")
        try:
            for event in session.iter_events():
                if event.type == "response.output_audio.delta":
                    speaker.play(event.audio)
                elif event.type == "response.output_audio_transcript.done":
                    ui.line(event.transcript or "")
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            speaker.close()
    return EXIT_OK
