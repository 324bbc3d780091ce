"""Hotspots (manager): problem places by type, emerging list, wards, chronic addresses.

Every filter applies to everything on the page: the map, the hotspot and emerging lists,
the ward table, the chronic addresses and the exports. A hotspot opens to its incidents
and the requests behind them.
"""

from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.reporting.ward_summary import WardSummary
from geodispatch.services import hotspots
from geodispatch.services.performance import table_csv
from geodispatch.ui import columns, data
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.widgets import (
    Download,
    Metric,
    count,
    date_span,
    downloads,
    kept,
    local_columns,
    metrics,
    now_local,
    open_tabs,
    show_error,
    show_map,
    table,
    type_filter,
    ward_filter,
)


def when_column(label: str) -> object:
    """A date-and-time column in the city's zone."""
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")


TRENDS = {
    "new": "New",
    "intensifying": "Intensifying",
    "persistent": "Persistent",
    "diminishing": "Diminishing",
}

user = staff_page(Page.HOTSPOTS)
st.title("Hotspots")
run = hotspots.latest_run()


def refresh_section() -> None:
    """Run the detection again, with a progress bar (after imports, or the first time)."""
    with st.expander("Run the analysis again (after imports)", expanded=run is None):
        st.caption(
            "Scans every resident request type for places where it is over-represented "
            "against all other types reported there (so a busy place is not a hotspot for "
            "being busy), counting incidents (merged duplicates once), then labels each "
            "hotspot new / intensifying / persistent / diminishing against the 90 days up to "
            "the analysis date. The city's internal work orders are left out. Hotspot ids "
            "are kept across runs."
        )
        ends = st.date_input(
            "Analyse requests up to", value=None, key="hot-refresh-until", help="empty: all"
        )
        cannot_find = why_not(user, Action.FIND_HOTSPOTS)
        if st.button(
            "Find hotspots", key="hot-refresh", disabled=bool(cannot_find), help=cannot_find
        ):
            bar = st.progress(0.0, text="Finding hotspots…")

            def tick(done: int, total: int | None) -> None:
                """Advance the bar as the analysis moves through its steps."""
                bar.progress(
                    min(1.0, done / total) if total else 0.5, text=f"Step {done} of {total}"
                )

            try:
                result = hotspots.refresh_hotspots(
                    until=datetime.combine(ends, time(0), UTC) if ends else None,
                    progress=tick,
                    by=user,
                )
            except GeodispatchError as exc:
                show_error(exc)
            else:
                bar.progress(1.0, text="Done")
                st.success(
                    f"{result.hotspots:,} hotspots ({result.by_trend.get('new', 0)} new, "
                    f"{result.by_trend.get('intensifying', 0)} intensifying) from "
                    f"{result.analysed:,} requests; {result.tagged:,} requests tagged."
                )


if run is None:
    st.info(
        "No hotspot analysis yet. Load requests (Import page or `geodispatch demo`), then "
        "run the analysis below."
    )
    refresh_section()
    st.stop()
choices = data.hotspot_choices()

with st.container(border=True):
    f1, f2, f3 = st.columns([3, 2, 3])
    types = type_filter(f1, choices.types, key="hot-types", label="Request type")
    wards = ward_filter(f2, choices.wards, key="hot-wards")
    trends = f3.pills(
        "Trend",
        list(TRENDS),
        format_func=TRENDS.__getitem__,
        selection_mode="multi",
        key=kept("hot-trends", [], options=list(TRENDS)),
    )
    g1, g2 = st.columns([3, 5])
    first = choices.first_report.date() if choices.first_report else None
    last = choices.last_report.date() if choices.last_report else None
    period = (
        g1.date_input(
            "Requests reported between",
            value=(first, last),
            min_value=first,
            max_value=last,
            key="hot-period",
            format="YYYY-MM-DD",
            help="Filters the requests drawn (heat, points, ward shading); hotspots describe "
            "the whole analysed period.",
        )
        if first and last
        else ()
    )
    h1, h2, h3 = g2.columns(3)
    mixed = h1.toggle(
        "Busy places (all types)",
        key=kept("hot-mixed", default=False),
        help="places where reports of every type pile up together: density, not a problem",
    )
    one_address = h2.toggle(
        "One-address hotspots",
        key=kept("hot-one-address", default=False),
        help="hotspots where one address holds half the incidents (see Chronic addresses)",
    )
    crew = h3.toggle(
        "Crew activity",
        key=kept("hot-crew", default=False),
        help="the city's own work orders (internal types) as their own map layers",
    )

