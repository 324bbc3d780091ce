"""Public page: open requests and typical response times by ward and type, no personal data."""

import pandas as pd
import streamlit as st

from geodispatch.services.public import public_summary

st.title("Open requests & response times")
st.caption("Counts and times only: no names, addresses or descriptions are shown here.")

period = st.segmented_control(
    "Requests opened",
    ["All time", "Last 12 months", "Last 90 days"],
    default="All time",
    key="public-period",
)
since = {"Last 12 months": pd.DateOffset(months=12), "Last 90 days": pd.DateOffset(days=90)}.get(
    period or "All time"
)
with st.spinner("Counting…"):
    summary = public_summary(since=None if since is None else pd.Timestamp.now(tz="UTC") - since)

if summary.requests == 0:
    st.info("No requests in this period.")
    st.stop()

a, b, c = st.columns(3)
a.metric("Requests", f"{summary.requests:,}")
b.metric("Still open", f"{summary.open:,}")
c.metric("As of", summary.as_of.strftime("%Y-%m-%d %H:%M UTC"))

response_columns = {
    "service_name": "Type",
    "ward": "Ward",
    "requests": "Requests",
    "completed": "Completed",
    "closed_not_fixed": "Closed, not a fix",
    "median_days": st.column_config.NumberColumn("Median days", format="%.1f"),
    "p90_days": st.column_config.NumberColumn("90% within days", format="%.1f"),
    "on_time_share": st.column_config.ProgressColumn(
        "On time", min_value=0.0, max_value=1.0, format="percent"
    ),
}

by_type, by_ward, trend = st.tabs(["By type", "By ward", "Month by month"])
with by_type:
    st.subheader("How long requests take, by type")
    st.dataframe(
        summary.response_by_type, hide_index=True, width="stretch", column_config=response_columns
    )
    st.subheader("Open requests by age, by type")
    st.dataframe(
        summary.backlog_by_type,
        hide_index=True,
        width="stretch",
        column_config={"service_name": "Type"},
    )
with by_ward:
    st.subheader("How long requests take, by ward")
    st.dataframe(
        summary.response_by_ward, hide_index=True, width="stretch", column_config=response_columns
    )
    st.subheader("Open requests by age, by ward")
    st.dataframe(
        summary.backlog_by_ward, hide_index=True, width="stretch", column_config={"ward": "Ward"}
    )
with trend:
    st.subheader("Requests opened and completed per month")
    st.line_chart(summary.monthly, x="month", y=["opened", "completed"], height=320)
st.caption(
    "Response time counts requests completed as a fix; duplicates, requests needing "
    "no action and those for other agencies are counted apart as 'closed, not a fix'."
)
