"""Speech the local gateway can synthesize and read back: real WAV / MP3 / PCM bytes, no dependencies.

Text-to-speech turns the text into tones: every UTF-8 byte becomes two 20 ms tones, one per nibble,
at ``400 + 200 * nibble`` Hz, with a short fade so the audio plays without clicks. The audio is
therefore as long as the text (40 ms per byte plus 0.1 s of lead-in and tail) and the text can be
recovered from the samples alone: :func:`read_text` counts zero crossings per tone. That makes the
round trip TTS -> transcription deterministic and lossless, which is what tests want.

WAV files also carry the text in a private ``mshT`` RIFF chunk (players skip unknown chunks). MP3
output is a sequence of valid, silent MPEG audio frames (a real encoder would need a dependency) with
the text in an ID3v2 ``TXXX`` frame; its length follows the text the same way. Raw PCM (``pcm_*``)
is the WAV's sample data without a header.

Realtime speech (:func:`speech_pcm`, 24 kHz PCM16 mono, as the realtime protocol carries it) uses the
same tones at a speaking pace: 35 ms per tone, 70 ms per byte, about 14 characters a second, with no
lead-in, so the audio of each delta of an answer is the audio of exactly that piece of text and the
deltas join into the audio of the whole answer. :func:`heard_text` reads such audio back (the text of
speech this module made, at either tone length, with any digital silence around it), which is how
the realtime session hears its own answers when a client sends them back.
"""

from __future__ import annotations

import array
import math
import re
import struct
import sys
from functools import lru_cache
from typing import List, Optional, Sequence, Tuple

TONE_SECONDS = 0.02
SPEECH_TONE_SECONDS = 0.035
SPEECH_RATE = 24000
LEAD_SECONDS = 0.05
BASE_HZ = 400
STEP_HZ = 200
DEFAULT_RATE = 16000
_AMPLITUDE = 9000
_CHUNK_ID = b"mshT"
_ID3_KEY = "meshapi-text"

_MP3_V1_BITRATES = {32: 1, 40: 2, 48: 3, 56: 4, 64: 5, 80: 6, 96: 7, 112: 8, 128: 9, 160: 10, 192: 11}
_MP3_V2_BITRATES = {8: 1, 16: 2, 24: 3, 32: 4, 40: 5, 48: 6, 56: 7, 64: 8, 80: 9, 96: 10, 112: 11, 128: 12}
_MP3_V1_RATES = {44100: 0, 48000: 1, 32000: 2}
_MP3_V2_RATES = {22050: 0, 24000: 1, 16000: 2}

MEDIA_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "pcm": "audio/pcm"}


class AudioFormat:
    """A parsed ``response_format`` such as ``wav``, ``mp3_44100_128`` or ``pcm_16000``."""

    def __init__(self, codec: str, rate: int, bitrate: int = 128) -> None:
        self.codec = codec
        self.rate = rate
        self.bitrate = bitrate

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.codec]

    @classmethod
    def parse(cls, text: Optional[str], sample_rate: Optional[int] = None) -> Optional[AudioFormat]:
        """The format named by ``text`` (``None`` -> WAV), or ``None`` when it is not one we make."""
        name = (text or "wav").lower()
        match = re.fullmatch(r"(wav|mp3|pcm)(?:_(\d+))?(?:_(\d+))?", name)
        if match is None:
            return None
        codec = match.group(1)
        default_rate = 44100 if codec == "mp3" else (sample_rate or DEFAULT_RATE)
        rate = int(match.group(2)) if match.group(2) else default_rate
        bitrate = int(match.group(3)) if match.group(3) else 128
        if codec == "mp3":
            table = _MP3_V1_BITRATES if rate in _MP3_V1_RATES else _MP3_V2_BITRATES
            if (rate not in _MP3_V1_RATES and rate not in _MP3_V2_RATES) or bitrate not in table:
                return None
        elif not 8000 <= rate <= 48000:
            return None
        return cls(codec, rate, bitrate)


def duration_seconds(text: str) -> float:
    """How long the synthesized audio for ``text`` plays."""
    return 2 * LEAD_SECONDS + 2 * TONE_SECONDS * len(text.encode("utf-8"))


def _per_tone(rate: int, tone_seconds: float) -> int:
    return max(8, round(rate * tone_seconds))


