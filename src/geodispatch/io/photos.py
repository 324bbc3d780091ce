"""Crew photos: checked by content, cleaned of metadata, stored under a random name.

The client's file name and declared type are never trusted. The bytes must decode as a
JPEG, PNG or WebP image within the size and pixel limits; the image is re-encoded, which
drops EXIF (including the GPS position of a crew member's phone) and anything appended to
the file, and stored as ``<home>/photos/<random>.<ext>``.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

from geodispatch.domain.errors import InputError

ALLOWED: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS: Final = 40_000_000  # a 40-megapixel phone photo; bigger is a decompression bomb
PHOTO_DIR: Final = "photos"


def store_photo(data: bytes, home: Path, *, max_bytes: int = 8_000_000) -> str:
    """Validate and store a photo; returns its reference (``photos/<name>``).

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
    folder = home / PHOTO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ext = ALLOWED[kind]
    name = f"{secrets.token_hex(16)}.{ext}"
    if kind == "JPEG" and image.mode not in {"RGB", "L"}:
        image = image.convert("RGB")
    image.save(folder / name, format=kind)  # re-encoded without EXIF or trailing bytes
    return f"{PHOTO_DIR}/{name}"


def photo_path(home: Path, ref: str) -> Path:
    """The file of a stored photo reference; InputError for anything else."""
    parts = ref.split("/")
    if len(parts) != 2 or parts[0] != PHOTO_DIR or not parts[1] or parts[1].startswith("."):
        raise InputError(f"{ref!r} is not a photo reference")
    return home / PHOTO_DIR / parts[1]
