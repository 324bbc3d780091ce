"""Small pure helpers for untrusted text."""

from __future__ import annotations

import re

#: Raw text kept per rejected record, so one runaway field cannot fill the database.
MAX_RAW_CHARS = 20_000

#: Lone UTF-16 surrogates that did not come from undecodable bytes (e.g. JSON "\ud800").
_LONE_SURROGATE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def printable(text: str, limit: int = MAX_RAW_CHARS) -> str:
    """Text safe to store and show: undecodable bytes become escapes; long text is cut."""
    text = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    safe = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if len(safe) > limit:
        return safe[:limit] + f"… [{len(safe) - limit:,} more characters]"
    return safe
