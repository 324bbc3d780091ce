"""Small Streamlit pieces shared by pages: maps, times in the city's zone, messages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from geodispatch.config import get_settings


def show_map(page: str, *, height: int = 520) -> None:
    """Embed a self-contained map page (Leaflet inlined by reporting: works offline)."""
    if not page:
        st.caption("Nothing with a location to draw.")
        return
    st.iframe(page, height=height)


def city_zone() -> ZoneInfo:
    """The city's time zone (settings)."""
    return ZoneInfo(get_settings().timezone)


def now_local() -> datetime:
    """The current time in the city's zone."""
    return datetime.now(city_zone())


def local(value: datetime | pd.Timestamp | None, fmt: str = "%H:%M") -> str:
    """An aware time as text in the city's zone ('—' when missing)."""
    if value is None or pd.isna(value):
        return "—"
    return pd.Timestamp(value).tz_convert(city_zone()).strftime(fmt)


def local_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """A copy with the given aware-time columns shown in the city's zone (naive local)."""
    out = frame.copy()
    zone = city_zone()
    for column in columns:
        if column in out.columns:
            out[column] = pd.to_datetime(out[column], utc=True).dt.tz_convert(zone)
            out[column] = out[column].dt.tz_localize(None)
    return out


def dash(value: object) -> str:
    """A value as text, '—' when missing (None, NaN, NA)."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
        return "—"
    return str(value)


_MARKDOWN_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()#+-.!|<>~$"})


def md_escape(text: object) -> str:
    """Text safe to put inside st.markdown: markdown and HTML characters are escaped."""
    return str(text).translate(_MARKDOWN_SPECIAL)
