"""Closure truth, re-reports, equity and ward reports on screen (manager and council).

Cached reads of ``services.closures`` / ``services.reports`` keyed on the data version,
and the sections the pages draw. :func:`ward_report_section` is the one rendering of a
:class:`~geodispatch.reporting.ward_report.WardReport`: the manager page and the council
view both call it, and it shows the numbers of the HTML report it offers for download.
The council view takes a set of wards (its account's scope) and shows no personal data
and no action.
"""

from __future__ import annotations

import json
from collections.abc import Collection

import pandas as pd
import streamlit as st

from geodispatch.analysis.recurrence import Recurrence, RecurrenceParams
from geodispatch.config import get_settings
from geodispatch.intake.closure_notes import ClosureClass
from geodispatch.reporting.ward_report import (
    WardReport,
    choropleth_svg,
    equity_geojson,
    render_html,
)
from geodispatch.services import closures, hotspots, reports
from geodispatch.ui import columns
from geodispatch.ui.widgets import (
    Download,
    Metric,
    count,
    downloads,
    metrics,
    now_local,
    share,
    show_map,
    table,
)


def _url() -> str:
    return get_settings().database_url


@st.cache_data(show_spinner=False, max_entries=4)
def _closure_summary(url: str, version: tuple[int, int, str]) -> closures.ClosureSummary:
    del url, version
    return closures.closure_summary()


def closure_summary() -> closures.ClosureSummary:
    """Closures per outcome class and type (cached per data version)."""
    return _closure_summary(_url(), hotspots.data_version())


@st.cache_resource(show_spinner=False, max_entries=8)
def _recurrence(url: str, version: tuple[int, int, str], params: RecurrenceParams) -> Recurrence:
    del url, version
    return closures.recurrence(params)


def recurrence(params: RecurrenceParams) -> Recurrence:
    """Re-reports after completions (shared per data version and parameters; read only)."""
    return _recurrence(_url(), hotspots.data_version(), params)


@st.cache_data(show_spinner=False, max_entries=16)
def _equity(
    url: str, version: tuple[int, int, str], service_name: str | None
) -> closures.EquityView:
    del url, version
    return closures.equity(service_name=service_name)


def equity(service_name: str | None) -> closures.EquityView:
    """Equity table and ward gaps for one type or all (cached per data version)."""
    return _equity(_url(), hotspots.data_version(), service_name)


@st.cache_data(show_spinner=False, max_entries=32)
def _ward_report(
    url: str, version: tuple[int, int, str], wards: tuple[int, ...], month: str
) -> WardReport:
    del url, version
    return reports.ward_report(wards, month)


def ward_report(wards: Collection[int], month: str) -> WardReport:
    """One month's ward report (cached per data version, wards and month)."""
    return _ward_report(_url(), hotspots.data_version(), tuple(sorted(wards)), month)


@st.cache_data(show_spinner=False, max_entries=2)
def _outlines(url: str) -> dict[str, object] | None:
    del url
    return hotspots.ward_outlines()


CLASS_LABEL = {c.value: c.label for c in ClosureClass}


def closure_section() -> None:
    """What closed requests' notes say: counts per class and per type, duplicate links."""
    summary = closure_summary()
    counts = summary.counts
    if counts.closed == 0:
        st.info("No closed requests yet.")
        return
    metrics(
        Metric("Closed", count(counts.closed)),
        Metric(
            "Completed (a fix)",
            count(counts.by_class.get(ClosureClass.COMPLETED, 0)),
            "closures whose note says work was done (or says nothing beyond 'resolved')",
        ),
        Metric(
            "Closed without work",
            count(counts.without_work),
            "not found, not at location, gone, already fixed, no access, duplicate, "
            "another agency, invalid, noted",
        ),
        Metric(
            "Duplicates linked", count(counts.duplicates_linked), "to the case their note cites"
        ),
    )
    rows = pd.DataFrame(
        {
            "outcome": [c.label for c in ClosureClass],
            "requests": [counts.by_class.get(c, 0) for c in ClosureClass],
        }
    )
    rows["share"] = rows["requests"] / max(counts.closed, 1)
    table(
        rows,
        {
            "outcome": "What the closing note says",
            "requests": columns.number("Requests"),
            "share": st.column_config.ProgressColumn(
                "Share", min_value=0.0, max_value=1.0, format="percent"
            ),
        },
        key="closures-classes",
    )
    st.caption(
        f"Rules: {summary.rules_name} (GEODISPATCH_CLOSURE_RULES names a city's own file). "
        "Imports apply them; `geodispatch sla closures --apply` re-reads stored notes."
    )
    by_type = summary.by_type.rename(columns=CLASS_LABEL)
    table(
        by_type,
        {"service_name": "Type", "total": columns.number("Closed")}
        | {label: columns.number(label) for label in CLASS_LABEL.values()},
        key="closures-by-type",
    )
    downloads(
        Download("Closures by type (CSV)", summary.by_type.to_csv(index=False), "closures.csv"),
        key="closures-downloads",
    )


