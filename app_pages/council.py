"""Council office (read-only): the monthly report of the wards the signed-in account may see.

The wards come from the council account's scope (set by an administrator); no personal
data is shown and nothing can be changed from here.
"""

import streamlit as st

from geodispatch.domain.accounts import Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.ui.accountability import council_view
from geodispatch.ui.auth import staff_page
from geodispatch.ui.widgets import show_error

user = staff_page(Page.COUNCIL)
st.title("Your wards")
st.caption("311 requests in your wards, month by month. No personal data is shown.")
try:
    council_view(user.wards)
except GeodispatchError as exc:
    show_error(exc, warn=True)
