"""The result files the fake serves: a small real MP4 (H.264 + AAC, 1 s), a WAV it makes, an SRT."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Mapping
from functools import cache
from importlib import resources


@cache
def sample_video() -> bytes:
    return resources.files("vozo.testing").joinpath("sample.mp4").read_bytes()


@cache
def sample_audio() -> bytes:
    """One second of a 440 Hz square wave, 8 kHz mono 16-bit PCM."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"".join(struct.pack("<h", 8000 if (i // 9) % 2 else -8000) for i in range(8000)))
    return buffer.getvalue()


def sample_subtitles(language: str) -> bytes:
    return f"1\n00:00:00,000 --> 00:00:01,000\n[{language}] Hello from the fake Vozo.\n".encode()


# What the fake serves for a result file, by extension: a real file of that type.
_BY_EXTENSION = {".mp4": "video/mp4", ".wav": "audio/wav", ".srt": "application/x-subrip"}
_DEFAULT_EXTENSION = {"video": ".mp4", "audio": ".wav", "subtitle": ".srt"}


def file_name(result: str, file_types: Mapping[str, tuple[str, ...]]) -> str:
    """``video.mp4`` for a ``video_url`` result: the first documented extension this fake can make, else ``.bin``."""
    extensions = [ext for ext in file_types.get(result, ()) if ext in _BY_EXTENSION]
    return f"{result}{extensions[0] if extensions else _DEFAULT_EXTENSION.get(result, '.bin')}"


def result_file(name: str, language: str) -> tuple[bytes, str] | None:
    """The bytes and media type served for ``name`` (from ``file_name``), or None for a name it never gave."""
    if "/" in name or "." not in name:
        return None
    extension = name[name.rindex(".") :]
    if extension == ".mp4":
        return sample_video(), _BY_EXTENSION[extension]
    if extension == ".wav":
        return sample_audio(), _BY_EXTENSION[extension]
    if extension == ".srt":
        return sample_subtitles(language), _BY_EXTENSION[extension]
    if extension == ".bin":
        return f"a {name[: -len(extension)]} result from the fake Vozo\n".encode(), "application/octet-stream"
    return None


def mp4_boxes(data: bytes) -> list[str]:
    """The top-level box types of an ISO BMFF (MP4) file; raises ValueError when the container is broken."""
    boxes, offset = [], 0
    while offset < len(data):
        if offset + 8 > len(data):
            raise ValueError(f"truncated box header at byte {offset}")
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            if offset + 16 > len(data):
                raise ValueError(f"truncated large box header at byte {offset}")
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8 or offset + size > len(data):
            raise ValueError(
                f"box {kind!r} at byte {offset} claims {size} bytes; the file has {len(data) - offset} left"
            )
        boxes.append(kind.decode("latin-1"))
        offset += size
    return boxes


def is_playable_mp4(data: bytes) -> bool:
    """A container-header check: ftyp first, then a movie header and media data, every box complete."""
    try:
        boxes = mp4_boxes(data)
    except ValueError:
        return False
    return bool(boxes) and boxes[0] == "ftyp" and "moov" in boxes and "mdat" in boxes
