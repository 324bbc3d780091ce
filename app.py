"""geodispatch Streamlit app: the router and frame. Pages live in app_pages/."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="geodispatch", page_icon=":material/local_shipping:", layout="wide")

pages = {
    "Overview": [
        st.Page(
            "app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True
        ),
    ],
    "Operations": [
        st.Page("app_pages/work.py", title="Work & SLA", icon=":material/schedule:"),
    ],
}
st.navigation(pages).run()
