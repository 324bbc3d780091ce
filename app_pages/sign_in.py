"""Staff sign in: a local account (username + password) or the city's single sign-on."""

import streamlit as st

from geodispatch.ui.auth import current_user, sign_in_form

st.title("Staff sign in")
if current_user() is not None:
    st.success("You are signed in: your pages are in the navigation.")
    st.stop()
st.caption(
    "For city staff. Residents need no account (see *Open requests & response times*); "
    "field crews sign in with their crew code and PIN on *My route*."
)
sign_in_form()
