"""geodispatch Streamlit app: the router and frame. Pages live in app_pages/.

The sidebar asks who is working (dispatcher, field crew, manager, public); the navigation
then offers the pages made for that role. Pages only call geodispatch.services.
"""

from __future__ import annotations

import streamlit as st

from geodispatch.ui.roles import Role, role_picker
from geodispatch.ui.warm_up import warm_once
from geodispatch.ui.widgets import clock_banner

st.set_page_config(
    page_title="geodispatch",
    page_icon="🚚",  # an emoji favicon is drawn locally; a :material: one is fetched from Google
    layout="wide",
    initial_sidebar_state="auto",
)

warm_once()  # the first session starts the background warm-up of the pages' figures

PLAN = st.Page("app_pages/plan.py", title="Plan today", icon=":material/route:")
JOBS = st.Page("app_pages/jobs.py", title="Open jobs", icon=":material/list_alt:")
WORK = st.Page("app_pages/work.py", title="Work & SLA", icon=":material/schedule:")
OVERVIEW = st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:")
IMPORT = st.Page("app_pages/intake.py", title="Import requests", icon=":material/upload_file:")
CATALOGUE = st.Page("app_pages/catalogue.py", title="Service types", icon=":material/tune:")
CREW = st.Page("app_pages/crew.py", title="My route", icon=":material/pin_drop:")
HOTSPOTS = st.Page("app_pages/hotspots.py", title="Hotspots", icon=":material/whatshot:")
PERFORMANCE = st.Page("app_pages/performance.py", title="SLA & trends", icon=":material/insights:")
PUBLIC = st.Page(
    "app_pages/public.py", title="Open requests & response times", icon=":material/public:"
)

PAGES = {
    Role.DISPATCHER: {"Dispatch": [PLAN, JOBS, WORK], "Data": [OVERVIEW, IMPORT, CATALOGUE]},
    Role.CREW: {"My work": [CREW]},
    Role.MANAGER: {
        "Management": [HOTSPOTS, PERFORMANCE, WORK, OVERVIEW, PUBLIC],
        "Data": [IMPORT, CATALOGUE],
    },
    Role.PUBLIC: {"City services": [PUBLIC]},
}

role = role_picker()
clock_banner()  # the demo runs on its data's last day and says so on every page
st.navigation(PAGES[role]).run()
