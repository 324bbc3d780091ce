"""Small pure helpers for untrusted text."""

from __future__ import annotations

#: Raw text kept per rejected record, so one runaway field cannot fill the database.
MAX_RAW_CHARS = 20_000


def printable(text: str, limit: int = MAX_RAW_CHARS) -> str:
    """Text safe to store and show: undecodable bytes become escapes; long text is cut."""
    safe = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    # lone surrogates that did not come from bytes (e.g. JSON "\ud800") are escaped too
    safe = safe.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(safe) > limit:
        return safe[:limit] + f"… [{len(safe) - limit:,} more characters]"
    return safe
