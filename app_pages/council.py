"""Council office (read-only): the monthly report of the wards this account may see.

The wards come from the signed-in account's scope (the council role); until accounts are
wired in, a link's ``?wards=3,4`` chooses them, which is a convenience, not access control.
"""

import streamlit as st

from geodispatch.domain.errors import GeodispatchError
from geodispatch.ui.accountability import council_view
from geodispatch.ui.widgets import show_error

st.title("Your wards")
st.caption("311 requests in your wards, month by month. No personal data is shown.")
raw = str(st.query_params.get("wards", ""))
wards = {int(w) for w in raw.split(",") if w.strip().isdigit()}
try:
    council_view(wards)
except GeodispatchError as exc:
    show_error(exc, warn=True)