def rereport_section() -> None:
    """Completions re-reported within the window, by type, ward and crew."""
    settings = get_settings()
    c1, c2, c3 = st.columns(3)
    days = c1.number_input("Days after completion", 1, 365, int(settings.rereport_window_days))
    radius = c2.number_input("Within (metres)", 5, 1000, int(settings.rereport_radius_m))
    related = c3.toggle("Related types count", help="same type family (catalogue category)")
    params = RecurrenceParams(float(radius), float(days), related=related)
    with st.spinner("Finding re-reports…"):
        found = recurrence(params)
    metrics(
        Metric("Completions (located)", count(found.completed)),
        Metric("Re-reported", count(found.rereported)),
        Metric("Share", share(found.rereported / found.completed if found.completed else None)),
    )
    by = st.segmented_control("By", ["type", "ward", "crew"], default="type", key="rereports-by")
    column = {"type": "service_name", "ward": "ward", "crew": "crew"}[by or "type"]
    frame = found.by(column)
    table(
        frame,
        {
            column: (by or "type").capitalize(),
            "completed": columns.number("Completed"),
            "rereported": columns.number("Re-reported"),
            "share": st.column_config.ProgressColumn(
                "Share re-reported", min_value=0.0, max_value=1.0, format="percent"
            ),
            "rereports": columns.number("Later reports"),
        },
        key="rereports-table",
    )
    st.caption(
        "A completion is re-reported when a report of the same type (or family) is made within "
        "the distance and days after it was closed; the city's own work orders and scheduled "
        "services (pickups, deliveries) do not count. Crew: the crew that recorded the work in "
        "the field, else the source's department."
    )
    downloads(
        Download("Re-reports (CSV)", frame.to_csv(index=False), "rereports.csv"), key="rereports-dl"
    )


def equity_section() -> None:
    """Time to close by ward against the city, per type, on a map shaded by the gap."""
    overall = equity(None)
    types = sorted(overall.table["service_name"].unique())
    choice = st.selectbox("Type", ["All types", *types], key="equity-type")
    view = overall if choice == "All types" else equity(choice)
    gaps = view.wards
    shade = st.segmented_control(
        "Shade wards by",
        ["On-time gap", "Median-days gap"],
        default="On-time gap",
        key="equity-shade",
        help="On-time gap compares types on one scale (points of on-time share); the "
        "median-days gap is best read for one type at a time.",
    )
    by_days = shade == "Median-days gap"
    column, sign = ("median_gap_days", 1.0) if by_days else ("on_time_gap", -100.0)
    values = {int(w): sign * float(g) for w, g in zip(gaps["ward"], gaps[column], strict=True)}
    left, right = st.columns([3, 2])
    with left:
        st.subheader(
            "Median days to complete: gap to the city"
            if by_days
            else "On-time share: gap to the city (points)"
        )
        svg = choropleth_svg(
            _outlines(_url()),
            values,
            unit="days" if by_days else "points",
            worse="slower" if by_days else "less often on time",
            digits=1 if by_days else 0,
        )
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body style='margin:0'>"
            + svg
            + "</body></html>"
        )
        show_map(page, height=560)
    with right:
        st.subheader("By ward")
        table(
            gaps,
            {
                "ward": "Ward",
                "types": columns.number("Types ranked"),
                "completed": columns.number("Completed"),
                "median_gap_days": columns.number("Median gap (days)", "%+.1f"),
                "on_time_gap": columns.number("On-time gap", "%+.2f"),
                "slower": columns.number("Types slower"),
                "faster": columns.number("Types faster"),
            },
            key="equity-wards",
        )
    small = int(view.table["small_sample"].sum())
    st.caption(
        f"Completed requests of {view.period}. Each ward figure has a 95 % interval "
        "(order statistics for the median, Wilson for the on-time share); a ward is called "
        "slower or faster only when its interval excludes the city's figure. With hundreds of "
        "type × ward cells, about 1 in 20 'in line' cells would be flagged by chance. "
        f"{small:,} cells have fewer than 20 completions and are not ranked."
    )
    table(
        view.table,
        {
            "service_name": "Type",
            "ward": "Ward",
            "completed": columns.number("Completed"),
            "median_days": columns.number("Median days", "%.1f"),
            "median_low": columns.number("low", "%.1f"),
            "median_high": columns.number("high", "%.1f"),
            "city_median_days": columns.number("City median", "%.1f"),
            "p90_days": columns.number("90th pct days", "%.1f"),
            "city_p90_days": columns.number("City 90th pct", "%.1f"),
            "on_time_share": columns.ON_TIME,
            "city_on_time_share": columns.number("City on time", "%.2f"),
            "verdict": "Verdict",
        },
        key="equity-table",
    )
    downloads(
        Download("Type × ward (CSV)", view.table.to_csv(index=False), "equity.csv"),
        Download(
            "Wards (GeoJSON)",
            json.dumps(equity_geojson(_outlines(_url()), gaps)),
            "equity.geojson",
            "application/geo+json",
        ),
        key="equity-downloads",
    )


