"""geodispatch Streamlit app: the router and frame. Pages live in app_pages/.

The sidebar asks who is working (dispatcher, field crew, manager, public); the navigation
then offers the pages made for that role. Pages only call geodispatch.services.
"""

from __future__ import annotations

import streamlit as st

from geodispatch.ui.roles import Role, role_picker

st.set_page_config(page_title="geodispatch", page_icon=":material/local_shipping:", layout="wide")

OVERVIEW = st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:")
IMPORT = st.Page("app_pages/intake.py", title="Import requests", icon=":material/upload_file:")
PUBLIC = st.Page(
    "app_pages/public.py", title="Open requests & response times", icon=":material/public:"
)
WORK = st.Page("app_pages/work.py", title="Work & SLA", icon=":material/schedule:")

PAGES = {
    Role.DISPATCHER: {"Dispatch": [OVERVIEW, WORK, IMPORT]},
    Role.CREW: {"My work": [OVERVIEW]},
    Role.MANAGER: {"Management": [OVERVIEW, WORK, PUBLIC], "Data": [IMPORT]},
    Role.PUBLIC: {"City services": [PUBLIC]},
}

role = role_picker()
st.navigation(PAGES[role]).run()
