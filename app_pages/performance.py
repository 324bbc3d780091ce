"""SLA & trends (manager): compliance and backlog age by department and ward, monthly trends."""

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from geodispatch.domain.errors import GeodispatchError
from geodispatch.reporting.kpis import AGE_LABELS
from geodispatch.services.performance import table_csv
from geodispatch.ui import data

st.title("SLA & trends")
st.caption(
    "SLA compliance counts requests completed as a fix by their due time; duplicates and "
    "closures that were not fixes are counted apart. Backlog: requests still open, by age."
)

everything = data.performance_figures(None, None, None, None)
if everything.requests == 0:
    st.info("No requests yet: import a file (Import page) or load the sample: `geodispatch demo`.")
    st.stop()

f1, f2, f3 = st.columns([2, 3, 2])
period = f1.segmented_control(
    "Reported",
    ["All time", "Last 12 months", "Last 90 days"],
    default="All time",
    key="perf-period",
)
department = f2.selectbox("Department", ["All", *everything.departments], key="perf-department")
ward = f3.selectbox("Ward", ["All", *everything.wards], key="perf-ward")
now = datetime.now(UTC)
since = {
    "Last 12 months": now - timedelta(days=365),
    "Last 90 days": now - timedelta(days=90),
}.get(period or "All time")
if since is not None:  # whole days keep the cache key stable through the day
    since = datetime.combine(since.date(), time(0), UTC)
try:
    figures = data.performance_figures(
        since,
        None,
        None if department == "All" else department,
        None if ward == "All" else int(ward),
    )
except GeodispatchError as exc:
    st.warning(str(exc))
    st.stop()

a, b, c, d, e = st.columns(5)
a.metric("Requests", f"{figures.requests:,}")
b.metric(
    "On time",
    "—" if figures.on_time_share is None else f"{figures.on_time_share:.0%}",
    help="share of completed requests with a target that met it",
)
c.metric(
    "Median days to fix",
    "—" if figures.median_days is None else f"{figures.median_days:.1f}",
)
d.metric("Open", f"{figures.open:,}")
e.metric("Overdue", f"{figures.overdue:,}")

compliance_columns = {
    "department": "Department",
    "ward": "Ward",
    "requests": st.column_config.NumberColumn("Requests"),
    "completed": st.column_config.NumberColumn("Completed"),
    "closed_not_fixed": st.column_config.NumberColumn("Closed, not a fix"),
    "median_days": st.column_config.NumberColumn("Median days", format="%.1f"),
    "p90_days": st.column_config.NumberColumn("90% within days", format="%.1f"),
    "on_time_share": st.column_config.ProgressColumn(
        "On time", min_value=0.0, max_value=1.0, format="percent"
    ),
}
backlog_columns = {
    "department": "Department",
    "ward": "Ward",
    "open": st.column_config.NumberColumn("Open"),
    "overdue": st.column_config.NumberColumn("Overdue"),
    "median_age_days": st.column_config.NumberColumn("Median age (days)", format="%.0f"),
    **{label: st.column_config.NumberColumn(label) for label in AGE_LABELS},
}
backlog_order = ["open", "overdue", "median_age_days", *AGE_LABELS]

by_department, by_ward, trends = st.tabs(["By department", "By ward", "Month by month"])
for tab, key, compliance, backlog in (
    (
        by_department,
        "department",
        figures.compliance_by_department,
        figures.backlog_by_department,
    ),
    (by_ward, "ward", figures.compliance_by_ward, figures.backlog_by_ward),
):
    with tab:
        st.subheader(f"SLA compliance by {key}")
        st.dataframe(
            compliance,
            hide_index=True,
            width="stretch",
            key=f"perf-compliance-{key}",
            column_config=compliance_columns,
        )
        st.subheader(f"Backlog age by {key}")
        st.dataframe(
            backlog,
            hide_index=True,
            width="stretch",
            key=f"perf-backlog-{key}",
            column_order=[key, *backlog_order],
            column_config=backlog_columns,
        )
with trends:
    st.subheader("Requests reported and completed per month")
    st.line_chart(figures.monthly, x="month", y=["opened", "completed"], height=280)
    st.subheader("Share completed on time, per month of completion")
    st.line_chart(figures.monthly, x="month", y="on_time_share", height=220)
    st.dataframe(
        figures.monthly,
        hide_index=True,
        width="stretch",
        key="perf-monthly",
        column_config={
            "month": "Month",
            "opened": "Reported",
            "completed": "Completed",
            "on_time_share": st.column_config.ProgressColumn(
                "On time", min_value=0.0, max_value=1.0, format="percent"
            ),
            "median_days": st.column_config.NumberColumn("Median days", format="%.1f"),
        },
    )

st.subheader("Export (CSV)")
x1, x2, x3, x4 = st.columns(4)
for column, (label, frame, name) in zip(
    (x1, x2, x3, x4),
    (
        ("Compliance by department", figures.compliance_by_department, "sla-by-department"),
        ("Compliance by ward", figures.compliance_by_ward, "sla-by-ward"),
        ("Backlog by ward", figures.backlog_by_ward, "backlog-by-ward"),
        ("Monthly trends", figures.monthly, "monthly-trends"),
    ),
    strict=True,
):
    column.download_button(
        label,
        data=table_csv(frame),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"perf-csv-{name}",
        on_click="ignore",
    )