def ward_report_section(wards: Collection[int], month: str, *, key: str) -> WardReport:
    """The month's ward report: headline figures, the report page itself and its download."""
    report = ward_report(wards, month)
    metrics(
        Metric("Requests", count(report.requests)),
        Metric("Completed", count(report.completed)),
        Metric("On time", share(report.on_time_share)),
        Metric("Open at month end", count(report.open_at_end)),
        Metric("Closed without work", count(report.without_work)),
        Metric("Re-reported", count(report.rereported)),
    )
    page = render_html(report, generated=f"{now_local():%Y-%m-%d %H:%M}")
    downloads(
        Download(
            "Download the report (HTML)",
            page,
            f"ward-{'-'.join(map(str, report.wards))}-{report.month}.html",
            "text/html",
        ),
        key=f"{key}-download",
    )
    show_map(page, height=900)
    return report


def month_choices() -> list[str]:
    """Months with requests, newest first (YYYY-MM)."""
    return list(_month_choices(_url(), hotspots.data_version()))


@st.cache_data(show_spinner=False, max_entries=4)
def _month_choices(url: str, version: tuple[int, int, str]) -> tuple[str, ...]:
    del url, version
    return tuple(reports.months_with_requests())


@st.cache_data(show_spinner=False, max_entries=64)
def _job_closures(url: str, version: tuple[int, int, str], job_id: int) -> closures.JobClosures:
    del url, version
    return closures.job_closures(job_id)


def job_closures_section(job_id: int) -> None:
    """A job's earlier closures at its place (is it a re-report?) and its linked duplicates."""
    found = _job_closures(_url(), hotspots.data_version(), job_id)
    settings = get_settings()
    earlier = found.earlier
    label = (
        f"Earlier closures here: {len(earlier)} completed report(s) of this type within "
        f"{settings.rereport_radius_m:.0f} m before this job"
    )
    with st.expander(label, expanded=bool(len(earlier))):
        if earlier.empty:
            st.caption("None: this place has no earlier completion of this type.")
        else:
            st.caption(
                f"Last completed {earlier.iloc[0]['closed_at']:%Y-%m-%d}: if the problem is back "
                "soon after, the earlier work may not have held."
            )
            table(
                earlier.assign(closure_class=earlier["closure_class"].map(CLASS_LABEL)),
                {
                    "request_id": columns.number("Request", "%d"),
                    "source_id": "Source id",
                    "closure_class": "What the closing note said",
                    "created_at": st.column_config.DatetimeColumn("Reported", format="YYYY-MM-DD"),
                    "closed_at": st.column_config.DatetimeColumn("Closed", format="YYYY-MM-DD"),
                    "distance_m": columns.number("Metres away", "%.0f"),
                },
                key=f"job-earlier-{job_id}",
            )
        if not found.duplicates.empty:
            st.caption(
                f"{len(found.duplicates)} closed report(s) name a request of this job as the "
                "original:"
            )
            table(
                found.duplicates,
                {
                    "request_id": columns.number("Request", "%d"),
                    "source_id": "Source id",
                    "duplicate_of": columns.number("Duplicate of request", "%d"),
                    "closed_at": st.column_config.DatetimeColumn("Closed", format="YYYY-MM-DD"),
                },
                key=f"job-duplicates-{job_id}",
            )


def ward_choices() -> list[int]:
    """Wards with requests, in order."""
    return list(_ward_choices(_url(), hotspots.data_version()))


@st.cache_data(show_spinner=False, max_entries=4)
def _ward_choices(url: str, version: tuple[int, int, str]) -> tuple[int, ...]:
    del url, version
    return tuple(reports.wards_with_requests())


def council_view(wards: Collection[int]) -> None:
    """A council office's read-only view of its wards: the monthly report, nothing else.

    ``wards`` is the account's scope (the caller decides it); no personal data is shown
    and nothing can be changed from here.
    """
    scope = sorted({int(w) for w in wards})
    if not scope:
        st.warning("This account is not scoped to any ward; ask an administrator.")
        return
    months = month_choices()
    if not months:
        st.info("No requests yet.")
        return
    c1, c2 = st.columns(2)
    chosen = c1.multiselect("Wards", scope, default=scope, key="council-wards")
    month = c2.selectbox("Month", months, key="council-month")
    if not chosen:
        st.info("Choose at least one of your wards.")
        return
    ward_report_section([w for w in chosen if w in scope], month, key="council")
