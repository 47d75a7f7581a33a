"""Server-side voice activity detection for the realtime endpoint, from the signal's energy.

When a session's ``audio.input.turn_detection`` is ``{"type": "server_vad", ...}`` (the default), every
appended chunk of PCM16 (24 kHz mono) is fed to :class:`EnergyVad`, which cuts it into 20 ms frames and
compares each frame's RMS level with a threshold. ``threshold`` (0..1, default 0.5) maps to an RMS of
``threshold * 4 %`` of full scale (about -34 dBFS at the default): synthesized speech or a tone is far
above it, digital silence and faint hiss below. Speech starts at the first loud frame
(``audio_start_ms`` minus ``prefix_padding_ms``, never below 0) and stops after ``silence_duration_ms``
(default 500) of quiet frames (``audio_end_ms`` is the end of the last loud frame). Times count from the
start of the session's input audio, as the provider reports them. Pure: no I/O, no clock.
"""

from __future__ import annotations

import array
import math
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = ["EnergyVad", "rms", "vad_settings"]

RATE = 24000
FRAME_SAMPLES = RATE // 50  # 20 ms
FULL_SCALE = 32768.0


def rms(samples: array.array[int]) -> float:
    """The root-mean-square level of PCM16 samples."""
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def _pcm(data: bytes) -> array.array[int]:
    out = array.array("h")
    out.frombytes(data[: len(data) - len(data) % 2])
    if sys.byteorder == "big":  # pragma: no cover - PCM16 on the wire is little-endian
        out.byteswap()
    return out


def vad_settings(session: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``server_vad`` settings of a session configuration, or ``None`` when VAD is off."""
    audio = session.get("audio")
    inp = audio.get("input") if isinstance(audio, Mapping) else None
    detection = inp.get("turn_detection") if isinstance(inp, Mapping) else None
    if not isinstance(detection, Mapping) or detection.get("type") != "server_vad":
        return None
    return dict(detection)


class EnergyVad:
    """Speech start / stop detection over a stream of PCM16 chunks (see the module docstring)."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        threshold = settings.get("threshold", 0.5)
        self.threshold = float(threshold if isinstance(threshold, (int, float)) else 0.5)
        self.level = max(1.0, self.threshold * 0.04 * FULL_SCALE)
        self.prefix_ms = int(settings.get("prefix_padding_ms", 300) or 0)
        self.silence_ms = int(settings.get("silence_duration_ms", 500) or 0)
        self.create_response = settings.get("create_response", True) is not False
        self._pending = b""
        self._frames = 0  # 20 ms frames seen
        self.speaking = False
        self._last_loud_end_ms = 0
        self._quiet_ms = 0

    def feed(self, data: bytes) -> List[Tuple[str, int]]:
        """Take one chunk; returns ``("started", audio_start_ms)`` / ``("stopped", audio_end_ms)``
        transitions in order."""
        events: List[Tuple[str, int]] = []
        buffer = self._pending + data
        step = FRAME_SAMPLES * 2
        usable = len(buffer) - len(buffer) % step
        self._pending = buffer[usable:]
        for offset in range(0, usable, step):
            loud = rms(_pcm(buffer[offset : offset + step])) >= self.level
            start_ms = self._frames * 20
            self._frames += 1
            if loud:
                self._quiet_ms = 0
                self._last_loud_end_ms = start_ms + 20
                if not self.speaking:
                    self.speaking = True
                    events.append(("started", max(0, start_ms - self.prefix_ms)))
            elif self.speaking:
                self._quiet_ms += 20
                if self._quiet_ms >= self.silence_ms:
                    self.speaking = False
                    events.append(("stopped", self._last_loud_end_ms))
        return events

    def reset(self) -> None:
        """Forget a speech turn in progress (``input_audio_buffer.clear``); the clock keeps running."""
        self.speaking = False
        self._quiet_ms = 0
