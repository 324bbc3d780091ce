"""Overview: what is in the system, by type, ward and status."""

import pandas as pd
import streamlit as st

from geodispatch.domain.accounts import Page
from geodispatch.ui import columns, data
from geodispatch.ui.auth import staff_page
from geodispatch.ui.widgets import Metric, count, local, metrics, table

staff_page(Page.OVERVIEW)
st.title("Overview")
with st.spinner("Counting requests…"):
    numbers = data.overview_figures()

if numbers.total == 0:
    st.info(
        "No requests yet. Load the Boston sample with `geodispatch demo`, or import a "
        "file with `geodispatch import PATH`."
    )
    st.stop()

metrics(
    Metric("Requests", count(numbers.total)),
    Metric("Open", count(numbers.open)),
    Metric(
        "Location unknown",
        count(numbers.location_unknown),
        "No usable point: placeholder, missing or invalid coordinates",
    ),
    Metric("Newest report", local(numbers.latest_created, "%Y-%m-%d")),
)

left, right = st.columns([3, 2])
with left:
    st.subheader("By request type")
    table(
        numbers.by_type,
        {
            "service_name": st.column_config.TextColumn("Type", width="medium"),
            "requests": columns.number("Requests", width="small"),
            "open": columns.number("Open", width="small"),
            "department": st.column_config.TextColumn("Department", width="small"),
        },
        key="overview-types",
        height=420,
    )
with right:
    st.subheader("By status")
    table(
        numbers.by_status,
        {"label": "Status", "requests": columns.number("Requests")},
        key="overview-status",
    )
    st.subheader("By ward")
    labels = numbers.by_ward["ward"].map(lambda w: "none" if w is pd.NA else f"{int(w):02d}")
    st.bar_chart(
        numbers.by_ward.assign(ward=labels),
        x="ward",
        y=["requests", "open"],
        stack=False,
        height=260,
    )
