"""Public page: a map of open and recently closed reports (type, status, age only)."""

import streamlit as st

from geodispatch.domain.errors import InputError
from geodispatch.services import report, track
from geodispatch.ui.map_frame import map_frame

st.title("Reports on the map")
st.caption(
    f"Open reports and those closed in the last {track.RECENT_DAYS} days. Only the type, "
    "status and age are shown: no descriptions, addresses or names."
)
types = report.public_types()
wards = track.map_wards()
left, right = st.columns(2)
ward = left.selectbox(
    "Ward",
    [None, *wards],
    format_func=lambda w: "All wards" if w is None else f"Ward {w}",
    key="map-ward",
)
code = right.selectbox(
    "Type",
    [None, *types],
    format_func=lambda c: "All types" if c is None else types[c],
    key="map-type",
)
try:
    shown = track.public_map_page(ward=ward, code=code)
except InputError as exc:
    st.info(str(exc))
    st.stop()
st.caption(
    " · ".join(
        f"{name}: {colour_name}"
        for name, colour_name in (
            ("Waiting", "red"),
            ("In hand", "orange"),
            ("Fixed", "green"),
            ("Closed", "grey"),
        )
    )
    + f" · {shown.shown:,} reports"
    + (f" (the newest {shown.limit:,})" if shown.shown >= shown.limit else "")
)
map_frame(shown.page, height=520, title="Reports on the map", key="public-map")
