"""Column labels and formats the pages' tables share, so a job reads the same everywhere."""

from __future__ import annotations

from typing import Any, Final

import streamlit as st

from geodispatch.reporting.kpis import AGE_LABELS

JOB: Final[Any] = st.column_config.NumberColumn("Job", format="%d")
CALLERS: Final[Any] = st.column_config.NumberColumn(
    "Callers", help="residents who reported it (repeat reports merged)"
)
DUE: Final[Any] = st.column_config.DatetimeColumn("SLA due", format="YYYY-MM-DD HH:mm")
PRIORITY: Final[Any] = st.column_config.NumberColumn("Priority", format="P%d")
ON_TIME: Final[Any] = st.column_config.ProgressColumn(
    "On time", min_value=0.0, max_value=1.0, format="percent"
)
MEDIAN_DAYS: Final[Any] = st.column_config.NumberColumn("Median (days)", format="%.1f")

DAYS_LEFT: Final[Any] = st.column_config.NumberColumn(
    "Days left", format="%.1f", help="until the SLA due time; negative: overdue by that many days"
)

#: Type, address and ward of a job, in that order.
PLACE: Final[dict[str, Any]] = {"address": "Address", "ward": "Ward"}


def number(label: str, fmt: str = "localized", **kwargs: Any) -> Any:
    """A number column with a label (and a unit in the label: "Distance (m)")."""
    return st.column_config.NumberColumn(label, format=fmt, **kwargs)


#: Response-time figures (performance and public pages), after the grouping column.
RESPONSE: Final[dict[str, Any]] = {
    "requests": number("Requests"),
    "completed": number("Completed"),
    "closed_not_fixed": number(
        "Closed, not a fix", help="duplicates, no action needed, other agencies"
    ),
    "median_days": MEDIAN_DAYS,
    "p90_days": number("90% within (days)", "%.1f"),
    "on_time_share": ON_TIME,
}

#: Open requests by age (performance and public pages), after the grouping column.
BACKLOG: Final[dict[str, Any]] = {
    "open": number("Open"),
    "overdue": number("Overdue"),
    "median_age_days": number("Median age (days)", "%.0f"),
    **{label: number(label) for label in AGE_LABELS},
}
