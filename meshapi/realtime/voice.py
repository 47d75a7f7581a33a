"""Voice I/O for realtime sessions: PCM16 24 kHz mono to and from WAV files and byte buffers, resampling,
and (with the ``voice`` extra) a microphone and a speaker.

Realtime audio is PCM16 little-endian, 24 kHz, mono (docs/protocol.md §7.5). These helpers get any common WAV
(8/16/24/32-bit integer PCM, any channel count, 8-48 kHz or more) into that format and back, with the
standard library only (``wave``, ``array``): no numpy. Resampling is linear interpolation, good enough for
speech. :class:`Microphone` and :class:`Speaker` use ``sounddevice`` (``pip install 'meshapi[voice]'``),
imported when one is opened; without it they raise ``ImportError`` naming the extra.

Bad input (not a WAV, an unsupported sample format, an odd number of PCM bytes) raises
``InvalidParamsError``.
"""

from __future__ import annotations

import array
import io
import math
import os
import sys
import wave
from typing import IO, Any, Iterator, Optional, Union

from .._errors import InvalidParamsError

__all__ = [
    "CHANNELS",
    "RATE",
    "SAMPLE_WIDTH",
    "Microphone",
    "Speaker",
    "chunks",
    "duration_ms",
    "from_wav_bytes",
    "read_wav",
    "resample",
    "rms",
    "silence",
    "to_mono",
    "to_wav_bytes",
    "tone",
    "write_wav",
]

RATE = 24000
SAMPLE_WIDTH = 2
CHANNELS = 1
VOICE_HINT = "pip install 'meshapi[voice]'"
PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]


def _samples(pcm: bytes) -> array.array[int]:
    if len(pcm) % 2:
        raise InvalidParamsError(f"PCM16 audio has an even number of bytes, got {len(pcm)}")
    out = array.array("h")
    out.frombytes(pcm)
    if sys.byteorder == "big":  # pragma: no cover - PCM16 is little-endian on the wire and in WAV
        out.byteswap()
    return out


def _bytes(samples: array.array[int]) -> bytes:
    if sys.byteorder == "big":  # pragma: no cover
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _check_rate(rate: Any, name: str = "rate") -> int:
    if isinstance(rate, bool) or not isinstance(rate, int) or not 1000 <= rate <= 384000:
        raise InvalidParamsError(f"{name} must be a sample rate in Hz (1000..384000), got {rate!r}")
    return rate


def _to_pcm16(frames: bytes, width: int) -> bytes:
    """Integer PCM of ``width`` bytes per sample (WAV conventions) as PCM16."""
    if width == 2:
        return frames
    if width == 1:  # unsigned 8-bit
        return _bytes(array.array("h", ((b - 128) << 8 for b in frames)))
    if width in (3, 4):
        step = width
        out = array.array("h")
        for i in range(0, len(frames) - step + 1, step):
            out.append(int.from_bytes(frames[i + step - 2 : i + step], "little", signed=True))
        return _bytes(out)
    raise InvalidParamsError(f"unsupported WAV sample width: {width} bytes")


