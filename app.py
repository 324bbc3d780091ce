"""geodispatch Streamlit app: the router and frame. Pages live in app_pages/.

Anyone may open the public page and the crews' PIN page; staff sign in (a local account
or the city's single sign-on) and the navigation then offers the pages of their
account's role (``geodispatch.domain.accounts``). Pages only call geodispatch.services.
"""

from __future__ import annotations

import streamlit as st

from geodispatch.domain.accounts import Page, Role
from geodispatch.ui.auth import current_user, sidebar
from geodispatch.ui.warm_up import warm_once
from geodispatch.ui.widgets import clock_banner

st.set_page_config(
    page_title="geodispatch",
    page_icon="🚚",  # an emoji favicon is drawn locally; a :material: one is fetched from Google
    layout="wide",
    initial_sidebar_state="auto",
)

warm_once()  # the first session starts the background warm-up of the pages' figures

STAFF = {
    Page.PLAN: st.Page("app_pages/plan.py", title="Plan today", icon=":material/route:"),
    Page.JOBS: st.Page("app_pages/jobs.py", title="Open jobs", icon=":material/list_alt:"),
    Page.WORK: st.Page("app_pages/work.py", title="Work & SLA", icon=":material/schedule:"),
    Page.HOTSPOTS: st.Page("app_pages/hotspots.py", title="Hotspots", icon=":material/whatshot:"),
    Page.PERFORMANCE: st.Page(
        "app_pages/performance.py", title="SLA & trends", icon=":material/insights:"
    ),
    Page.OVERVIEW: st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:"),
    Page.IMPORT: st.Page(
        "app_pages/intake.py", title="Import requests", icon=":material/upload_file:"
    ),
    Page.CATALOGUE: st.Page(
        "app_pages/catalogue.py", title="Service types", icon=":material/tune:"
    ),
    Page.ACCOUNTABILITY: st.Page(
        "app_pages/accountability.py", title="Closures & equity", icon=":material/fact_check:"
    ),
    Page.COUNCIL: st.Page("app_pages/council.py", title="Your wards", icon=":material/gavel:"),
    Page.CALL_TAKER: st.Page(
        "app_pages/call_taker.py", title="Log a call", icon=":material/support_agent:"
    ),
    Page.ADMIN: st.Page("app_pages/admin.py", title="Accounts", icon=":material/manage_accounts:"),
}
CREW = st.Page("app_pages/crew.py", title="My route", icon=":material/pin_drop:")
PUBLIC = st.Page(
    "app_pages/public.py", title="Open requests & response times", icon=":material/public:"
)
REPORT = st.Page(
    "app_pages/report.py",
    title="Report a problem",
    icon=":material/add_location:",
    url_path="report",
)
PUBLIC_MAP = st.Page(
    "app_pages/public_map.py", title="Reports on the map", icon=":material/map:", url_path="map"
)
TRACK = st.Page(
    "app_pages/track.py", title="Track a request", icon=":material/manage_search:", url_path="track"
)
SIGN_IN = st.Page("app_pages/sign_in.py", title="Staff sign in", icon=":material/login:")

SECTIONS = {
    "Dispatch": (Page.PLAN, Page.JOBS, Page.WORK, Page.CALL_TAKER),
    "Management": (Page.HOTSPOTS, Page.PERFORMANCE, Page.ACCOUNTABILITY, Page.COUNCIL),
    "Data": (Page.OVERVIEW, Page.IMPORT, Page.CATALOGUE),
    "Administration": (Page.ADMIN,),
}
#: The section each role lands in comes first.
FIRST = {
    Role.DISPATCHER: "Dispatch",
    Role.SUPERVISOR: "Dispatch",
    Role.MANAGER: "Management",
    Role.ADMIN: "Administration",
    Role.COUNCIL: "Management",
}

user = current_user()
sidebar(user)
clock_banner()  # the demo runs on its data's last day and says so on every page
if user is None:
    # ``?role=crew`` in a bookmarked link opens the crew's page first on a phone
    crew_first = str(st.query_params.get("role", "")).lower() == "crew"
    anonymous = {
        "City services": [PUBLIC, REPORT, TRACK, PUBLIC_MAP],
        "Field crew": [CREW],
        "Staff": [SIGN_IN],
    }
    if crew_first:
        anonymous = {
            "Field crew": [CREW],
            "City services": [PUBLIC, REPORT, TRACK, PUBLIC_MAP],
            "Staff": [SIGN_IN],
        }
    st.navigation(anonymous).run()
else:
    order = [FIRST[user.role], *(s for s in SECTIONS if s != FIRST[user.role])]
    navigation = {
        section: [STAFF[p] for p in SECTIONS[section] if user.sees(p)] for section in order
    }
    navigation = {section: pages for section, pages in navigation.items() if pages}
    navigation["City services"] = [PUBLIC, REPORT, TRACK, PUBLIC_MAP]
    st.navigation(navigation).run()
