"""Public page: open requests and typical response times by ward and type, no personal data."""

import streamlit as st

from geodispatch.ui import data
from geodispatch.ui.widgets import (
    Metric,
    count,
    local,
    metrics,
    open_tabs,
    period_since,
    times_and_backlog,
)

st.title("Open requests & response times")
st.caption("Counts and times only: no names, addresses or descriptions are shown here.")

since = period_since("Requests opened", key="public-period")
with st.spinner("Counting…"):
    summary = data.public_figures(since)

if summary.hidden_types:
    kinds = "type is" if summary.hidden_types == 1 else "types are"
    st.caption(
        f"{summary.hidden_types:,} internal work-order {kinds} not shown "
        f"({summary.hidden_requests:,} requests): the city opens those for its own crews' "
        "work; they are not residents' reports."
    )
if summary.requests == 0:
    st.info("No requests were opened in this period: choose a longer one above.")
    st.stop()

metrics(
    Metric("Requests", count(summary.requests)),
    Metric("Still open", count(summary.open)),
    Metric("As of", local(summary.as_of, "%Y-%m-%d %H:%M")),
)

# only the open tab is drawn: a phone then builds one tab's tables or chart, not all
by_type, by_ward, trend = open_tabs(["By type", "By ward", "Month by month"], key="public-tab")
for tab, key, label, response, backlog in (
    (by_type, "service_name", "type", summary.response_by_type, summary.backlog_by_type),
    (by_ward, "ward", "ward", summary.response_by_ward, summary.backlog_by_ward),
):
    if tab.open:
        with tab:
            times_and_backlog(key, label, response, backlog, key="public")
if trend.open:
    with trend:
        st.subheader("Requests opened and completed per month")
        st.line_chart(summary.monthly, x="month", y=["opened", "completed"], height=320)
st.caption(
    "Response time counts requests completed as a fix; duplicates, requests needing "
    "no action and those for other agencies are counted apart as 'closed, not a fix'."
)
