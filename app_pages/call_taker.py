"""Dispatcher page: log a report from a phone call, a walk-in or a council office."""

import streamlit as st

from geodispatch.domain.accounts import Page
from geodispatch.ui.auth import staff_page
from geodispatch.ui.report_form import report_form

user = staff_page(Page.CALL_TAKER)
st.title("Log a call")
report_form(staff=True, taken_by=user.username)
