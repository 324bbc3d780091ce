"""SLA & trends (manager): compliance and backlog age by department and ward, monthly trends."""

import streamlit as st

from geodispatch.domain.accounts import Page, allowed_wards
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services.performance import table_csv
from geodispatch.ui import columns, data
from geodispatch.ui.auth import staff_page
from geodispatch.ui.widgets import (
    Download,
    Metric,
    count,
    downloads,
    kept,
    metrics,
    open_tabs,
    period_since,
    share,
    show_error,
    table,
    times_and_backlog,
)

user = staff_page(Page.PERFORMANCE)
#: council members see their own wards only: no "All", no city-wide figures
home_ward = user.wards[0] if user.ward_scoped else None
st.title("SLA & trends")
st.caption(
    "SLA compliance counts requests completed as a fix by their due time; duplicates and "
    "closures that were not fixes are counted apart. Backlog: requests still open, by age."
)

with st.spinner("Computing SLA figures…"):
    everything = data.performance_figures(None, None, None, home_ward, viewer=user)
if everything.requests == 0:
    st.info("No requests yet: import a file (Import page) or load the sample: `geodispatch demo`.")
    st.stop()

f1, f2, f3 = st.columns([3, 3, 2])
with f1:
    since = period_since("Reported", key="perf-period")
departments = ["All", *everything.departments]
department = f2.selectbox(
    "Department", departments, key=kept("perf-department", "All", options=departments)
)
if user.ward_scoped:
    mine = allowed_wards(user, [*everything.wards, *user.wards])
    ward = f3.selectbox("Ward", mine, key=kept("perf-ward", mine[0], options=mine))
else:
    wards = ["All", *everything.wards]
    ward = f3.selectbox("Ward", wards, key=kept("perf-ward", "All", options=wards))
try:
    with st.spinner("Computing SLA figures…"):
        figures = data.performance_figures(
            since,
            None,
            None if department == "All" else department,
            None if ward == "All" else int(ward),
            viewer=user,
        )
except GeodispatchError as exc:
    show_error(exc, warn=True)
    st.stop()
if figures.requests == 0:
    st.info("No requests in this selection: choose a longer period or another ward.")
    st.stop()

metrics(
    Metric("Requests", count(figures.requests)),
    Metric(
        "On time",
        share(figures.on_time_share),
        "share of completed requests with a target that met it",
    ),
    Metric(
        "Median time to fix",
        "—" if figures.median_days is None else f"{figures.median_days:.1f} days",
    ),
    Metric("Open", count(figures.open)),
    Metric("Overdue", count(figures.overdue)),
)

# only the open tab is drawn: a browser then builds one tab's tables and charts, not all
by_department, by_ward, trends = open_tabs(
    ["By department", "By ward", "Month by month"], key="perf-tab"
)
for tab, key, compliance, backlog in (
    (
        by_department,
        "department",
        figures.compliance_by_department,
        figures.backlog_by_department,
    ),
    (by_ward, "ward", figures.compliance_by_ward, figures.backlog_by_ward),
):
    if tab.open:
        with tab:
            times_and_backlog(
                key,
                key,
                compliance,
                backlog,
                key="perf",
                titles=("SLA compliance", "Backlog age"),
            )
if trends.open:
    with trends:
        st.subheader("Requests reported and completed per month")
        st.line_chart(figures.monthly, x="month", y=["opened", "completed"], height=280)
        st.subheader("Share completed on time, per month of completion")
        st.line_chart(figures.monthly, x="month", y="on_time_share", height=220)
        table(
            figures.monthly,
            {
                "month": "Month",
                "opened": columns.number("Reported"),
                "completed": columns.number("Completed"),
                "on_time_share": columns.ON_TIME,
                "median_days": columns.MEDIAN_DAYS,
            },
            key="perf-monthly",
        )

st.subheader("Export (CSV)")
downloads(
    *(
        Download(label, table_csv(frame), f"{name}.csv")
        for label, frame, name in (
            ("Compliance by department", figures.compliance_by_department, "sla-by-department"),
            ("Compliance by ward", figures.compliance_by_ward, "sla-by-ward"),
            ("Backlog by ward", figures.backlog_by_ward, "backlog-by-ward"),
            ("Monthly trends", figures.monthly, "monthly-trends"),
        )
    ),
    key="perf-csv",
)