@lru_cache(maxsize=64)
def _tone(nibble: int, rate: int, per_tone: int) -> Tuple[int, ...]:
    """One faded tone (the sample at index 0 is always 0: the sine starts there)."""
    hz = BASE_HZ + STEP_HZ * nibble
    fade = max(1, per_tone // 8)
    return tuple(
        int(
            _AMPLITUDE
            * min(1.0, (i + 1) / fade, (per_tone - i) / fade)
            * math.sin(2 * math.pi * hz * i / rate)
        )
        for i in range(per_tone)
    )


def _tones(text: str, rate: int, tone_seconds: float) -> List[int]:
    per_tone = _per_tone(rate, tone_seconds)
    out: List[int] = []
    for byte in text.encode("utf-8"):
        out.extend(_tone(byte >> 4, rate, per_tone))
        out.extend(_tone(byte & 0x0F, rate, per_tone))
    return out


def samples_for(text: str, rate: int) -> List[int]:
    """16-bit mono samples encoding ``text`` (see the module docstring)."""
    lead = [0] * round(rate * LEAD_SECONDS)
    return lead + _tones(text, rate, TONE_SECONDS) + lead


def speech_pcm(text: str, rate: int = SPEECH_RATE) -> bytes:
    """Realtime speech for ``text``: PCM16 little-endian mono at a speaking pace, no lead-in."""
    return _pcm(_tones(text, rate, SPEECH_TONE_SECONDS))


def speech_seconds(text: str) -> float:
    """How long :func:`speech_pcm` of ``text`` plays."""
    return 2 * SPEECH_TONE_SECONDS * len(text.encode("utf-8"))


def _nibble(tone: Sequence[int], rate: int) -> Optional[int]:
    """The nibble a tone carries, from its zero crossings; ``None`` if it is off the tone grid."""
    crossings = sum(1 for a, b in zip(tone, tone[1:]) if (a < 0) != (b < 0))
    hz = crossings * rate / (2 * len(tone))
    nibble = round((hz - BASE_HZ) / STEP_HZ)
    if not 0 <= nibble <= 15 or abs(hz - BASE_HZ - STEP_HZ * nibble) > STEP_HZ / 4:
        return None
    return nibble


def _text_of_tones(body: Sequence[int], rate: int, tone_seconds: float) -> Optional[str]:
    """The text of ``body``: whole tones of ``tone_seconds``, the last one's faded tail may be cut."""
    per_tone = _per_tone(rate, tone_seconds)
    count = -(-len(body) // per_tone)
    if count == 0 or count % 2 or count * per_tone - len(body) > per_tone // 8:
        return None
    nibbles: List[int] = []
    for offset in range(0, len(body), per_tone):
        nibble = _nibble(body[offset : offset + per_tone], rate)
        if nibble is None:
            return None
        nibbles.append(nibble)
    try:
        return bytes((hi << 4) | lo for hi, lo in zip(nibbles[0::2], nibbles[1::2])).decode("utf-8")
    except UnicodeDecodeError:
        return None


def heard_text(pcm: bytes, rate: int = SPEECH_RATE) -> Optional[str]:
    """The text spoken in PCM16 mono audio this module synthesized (realtime speech or text-to-speech
    at ``rate``), with any digital silence before and after it; ``None`` for any other audio."""
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":  # pragma: no cover - PCM16 on the wire is little-endian
        samples.byteswap()
    first = next((i for i, s in enumerate(samples) if s), None)
    if first is None:
        return None
    last = len(samples) - next(i for i, s in enumerate(reversed(samples)) if s)
    body = samples[max(0, first - 1) : last]  # a tone's first sample is 0
    for tone_seconds in (SPEECH_TONE_SECONDS, TONE_SECONDS):
        text = _text_of_tones(body, rate, tone_seconds)
        if text is not None:
            return text
    return None


def text_from_samples(samples: List[int], rate: int) -> Optional[str]:
    """Recover the text from samples made by :func:`samples_for` (``None`` if they are not ours)."""
    per_tone = max(8, round(rate * TONE_SECONDS))
    start = round(rate * LEAD_SECONDS)
    body = samples[start : len(samples) - start]
    if not body or len(body) % (2 * per_tone):
        return None
    nibbles: List[int] = []
    for offset in range(0, len(body), per_tone):
        tone = body[offset : offset + per_tone]
        crossings = sum(1 for a, b in zip(tone, tone[1:]) if (a < 0) != (b < 0))
        hz = crossings * rate / (2 * per_tone)
        nibble = round((hz - BASE_HZ) / STEP_HZ)
        if not 0 <= nibble <= 15:
            return None
        nibbles.append(nibble)
    data = bytes((hi << 4) | lo for hi, lo in zip(nibbles[0::2], nibbles[1::2]))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _pcm(samples: List[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def wav(text: str, rate: int) -> bytes:
    """A mono 16-bit PCM WAV file speaking ``text``."""
    data = _pcm(samples_for(text, rate))
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    note = text.encode("utf-8")
    note_chunk = _CHUNK_ID + struct.pack("<I", len(note)) + note + (b"\x00" if len(note) % 2 else b"")
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + note_chunk
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _id3(text: str) -> bytes:
    payload = b"\x03" + _ID3_KEY.encode() + b"\x00" + text.encode("utf-8")
    frame = b"TXXX" + struct.pack(">I", len(payload)) + b"\x00\x00" + payload
    size = len(frame)
    synchsafe = bytes(((size >> shift) & 0x7F) for shift in (21, 14, 7, 0))
    return b"ID3\x04\x00\x00" + synchsafe + frame


def mp3(text: str, rate: int, bitrate: int) -> bytes:
    """ID3v2 tag with the text, then silent MPEG-1/2 Layer III mono frames as long as the speech."""
    version1 = rate in _MP3_V1_RATES
    if version1:
        header = 0xFFFB0000 | (_MP3_V1_BITRATES[bitrate] << 12) | (_MP3_V1_RATES[rate] << 10)
        frame_len, per_frame = 144 * bitrate * 1000 // rate, 1152
    else:
        header = 0xFFF30000 | (_MP3_V2_BITRATES[bitrate] << 12) | (_MP3_V2_RATES[rate] << 10)
        frame_len, per_frame = 72 * bitrate * 1000 // rate, 576
    header |= 0b11 << 6  # mono
    frame = struct.pack(">I", header) + b"\x00" * (frame_len - 4)
    frames = max(1, math.ceil(duration_seconds(text) * rate / per_frame))
    return _id3(text) + frame * frames


def synthesize(text: str, fmt: AudioFormat) -> bytes:
    if fmt.codec == "mp3":
        return mp3(text, fmt.rate, fmt.bitrate)
    if fmt.codec == "pcm":
        return _pcm(samples_for(text, fmt.rate))
    return wav(text, fmt.rate)


def _wav_parts(data: bytes) -> Tuple[Optional[int], Optional[bytes], Optional[str]]:
    """``(sample_rate, pcm, embedded_text)`` of a 16-bit mono WAV; ``None`` parts when absent."""
    rate: Optional[int] = None
    pcm: Optional[bytes] = None
    note: Optional[str] = None
    pos = 12
    while pos + 8 <= len(data):
        kind, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunk = data[pos + 8 : pos + 8 + size]
        if kind == b"fmt " and len(chunk) >= 16:
            fmt_tag, channels, rate_value, _, _, bits = struct.unpack("<HHIIHH", chunk[:16])
            if fmt_tag == 1 and channels == 1 and bits == 16:
                rate = rate_value
        elif kind == b"data":
            pcm = chunk
        elif kind == _CHUNK_ID:
            note = chunk.decode("utf-8", "replace")
        pos += 8 + size + (size % 2)
    return rate, pcm, note


def _id3_text(data: bytes) -> Optional[str]:
    marker = b"TXXX"
    pos = data.find(marker, 10, 10 + 4096)
    if pos < 0:
        return None
    size = struct.unpack(">I", data[pos + 4 : pos + 8])[0]
    payload = data[pos + 10 : pos + 10 + size]
    key = b"\x03" + _ID3_KEY.encode() + b"\x00"
    return payload[len(key) :].decode("utf-8", "replace") if payload.startswith(key) else None


def read_text(data: bytes) -> Optional[str]:
    """The text spoken in audio made by :func:`synthesize` (WAV: from the samples), else ``None``."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        rate, pcm, note = _wav_parts(data)
        if rate is not None and pcm is not None and len(pcm) % 2 == 0:
            samples = list(struct.unpack(f"<{len(pcm) // 2}h", pcm))
            decoded = text_from_samples(samples, rate)
            if decoded is not None:
                return decoded
        return note
    if data[:3] == b"ID3":
        return _id3_text(data)
    if len(data) % 2 == 0 and data:
        samples = list(struct.unpack(f"<{len(data) // 2}h", data))
        return text_from_samples(samples, DEFAULT_RATE)
    return None