def to_mono(pcm: bytes, channels: int) -> bytes:
    """Interleaved PCM16 with ``channels`` channels mixed down to mono (the channels' mean)."""
    if channels == 1:
        return pcm
    if not isinstance(channels, int) or channels < 1:
        raise InvalidParamsError(f"channels must be a positive integer, got {channels!r}")
    samples = _samples(pcm)
    frames = len(samples) // channels
    mixed = array.array(
        "h", (sum(samples[i * channels : (i + 1) * channels]) // channels for i in range(frames))
    )
    return _bytes(mixed)


def resample(pcm: bytes, from_rate: int, to_rate: int = RATE) -> bytes:
    """Mono PCM16 at ``from_rate`` resampled to ``to_rate`` (linear interpolation)."""
    _check_rate(from_rate, "from_rate")
    _check_rate(to_rate, "to_rate")
    samples = _samples(pcm)
    if from_rate == to_rate or not samples:
        return pcm
    count = max(1, round(len(samples) * to_rate / from_rate))
    ratio = from_rate / to_rate
    last = len(samples) - 1
    out = array.array("h", bytes(2 * count))
    for i in range(count):
        position = i * ratio
        left = int(position)
        if left >= last:
            out[i] = samples[last]
            continue
        frac = position - left
        out[i] = round(samples[left] + (samples[left + 1] - samples[left]) * frac)
    return _bytes(out)


def _read(source: Any) -> bytes:
    try:
        with wave.open(source, "rb") as wav:
            if wav.getcomptype() != "NONE":
                raise InvalidParamsError(f"compressed WAV ({wav.getcomptype()}) is not supported")
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise InvalidParamsError(f"not a PCM WAV file: {exc}") from None
    return resample(to_mono(_to_pcm16(frames, width), channels), rate, RATE)


def read_wav(path: PathOrFile) -> bytes:
    """A WAV file (path or binary file object) as PCM16 24 kHz mono bytes, converted as needed."""
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as handle:
            return _read(handle)
    return _read(path)


def from_wav_bytes(data: bytes) -> bytes:
    """The bytes of a WAV file as PCM16 24 kHz mono."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidParamsError(f"WAV data must be bytes, got {type(data).__name__}")
    return _read(io.BytesIO(bytes(data)))


def _write(target: Any, pcm: bytes, rate: int) -> None:
    _samples(pcm)  # validates the length
    with wave.open(target, "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(_check_rate(rate))
        wav.writeframes(pcm)


def write_wav(path: PathOrFile, pcm: bytes, *, rate: int = RATE) -> None:
    """Write mono PCM16 ``pcm`` (at ``rate``) as a WAV file (path or binary file object)."""
    if isinstance(path, (str, os.PathLike)):
        with open(path, "wb") as handle:
            _write(handle, bytes(pcm), rate)
    else:
        _write(path, bytes(pcm), rate)


def to_wav_bytes(pcm: bytes, *, rate: int = RATE) -> bytes:
    """Mono PCM16 ``pcm`` as the bytes of a WAV file."""
    buffer = io.BytesIO()
    _write(buffer, bytes(pcm), rate)
    return buffer.getvalue()


def duration_ms(pcm: bytes, *, rate: int = RATE) -> int:
    """How long mono PCM16 ``pcm`` plays at ``rate``, in milliseconds."""
    return len(pcm) // SAMPLE_WIDTH * 1000 // _check_rate(rate)


def chunks(pcm: bytes, *, ms: int = 100, rate: int = RATE) -> Iterator[bytes]:
    """``pcm`` cut into chunks of ``ms`` milliseconds (the last may be shorter), e.g. for ``append``."""
    if isinstance(ms, bool) or not isinstance(ms, int) or ms <= 0:
        raise InvalidParamsError(f"ms must be a positive integer, got {ms!r}")
    step = max(2, rate * ms // 1000 * SAMPLE_WIDTH)
    for start in range(0, len(pcm), step):
        yield bytes(pcm[start : start + step])


def rms(pcm: bytes) -> float:
    """The root-mean-square level of PCM16 ``pcm`` (0 for silence, 32767 at most)."""
    samples = _samples(pcm)
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def tone(ms: int, *, frequency: float = 220.0, amplitude: float = 0.3, rate: int = RATE) -> bytes:
    """A sine tone of ``ms`` milliseconds (``amplitude`` as a fraction of full scale): a stand-in for
    speech in tests and examples (loud enough for the gateway's voice activity detection)."""
    count = rate * ms // 1000
    peak = max(0.0, min(1.0, amplitude)) * 32767
    wave_ = array.array("h", (int(peak * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count)))
    return _bytes(wave_)


def silence(ms: int, *, rate: int = RATE) -> bytes:
    """``ms`` milliseconds of digital silence."""
    return bytes(rate * ms // 1000 * SAMPLE_WIDTH)


# --- devices (extra "voice") ------------------------------------------------------------------------


def _sounddevice() -> Any:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        raise ImportError(f"microphone and speaker need the sounddevice package: {VOICE_HINT}") from exc
    return sounddevice


class Microphone:
    """The default input device as an iterator of PCM16 24 kHz mono chunks of ``block_ms``.

    ``with Microphone() as mic: for chunk in mic: session.input_audio_buffer.append(chunk)``.
    """

    def __init__(self, *, block_ms: int = 100, device: Optional[Any] = None) -> None:
        self._sd = _sounddevice()
        self._stream = self._sd.RawInputStream(
            samplerate=RATE,
            channels=CHANNELS,
            dtype="int16",
            blocksize=RATE * block_ms // 1000,
            device=device,
        )
        self._block = RATE * block_ms // 1000

    def __enter__(self) -> Microphone:
        self._stream.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        data, _overflowed = self._stream.read(self._block)
        return bytes(data)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class Speaker:
    """The default output device; :meth:`play` writes PCM16 24 kHz mono (blocking until queued)."""

    def __init__(self, *, device: Optional[Any] = None) -> None:
        self._sd = _sounddevice()
        self._stream = self._sd.RawOutputStream(
            samplerate=RATE, channels=CHANNELS, dtype="int16", device=device
        )
        self._stream.start()

    def play(self, pcm: bytes) -> None:
        self._stream.write(bytes(pcm))

    def __enter__(self) -> Speaker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()
