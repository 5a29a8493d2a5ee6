"""The result files the fake serves: a small real MP4 (H.264 + AAC, 1 s), and a WAV, SRT, WebVTT, JSON, text or
PNG it makes."""

from __future__ import annotations

import io
import json
import struct
import wave
import zlib
from collections.abc import Callable, Mapping
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


def sample_webvtt(language: str) -> bytes:
    return f"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n[{language}] Hello from the fake Vozo.\n".encode()


def sample_json(language: str) -> bytes:
    segment = {"start": 0.0, "end": 1.0, "text": "Hello from the fake Vozo."}
    return json.dumps({"language": language, "segments": [segment]}).encode()


def sample_text(language: str) -> bytes:
    return f"[{language}] Hello from the fake Vozo.\n".encode()


@cache
def sample_image() -> bytes:
    """A 2x2 grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)  # 8-bit greyscale
    pixels = zlib.compress(b"\x00\x80\x80" * 2)  # each row: filter 0, two pixels
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# What the fake serves for a result file, by extension: a real file of that type (made for the job's language).
_FILES: dict[str, tuple[Callable[[str], bytes], str]] = {
    ".mp4": (lambda _: sample_video(), "video/mp4"),
    ".wav": (lambda _: sample_audio(), "audio/wav"),
    ".srt": (sample_subtitles, "application/x-subrip"),
    ".vtt": (sample_webvtt, "text/vtt"),
    ".json": (sample_json, "application/json"),
    ".txt": (sample_text, "text/plain"),
    ".png": (lambda _: sample_image(), "image/png"),
}
# A type the fake cannot make is served as the nearest one it can, under that one's extension.
_NEAREST = {
    **dict.fromkeys((".mov", ".webm", ".mkv", ".avi", ".wmv"), ".mp4"),
    **dict.fromkeys((".mp3", ".m4a", ".aac", ".flac", ".ogg"), ".wav"),
    **dict.fromkeys((".jpg", ".jpeg", ".webp", ".gif"), ".png"),
    ".ass": ".srt",
    ".csv": ".txt",
}


def file_name(result: str, suffixes: Mapping[str, str]) -> str:
    """``srt.srt`` for a result the spec types ``.srt``: its type, or the nearest the fake makes, else ``.bin``."""
    suffix = suffixes.get(result, "")
    suffix = suffix if suffix in _FILES else _NEAREST.get(suffix, ".bin")
    return f"{result}{suffix}"


def result_file(name: str, language: str) -> tuple[bytes, str] | None:
    """The bytes and media type served for ``name`` (from ``file_name``), or None for a name it never gave."""
    if "/" in name or "." not in name:
        return None
    extension = name[name.rindex(".") :]
    if extension == ".bin":
        return f"a {name[: -len(extension)]} result from the fake Vozo\n".encode(), "application/octet-stream"
    if extension not in _FILES:
        return None
    make, media_type = _FILES[extension]
    return make(language), media_type


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