since, until = date_span(period, first, last)
try:
    selection = hotspots.HotspotFilter(
        service_codes=tuple(types),
        wards=tuple(wards),
        trends=tuple(trends or ()),
        since=since,
        until=until,
        include_all_types=mixed,
        include_one_address=one_address,
        crew_activity=crew,
    )
except GeodispatchError as exc:
    show_error(exc, warn=True)
    st.stop()

with st.spinner("Reading hotspots…"):
    found, emerging = data.hotspot_lists(selection)
if found.empty:
    st.info(
        "No hotspot matches these filters: clear the type, ward or trend filter, or widen "
        "the dates."
    )
metrics(
    Metric("Hotspots", count(len(found))),
    Metric("New", count((found["trend"] == "new").sum())),
    Metric("Intensifying", count((found["trend"] == "intensifying").sum())),
    Metric("Emerging", count(len(emerging)), "new or intensifying, for this selection"),
)
if run.get("window_start") and run.get("as_of"):
    st.caption(
        f"Trend window {run['window_start']:%d %b %Y} – {run['as_of']:%d %b %Y}: "  # type: ignore[str-format]
        "new and intensifying compare it with the history before it."
    )

# only the open tab is drawn: the ward table and the exports cost the map page about
# 0.2 s in the browser when drawn under it (bench/app.py, median of 6 loads)
on_map, on_open, on_chronic, on_wards, on_export = open_tabs(
    ["Map and emerging", "Open a hotspot", "Chronic addresses", "Ward table", "Export"],
    key="hot-tab",
)


def ward_rows() -> tuple[WardSummary, pd.DataFrame]:
    """The ward summary and its rows for the wards filtered (all wards without a filter)."""
    summary = data.ward_summary(selection)
    rows = summary.by_ward
    if wards:
        rows = rows[rows["ward"].astype(str).isin([str(w) for w in wards])]
    return summary, rows


if on_map.open:
    with on_map:
        map_col, list_col = st.columns([3, 2])
        with map_col:
            every = st.toggle(
                "Draw every hotspot",
                key=kept("hot-every", default=False),
                help="By default the map draws each type's strongest hotspots, new and "
                "intensifying ones first; every hotspot makes a heavier map that opens more "
                "slowly.",
            )
            with st.spinner("Drawing the map…"):
                try:
                    page = data.hotspot_map(selection, every=every)
                except GeodispatchError as exc:
                    show_error(exc, warn=True)
                    page = ""
            show_map(page, height=600)
            hidden = data.hotspots_hidden(len(found), every=every)
            if hidden:
                st.caption(
                    f"The map draws the strongest {len(found) - hidden:,} of these {len(found):,} "
                    f"hotspots (each type's strongest in turn, new and intensifying first); "
                    f"{hidden:,} weaker ones are not drawn. Switch on **Draw every hotspot**, or "
                    "narrow the filters, to see them; the CSV and GeoJSON files on the Export "
                    "tab hold every one."
                )
        with list_col:
            st.subheader(f"Emerging ({len(emerging):,})")
            st.caption("New or intensifying in the trend window, most certain first.")
            if emerging.empty:
                st.caption("None in this selection.")
            table(
                emerging,
                {
                    "id": st.column_config.NumberColumn("#", format="%d"),
                    "service_name": "Type",
                    "trend": "Trend",
                    "wards": "Wards",
                    "n_reports": columns.number("Incidents"),
                    "share_ratio": columns.number("Share × city", "%.1f"),
                    "top_address": "Most reported address",
                },
                key="hot-emerging",
                height=520,
            )

