"""``meshapi realtime --in FILE.wav --out FILE.wav`` (and its text forms) against the local gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("websockets")

from meshapi.realtime import voice

Run = Callable[..., Any]


def test_wav_in_wav_out(gw: Any, run: Run, tmp_path: Path) -> None:
    question = tmp_path / "question.wav"
    voice.write_wav(question, voice.tone(800, frequency=180), rate=24000)
    answer = tmp_path / "answer.wav"
    result = run("realtime", "--in", str(question), "--out", str(answer), "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["in_ms"] == 800 and document["transcript"] and document["out"] == str(answer)
    pcm = voice.read_wav(answer)
    assert pcm and voice.duration_ms(pcm) == document["out_ms"]
    from meshapi_gateway.realtime.parts import pcm_for

    assert len(pcm) == len(pcm_for(document["transcript"]))  # the audio speaks exactly the transcript


def test_a_44k_stereo_wav_is_converted_on_the_way_in(gw: Any, run: Run, tmp_path: Path) -> None:
    import struct
    import wave

    mono = voice.tone(500, frequency=200, rate=44100)
    frames = b"".join(struct.pack("<hh", s, s) for (s,) in struct.iter_unpack("<h", mono))
    question = tmp_path / "stereo.wav"
    with wave.open(str(question), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(frames)
    result = run("realtime", "--in", str(question), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["in_ms"] == 500


def test_text_to_a_spoken_wav(gw: Any, run: Run, tmp_path: Path) -> None:
    answer = tmp_path / "spoken.wav"
    result = run("realtime", "Say hello", "--out", str(answer))
    assert result.code == 0, result.err
    assert "wrote" in result.out and voice.read_wav(answer)


def test_usage_errors(gw: Any, run: Run, tmp_path: Path) -> None:
    assert run("realtime").code == 2
    assert run("realtime", "text", "--in", str(tmp_path / "x.wav")).code == 2
    missing = run("realtime", "--in", str(tmp_path / "missing.wav"))
    assert missing.code == 2 and "no such file" in missing.err
    assert run("realtime", "--voice", "text").code == 2


def test_a_spoken_question_ending_in_silence_is_one_turn(gw: Any, run: Run, tmp_path: Path) -> None:
    # the gateway's own speech followed by a second of silence: its server voice activity detection
    # (on by default) would end the turn by itself; --in makes its own turn, so it turns that off
    from meshapi_gateway.fakes import sound

    question = tmp_path / "spoken.wav"
    voice.write_wav(question, sound.speech_pcm("Tell me about rivers.") + voice.silence(1000), rate=24000)
    spoken = run("realtime", "--in", str(question), "--json")
    assert spoken.code == 0, spoken.err
    typed = run("realtime", "Tell me about rivers.", "--json")
    assert typed.code == 0, typed.err
    assert json.loads(spoken.out)["transcript"] == json.loads(typed.out)["reply"]  # heard as typed
