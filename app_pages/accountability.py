"""Closures & equity (manager): closure truth, re-reports after closure, equity, ward reports."""

import streamlit as st

from geodispatch.domain.accounts import Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.ui import accountability as view
from geodispatch.ui.auth import staff_page
from geodispatch.ui.widgets import kept, open_tabs, show_error

staff_page(Page.ACCOUNTABILITY)
st.title("Closures & equity")
st.caption(
    "Closed means fixed: what each closing note says happened, completions the same problem "
    "was reported again after, whether some wards wait longer for the same work, and the "
    "monthly report for a council office."
)

tabs = open_tabs(["Closure truth", "Re-reports", "Equity", "Ward report"], key="acc-tab")
try:
    if tabs[0].open:
        with tabs[0]:
            view.closure_section()
    if tabs[1].open:
        with tabs[1]:
            view.rereport_section()
    if tabs[2].open:
        with tabs[2]:
            view.equity_section()
    if tabs[3].open:
        with tabs[3]:
            months = view.month_choices()
            if not months:
                st.info("No requests yet: import a file or load the sample (`geodispatch demo`).")
                st.stop()
            c1, c2 = st.columns(2)
            wards = view.ward_choices()
            ward = c1.selectbox("Ward", wards, key=kept("acc-ward", wards[0], options=wards))
            month = c2.selectbox("Month", months, key=kept("acc-month", months[0], options=months))
            view.ward_report_section([int(ward)], str(month), key="manager-report")
except GeodispatchError as exc:
    show_error(exc, warn=True)
