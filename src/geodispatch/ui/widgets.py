"""Small Streamlit pieces shared by pages: maps, times in the city's zone, messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from geodispatch.config import get_settings
from geodispatch.services import clock
from geodispatch.ui import columns
from geodispatch.ui.map_frame import map_frame


def show_map(page: str, *, height: int = 520) -> None:
    """Embed a self-contained map page (Leaflet inlined by reporting: works offline).

    It is shown in a sandboxed frame (:mod:`geodispatch.ui.map_frame`).
    """
    if not page:
        st.caption("Nothing with a location to draw.")
        return
    map_frame(page, height=height)


def city_zone() -> ZoneInfo:
    """The city's time zone (settings)."""
    return ZoneInfo(get_settings().timezone)


def now_local() -> datetime:
    """The current time in the city's zone, from the product's clock."""
    return clock.now()


def clock_banner() -> None:
    """Say on every page when the product runs on a pinned day (the demo), not today."""
    text = clock.city_clock().banner()
    if text:  # a coloured line, not an st.info box: pages keep their own messages first
        st.markdown(f":orange-background[:material/event: {md_escape(text)}]")


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


# ---------------------------------------------------------------------- shared page pieces

#: The reporting periods the manager and public pages offer, in days back (None: all time).
PERIODS: Final = {"All time": None, "Last 12 months": 365, "Last 90 days": 90}


@dataclass(frozen=True, slots=True)
class Metric:
    """One headline figure: its label, the value as text, and an optional explanation."""

    label: str
    value: str
    help: str | None = None


def metrics(*items: Metric) -> None:
    """A row of headline figures, one column each."""
    for column, item in zip(st.columns(len(items)), items, strict=True):
        column.metric(item.label, item.value, help=item.help)


def count(value: int | float) -> str:
    """A count with thousands separators (``12,345``)."""
    return f"{int(value):,}"


def share(value: float | None) -> str:
    """A share as a percentage ('—' when there is nothing to divide)."""
    return "—" if value is None else f"{value:.0%}"


def table(
    frame: pd.DataFrame | list[dict[str, object]],
    columns: Mapping[str, Any],
    *,
    key: str,
    height: int | Literal["auto"] = "auto",
    where: Any = st,
    **selection: Any,
) -> Any:
    """A full-width table showing ``columns`` in their order, with their labels and formats.

    ``columns`` maps a column of ``frame`` to its label (text) or a ``st.column_config``
    entry; columns not named are hidden. ``selection`` passes ``on_select`` and
    ``selection_mode`` for tables a row can be picked from.
    """
    return where.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=height,
        key=key,
        column_order=list(columns),
        column_config=dict(columns),
        **selection,
    )


def type_filter(
    where: Any, types: Mapping[str, str], *, key: str, label: str = "Type"
) -> list[str]:
    """Multi-select of request types (code -> name shown); empty means all types."""
    options = list(types)
    return list(
        where.multiselect(
            label,
            options,
            format_func=types.__getitem__,
            key=kept(key, [], options=options),
            placeholder="All types",
        )
    )


def ward_filter(where: Any, wards: Sequence[int], *, key: str) -> list[int]:
    """Multi-select of wards; empty means all wards."""
    options = list(wards)
    return list(
        where.multiselect(
            "Ward", options, key=kept(key, [], options=options), placeholder="All wards"
        )
    )


def period_since(label: str, *, key: str) -> datetime | None:
    """Choose a reporting period; the UTC midnight it starts at (None: all time).

    Whole days keep cached figures valid through the day.
    """
    options = list(PERIODS)
    chosen = st.segmented_control(
        label, options, key=kept(key, "All time", options=[*options, None])
    )
    days = PERIODS.get(chosen or "All time")
    if days is None:
        return None
    start = clock.today() - timedelta(days=days)
    return datetime.combine(start, time(0), UTC)


def date_span(
    picked: object, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """A date_input range as UTC bounds ``[since, until)``; a bound at the data's edge is None.

    A range being picked has one date only for a moment: that date is the start.
    """
    raw = list(picked) if isinstance(picked, tuple | list) else [picked]
    days = [d for d in raw if isinstance(d, date)]
    start = days[0] if days else None
    end = days[1] if len(days) > 1 else None
    since = datetime.combine(start, time(0), UTC) if start and first and start > first else None
    until = (
        datetime.combine(end, time(0), UTC) + timedelta(days=1)
        if end and last and end < last
        else None
    )
    return since, until


@dataclass(frozen=True, slots=True)
class Download:
    """One file to offer: button label, contents (or a function making them), name, type."""

    label: str
    data: str | bytes | Callable[[], str | bytes]
    file_name: str
    mime: str = "text/csv"


def downloads(*items: Download, key: str) -> None:
    """A row of download buttons; contents made by a function are built only when clicked."""
    for i, (column, item) in enumerate(zip(st.columns(len(items)), items, strict=True)):
        column.download_button(
            item.label,
            data=item.data,
            file_name=item.file_name,
            mime=item.mime,
            key=f"{key}-{i}",
            on_click="ignore",
        )


def times_and_backlog(
    by: str,
    label: str,
    response: pd.DataFrame,
    backlog: pd.DataFrame,
    *,
    key: str,
    titles: tuple[str, str] = ("How long requests take", "Open requests by age"),
) -> None:
    """Response times and the open backlog by age, grouped by one column (``by``)."""
    st.subheader(f"{titles[0]}, by {label}")
    table(response, {by: label.capitalize(), **columns.RESPONSE}, key=f"{key}-response-{by}")
    st.subheader(f"{titles[1]}, by {label}")
    table(backlog, {by: label.capitalize(), **columns.BACKLOG}, key=f"{key}-backlog-{by}")


def show_error(exc: Exception, *, warn: bool = False) -> None:
    """A domain error as the user reads it: its message (escaped), never a traceback.

    Messages quote what was typed or uploaded, so markdown in them must not render.
    """
    (st.warning if warn else st.error)(md_escape(str(exc)))


def kept(key: str, default: object = None, *, options: Sequence[object] | None = None) -> str:
    """Keep a widget's value across pages: call before the widget, pass the key it returns.

    Streamlit forgets a widget's value when a run does not draw it (the user went to
    another page), so filters reset on the way back. This keeps a copy under another
    key and puts it back; values no longer in ``options`` are dropped. The widget must
    then be created without its own default.
    """
    state = st.session_state
    copy = f"{key}--kept"
    if key in state:
        state[copy] = state[key]
        return key
    value = state.get(copy, default)
    if options is not None:
        allowed = set(options)
        if isinstance(value, list | tuple):
            value = [v for v in value if v in allowed]
        elif value not in allowed:
            value = default
    state[key] = value
    return key


def open_tabs(labels: Sequence[str], *, key: str) -> Sequence[Any]:
    """Tabs whose choice survives a visit to another page, the first open by default.

    Each tab has ``.open``: a page draws only the open one (a rerun follows each change
    of tab), so the browser builds one tab's tables and charts, not all of them.
    """
    return st.tabs(list(labels), key=kept(key, labels[0], options=labels), on_change="rerun")
