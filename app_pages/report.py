"""Public page: report a problem (phone first), with nearby open reports to join."""

import streamlit as st

from geodispatch.ui.report_form import report_form

st.title("Report a problem")
report_form(staff=False)