if on_open.open:
    with on_open:
        if found.empty:
            st.caption("No hotspot in this selection.")
        else:
            labels = {
                int(i): f"#{i} {name} — {place}"
                for i, name, place in zip(
                    found["id"],
                    found["service_name"].astype(str),
                    found["top_address"]
                    .fillna("")
                    .astype(str)
                    .where(found["top_address"].fillna("") != "", found["wards"].astype(str)),
                    strict=True,
                )
            }
            chosen = st.selectbox(
                "Hotspot", list(labels), format_func=labels.__getitem__, key="hot-open"
            )
            detail = data.hotspot_detail(int(chosen))
            spot = detail.hotspot
            metrics(
                Metric("Incidents", count(int(spot["n_reports"]))),
                Metric("Requests", count(len(detail.requests)), "duplicates included"),
                Metric(
                    "Share × city",
                    f"{float(spot['share_ratio']):.1f}" if pd.notna(spot["share_ratio"]) else "—",
                    "the type's share of all reports here over its city-wide share",
                ),
                Metric("Addresses", count(int(spot["distinct_addresses"]))),
            )
            st.subheader("Incidents")
            table(
                local_columns(detail.incidents, ["created_at"]),
                {
                    "created_at": when_column("Reported"),
                    "address": "Address",
                    "status": "Status",
                    "requests": columns.number("Requests"),
                    "description": "Description",
                },
                key="hot-open-incidents",
            )
            st.subheader("Requests")
            table(
                local_columns(detail.requests, ["created_at", "closed_at"]),
                {
                    "id": st.column_config.NumberColumn("#", format="%d"),
                    "created_at": when_column("Reported"),
                    "closed_at": when_column("Closed"),
                    "status": "Status",
                    "address": "Address",
                    "description": "Description",
                    "job_id": st.column_config.NumberColumn("Job", format="%d"),
                },
                key="hot-open-requests",
            )

if on_chronic.open:
    with on_chronic:
        chronic = data.chronic_addresses(selection)
        st.caption(
            "One address reporting the same problem month after month (at least 5 incidents "
            "of one type in 3 different months): a call to one owner, not an area sweep."
        )
        table(
            chronic,
            {
                "service_name": "Type",
                "address": "Address",
                "incidents": columns.number("Incidents"),
                "requests": columns.number("Requests"),
                "months": columns.number("Months"),
                "open": columns.number("Open"),
                "history": "Incidents per month",
            },
            key="hot-chronic",
        )

if on_wards.open:
    with on_wards:
        summary, by_ward = ward_rows()
        st.caption(
            "Requests, open requests and hotspots per ward; the last window against the "
            "one before it, with a test of whether the change is more than chance."
        )
        table(
            by_ward,
            {
                "ward": "Ward",
                "requests": columns.number("Requests"),
                "open": columns.number("Open"),
                "recent": columns.number(
                    "Last window", help=f"reports in the last {summary.window_days:.0f} days"
                ),
                "previous": columns.number("Window before"),
                "change": columns.number("Change", "percent"),
                "changed": st.column_config.CheckboxColumn("Significant"),
                "hotspots": columns.number("Hotspots"),
                "emerging": columns.number("Emerging"),
                "mixed_hotspots": columns.number("Mixed-type"),
                "top_hotspots": "Strongest hotspots",
            },
            key="hot-ward-table",
        )

if on_export.open:
    with on_export:
        _, by_ward = ward_rows()
        stamp = now_local().strftime("%Y%m%d")
        downloads(
            Download(
                f"Hotspots as CSV ({len(found):,})",
                lambda: hotspots.hotspot_downloads(selection)[0],
                f"hotspots-{stamp}.csv",
            ),
            Download(
                f"Hotspots as GeoJSON ({len(found):,})",
                lambda: hotspots.hotspot_downloads(selection)[1],
                f"hotspots-{stamp}.geojson",
                "application/geo+json",
            ),
            Download("Ward table as CSV", table_csv(by_ward), f"wards-{stamp}.csv"),
            key="hot-export",
        )

refresh_section()
