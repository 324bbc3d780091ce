"""Overview: what is in the system, by type, ward and status."""

import pandas as pd
import streamlit as st

from geodispatch.services.overview import overview

st.title("Overview")
with st.spinner("Counting requests…"):
    numbers = overview()

if numbers.total == 0:
    st.info(
        "No requests yet. Load the Boston sample with `geodispatch demo`, or import a "
        "file with `geodispatch import PATH`."
    )
    st.stop()

a, b, c, d = st.columns(4)
a.metric("Requests", f"{numbers.total:,}")
b.metric("Open", f"{numbers.open:,}")
c.metric(
    "Location unknown",
    f"{numbers.location_unknown:,}",
    help="No usable point: placeholder, missing or invalid coordinates",
)
d.metric(
    "Newest report",
    "—"
    if numbers.latest_created is None
    else numbers.latest_created.tz_convert("America/New_York").strftime("%Y-%m-%d"),
)

left, right = st.columns([3, 2])
with left:
    st.subheader("By request type")
    st.dataframe(
        numbers.by_type,
        column_order=["service_name", "requests", "open", "department"],
        hide_index=True,
        width="stretch",
        height=420,
        column_config={
            "service_name": st.column_config.TextColumn("Type", width="medium"),
            "department": st.column_config.TextColumn("Department", width="small"),
            "requests": st.column_config.NumberColumn("Requests", width="small"),
            "open": st.column_config.NumberColumn("Open", width="small"),
        },
    )
with right:
    st.subheader("By status")
    st.dataframe(
        numbers.by_status[["label", "requests"]],
        hide_index=True,
        width="stretch",
        column_config={"label": "Status", "requests": "Requests"},
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
