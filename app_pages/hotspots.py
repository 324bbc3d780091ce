"""Hotspots (manager): map by ward with type, trend and date filters, emerging list, wards."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import hotspots
from geodispatch.ui import data
from geodispatch.ui.widgets import show_map

TRENDS = {
    "new": "New",
    "intensifying": "Intensifying",
    "persistent": "Persistent",
    "diminishing": "Diminishing",
}

st.title("Hotspots")
run = hotspots.latest_run()


def refresh_section() -> None:
    """Run the detection again, with a progress bar (after imports, or the first time)."""
    with st.expander("Run the analysis again (after imports)", expanded=run is None):
        st.caption(
            "Scans every request type for places with significantly more reports than their "
            "surroundings, then labels each hotspot new / intensifying / persistent / "
            "diminishing against the last 90 days. Hotspot ids are kept across runs."
        )
        ends = st.date_input(
            "Analyse requests up to", value=None, key="hot-refresh-until", help="empty: all"
        )
        if st.button("Find hotspots", key="hot-refresh"):
            bar = st.progress(0.0, text="Finding hotspots…")

            def tick(done: int, total: int | None) -> None:
                """Advance the bar as the analysis moves through its steps."""
                bar.progress(
                    min(1.0, done / total) if total else 0.5, text=f"Step {done} of {total}"
                )

            try:
                result = hotspots.refresh_hotspots(
                    until=datetime.combine(ends, time(0), UTC) if ends else None, progress=tick
                )
            except GeodispatchError as exc:
                st.error(str(exc))
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
    types = f1.multiselect(
        "Request type",
        list(choices.types),
        format_func=choices.types.__getitem__,
        key="hot-types",
        placeholder="All types",
    )
    wards = f2.multiselect("Ward", choices.wards, key="hot-wards", placeholder="All wards")
    trends = f3.pills(
        "Trend",
        list(TRENDS),
        format_func=TRENDS.__getitem__,
        selection_mode="multi",
        key="hot-trends",
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
    mixed = g2.toggle(
        "Include places where many types pile up together",
        value=True,
        key="hot-mixed",
        help="hotspots of all request types counted together",
    )

picked = list(period) if isinstance(period, tuple) else [period]
start = picked[0] if picked else None
end = picked[1] if len(picked) > 1 else None
since = datetime.combine(start, time(0), UTC) if start and first and start > first else None
until = (
    datetime.combine(end, time(0), UTC) + timedelta(days=1) if end and last and end < last else None
)
try:
    selection = hotspots.HotspotFilter(
        service_codes=tuple(types),
        wards=tuple(wards),
        trends=tuple(trends or ()),
        since=since,
        until=until,
        include_all_types=mixed,
    )
except GeodispatchError as exc:
    st.warning(str(exc))
    st.stop()

found = hotspots.list_hotspots(selection)
emerging = hotspots.emerging_hotspots(selection)
a, b, c, d = st.columns(4)
a.metric("Hotspots", f"{len(found):,}")
b.metric("New", f"{int((found['trend'] == 'new').sum()):,}")
c.metric("Intensifying", f"{int((found['trend'] == 'intensifying').sum()):,}")
if run is not None and run.get("window_start") and run.get("as_of"):
    d.metric(
        "Trend window",
        f"{run['window_start']:%d %b %Y} – {run['as_of']:%d %b %Y}",  # type: ignore[str-format]
        help="new/intensifying compare this window with the history before it",
    )

map_col, list_col = st.columns([3, 2])
with map_col:
    with st.spinner("Drawing the map…"):
        try:
            page = data.hotspot_map(selection)
        except GeodispatchError as exc:
            st.warning(str(exc))
            page = ""
    show_map(page, height=600)
with list_col:
    st.subheader(f"Emerging ({len(emerging):,})")
    st.caption("New or intensifying in the trend window, most certain first.")
    st.dataframe(
        emerging[["id", "service_name", "trend", "wards", "n_reports", "ratio", "top_address"]],
        hide_index=True,
        width="stretch",
        height=520,
        key="hot-emerging",
        column_config={
            "id": st.column_config.NumberColumn("#", format="%d"),
            "service_name": "Type",
            "trend": "Trend",
            "wards": "Wards",
            "n_reports": st.column_config.NumberColumn("Reports"),
            "ratio": st.column_config.NumberColumn("× expected", format="%.1f"),
            "top_address": "Most reported address",
        },
    )

st.subheader("Wards")
summary = data.ward_summary()
by_ward = summary.by_ward
if wards:
    by_ward = by_ward[by_ward["ward"].astype(str).isin([str(w) for w in wards])]
st.dataframe(
    by_ward,
    hide_index=True,
    width="stretch",
    key="hot-ward-table",
    column_order=[
        "ward",
        "requests",
        "open",
        "recent",
        "previous",
        "change",
        "changed",
        "hotspots",
        "emerging",
        "mixed_hotspots",
        "top_hotspots",
    ],
    column_config={
        "ward": "Ward",
        "requests": st.column_config.NumberColumn("Requests"),
        "open": st.column_config.NumberColumn("Open"),
        "recent": st.column_config.NumberColumn(
            "Last window", help=f"reports in the last {summary.window_days:.0f} days"
        ),
        "previous": st.column_config.NumberColumn("Window before"),
        "change": st.column_config.NumberColumn("Change", format="percent"),
        "changed": st.column_config.CheckboxColumn("Significant"),
        "hotspots": st.column_config.NumberColumn("Hotspots"),
        "emerging": st.column_config.NumberColumn("Emerging"),
        "mixed_hotspots": st.column_config.NumberColumn("Mixed-type"),
        "top_hotspots": "Strongest hotspots",
    },
)

st.subheader("Export")
e1, e2, e3 = st.columns(3)
stamp = datetime.now(UTC).strftime("%Y%m%d")
e1.download_button(
    f"Hotspots as CSV ({len(found):,})",
    data=lambda: hotspots.hotspot_downloads(selection)[0],
    file_name=f"hotspots-{stamp}.csv",
    mime="text/csv",
    key="hot-csv",
    on_click="ignore",
)
e2.download_button(
    f"Hotspots as GeoJSON ({len(found):,})",
    data=lambda: hotspots.hotspot_downloads(selection)[1],
    file_name=f"hotspots-{stamp}.geojson",
    mime="application/geo+json",
    key="hot-geojson",
    on_click="ignore",
)
e3.download_button(
    "Ward table as CSV",
    data=by_ward.to_csv(index=False),
    file_name=f"wards-{stamp}.csv",
    mime="text/csv",
    key="hot-wards-csv",
    on_click="ignore",
)

refresh_section()
