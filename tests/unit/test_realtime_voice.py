"""Voice helpers (WAV and PCM16 conversions, resampling) and the gateway's energy VAD, without sockets."""

from __future__ import annotations

import array
import io
import math
import struct
import wave
from pathlib import Path
from typing import List, Tuple

import pytest

from meshapi import InvalidParamsError
from meshapi.realtime import voice


def make_wav(frames: bytes, *, rate: int, width: int, channels: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def samples(pcm: bytes) -> List[int]:
    return list(struct.unpack(f"<{len(pcm) // 2}h", pcm))


def test_wav_file_round_trip_is_exact(tmp_path: Path) -> None:
    pcm = voice.tone(250, frequency=440) + voice.silence(50)
    path = tmp_path / "a.wav"
    voice.write_wav(path, pcm)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
    assert voice.read_wav(path) == pcm
    assert voice.read_wav(str(path)) == pcm
    with open(path, "rb") as handle:
        assert voice.read_wav(handle) == pcm
    assert voice.from_wav_bytes(voice.to_wav_bytes(pcm)) == pcm
    assert voice.duration_ms(pcm) == 300


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_common_rates_are_resampled_to_24k(rate: int) -> None:
    tone = voice.tone(500, frequency=300, rate=rate)
    converted = voice.from_wav_bytes(make_wav(tone, rate=rate, width=2, channels=1))
    assert abs(len(converted) // 2 - 12000) <= 1  # 500 ms at 24 kHz
    # the tone survives: compare with a 24 kHz tone of the same frequency, sample by sample
    reference = samples(voice.tone(500, frequency=300))
    got = samples(converted)
    error = max(abs(a - b) for a, b in zip(got[:11000], reference[:11000]))
    assert error < 0.05 * 32767 * 0.3 * 4, error


def test_stereo_and_other_sample_widths_are_converted() -> None:
    left = samples(voice.tone(100, frequency=200))
    stereo = b"".join(struct.pack("<hh", s, s) for s in left)
    assert voice.from_wav_bytes(make_wav(stereo, rate=24000, width=2, channels=2)) == voice.tone(
        100, frequency=200
    )
    eight = bytes((s >> 8) + 128 for s in left)
    assert all(
        abs(a - b) < 256
        for a, b in zip(samples(voice.from_wav_bytes(make_wav(eight, rate=24000, width=1, channels=1))), left)
    )
    wide = b"".join(struct.pack("<i", s << 16) for s in left)
    assert voice.from_wav_bytes(make_wav(wide, rate=24000, width=4, channels=1)) == voice.tone(
        100, frequency=200
    )
    three = b"".join(struct.pack("<i", s << 8)[:3] for s in left)
    assert voice.from_wav_bytes(make_wav(three, rate=24000, width=3, channels=1)) == voice.tone(
        100, frequency=200
    )


def test_resample_and_mono_on_byte_buffers() -> None:
    pcm = struct.pack("<4h", 0, 100, 200, 300)
    assert samples(voice.resample(pcm, 12000, 24000)) == [0, 50, 100, 150, 200, 250, 300, 300]
    assert samples(voice.resample(pcm, 48000, 24000)) == [0, 200]
    assert voice.resample(pcm, 24000) == pcm and voice.resample(b"", 8000) == b""
    assert samples(voice.to_mono(struct.pack("<4h", 100, 300, -10, -30), 2)) == [200, -20]
    assert [len(c) for c in voice.chunks(voice.silence(250), ms=100)] == [4800, 4800, 2400]
    assert voice.rms(voice.silence(20)) == 0.0
    assert math.isclose(voice.rms(voice.tone(1000, amplitude=0.5)), 0.5 * 32767 / math.sqrt(2), rel_tol=0.01)


def test_bad_input_is_a_typed_error(tmp_path: Path) -> None:
    for call in (
        lambda: voice.from_wav_bytes(b"RIFF nope"),
        lambda: voice.from_wav_bytes("text"),  # type: ignore[arg-type]
        lambda: voice.resample(b"\x00\x00\x00", 24000, 16000),
        lambda: voice.resample(b"\x00\x00", 0, 16000),
        lambda: voice.write_wav(tmp_path / "x.wav", b"\x00"),
        lambda: voice.chunks(b"", ms=0).__next__(),
    ):
        with pytest.raises(InvalidParamsError):
            call()


def test_devices_name_the_extra_when_sounddevice_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_sounddevice(name: str, *args: object, **kwargs: object) -> object:
        if name == "sounddevice":
            raise ImportError("No module named 'sounddevice'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_sounddevice)
    for device in (voice.Microphone, voice.Speaker):
        with pytest.raises(ImportError, match=r"meshapi\[voice\]"):
            device()


# --- the gateway's VAD ------------------------------------------------------------------------------


def vad_run(pcm: bytes, chunk_ms: int = 100, **settings: object) -> List[Tuple[str, int]]:
    pytest.importorskip("starlette")
    from meshapi_gateway.realtime.vad import EnergyVad

    vad = EnergyVad({"type": "server_vad", **settings})
    out: List[Tuple[str, int]] = []
    for chunk in voice.chunks(pcm, ms=chunk_ms):
        out.extend(vad.feed(chunk))
    return out


def test_vad_marks_synthesized_speech_and_ignores_silence() -> None:
    speech = voice.silence(400) + voice.tone(600, amplitude=0.3) + voice.silence(700)
    assert vad_run(speech, silence_duration_ms=500, prefix_padding_ms=300) == [
        ("started", 100),
        ("stopped", 1000),
    ]
    assert vad_run(voice.silence(2000)) == []
    assert vad_run(voice.tone(2000, amplitude=0.004)) == []  # faint hiss, below the threshold
    # two utterances separated by a long pause; chunk sizes that split 20 ms frames do not matter
    two = voice.tone(300) + voice.silence(800) + voice.tone(300) + voice.silence(800)
    assert vad_run(two, chunk_ms=7, silence_duration_ms=500, prefix_padding_ms=0) == [
        ("started", 0),
        ("stopped", 300),
        ("started", 1100),
        ("stopped", 1400),
    ]


def test_vad_threshold_and_silence_duration() -> None:
    quiet_speech = voice.tone(400, amplitude=0.02) + voice.silence(600)
    assert vad_run(quiet_speech) == []  # below the default threshold
    assert vad_run(quiet_speech, threshold=0.2, prefix_padding_ms=0)[0] == ("started", 0)
    short_pause = voice.tone(200) + voice.silence(200) + voice.tone(200) + voice.silence(600)
    assert [kind for kind, _ in vad_run(short_pause, silence_duration_ms=500)] == ["started", "stopped"]


def test_pcm_helpers_agree_with_array_arithmetic() -> None:
    pcm = voice.tone(20)
    assert array.array("h", pcm).tolist() == samples(pcm)
