"""Crew photos: checked by content, cleaned of metadata, stored under a random name.

The client's file name and declared type are never trusted. The bytes must decode as a
JPEG, PNG or WebP image within the size and pixel limits; the image is re-encoded, which
drops EXIF (including the GPS position of a crew member's phone) and anything appended to
the file, and stored as ``<home>/photos/<random>.<ext>``.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from geodispatch.domain.errors import InputError

ALLOWED: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS: Final = 40_000_000  # a 40-megapixel phone photo; bigger is a decompression bomb
PHOTO_DIR: Final = "photos"


@dataclass(frozen=True, slots=True)
class Photo:
    """A checked photo, re-encoded in memory and named; nothing is on disk yet."""

    ref: str  # photos/<random>.<ext>
    data: bytes


def prepare_photo(data: bytes, *, max_bytes: int = 8_000_000) -> Photo:
    """Validate and re-encode a photo in memory, without storing it.

    Raises
    ------
    InputError
        Empty, too large, not an image, not JPEG/PNG/WebP, or too many pixels.
    """
    if not data:
        raise InputError("photo is empty; attach a JPEG, PNG or WebP picture or leave it out")
    if len(data) > max_bytes:
        raise InputError(
            f"photo is {len(data) / 1e6:.1f} MB; at most {max_bytes / 1e6:.0f} MB is accepted. "
            "Take it at a lower resolution."
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format or ""
            width, height = probe.size
            if kind not in ALLOWED:
                raise InputError(f"photo is a {kind or 'unknown'} file; send JPEG, PNG or WebP")
            if width * height > MAX_PIXELS:
                raise InputError(
                    f"photo is {width}×{height} pixels; at most {MAX_PIXELS:,} pixels are accepted"
                )
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise InputError(
            "photo could not be read as an image (the file is not a picture or is damaged); "
            "send a JPEG, PNG or WebP photo"
        ) from None
    if kind == "JPEG" and image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=kind)  # re-encoded without EXIF or trailing bytes
    return Photo(f"{PHOTO_DIR}/{secrets.token_hex(16)}.{ALLOWED[kind]}", out.getvalue())


def save_photo(photo: Photo, home: Path) -> None:
    """Write a prepared photo under ``home`` (after the update it belongs to is accepted)."""
    path = photo_path(home, photo.ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(photo.data)


def store_photo(data: bytes, home: Path, *, max_bytes: int = 8_000_000) -> str:
    """Validate and store a photo at once; returns its reference (``photos/<name>``)."""
    photo = prepare_photo(data, max_bytes=max_bytes)
    save_photo(photo, home)
    return photo.ref


def stored_bytes(home: Path, refs: list[str]) -> int:
    """Bytes on disk of these stored photos (missing files count nothing)."""
    total = 0
    for ref in refs:
        path = photo_path(home, ref)
        if path.exists():
            total += path.stat().st_size
    return total


def photo_path(home: Path, ref: str) -> Path:
    """The file of a stored photo reference; InputError for anything else."""
    parts = ref.split("/")
    if len(parts) != 2 or parts[0] != PHOTO_DIR or not parts[1] or parts[1].startswith("."):
        raise InputError(f"{ref!r} is not a photo reference")
    return home / PHOTO_DIR / parts[1]
