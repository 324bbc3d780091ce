"""Who is using the app: the role decides which pages the navigation offers.

The role is a convenience for a shared screen, not access control: crews sign in with
code + PIN on their page; staff sign-in belongs to the city's single sign-on in front of
the app (see the README).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import streamlit as st


class Role(StrEnum):
    """The people the app serves."""

    DISPATCHER = "Dispatcher"
    CREW = "Field crew"
    MANAGER = "Manager"
    PUBLIC = "Public"


ROLE_HELP: Final = {
    Role.DISPATCHER: "plan today's routes, review jobs and duplicates, import requests",
    Role.CREW: "your stops for today; mark work done from your phone",
    Role.MANAGER: "hotspots by ward, SLA compliance, backlog and trends",
    Role.PUBLIC: "open requests and typical response times by ward and type",
}

#: ``?role=crew`` (etc.) in a bookmarked link opens the app in that role.
ROLE_PARAMS: Final = {
    "dispatcher": Role.DISPATCHER,
    "crew": Role.CREW,
    "manager": Role.MANAGER,
    "public": Role.PUBLIC,
}


def current_role() -> Role:
    """The role chosen in the sidebar (kept in the session; Dispatcher by default).

    On a session's first run a ``?role=`` query parameter (``crew``, ``manager``, …)
    chooses it, so a crew's phone can bookmark its page.
    """
    if "role" not in st.session_state:
        asked = ROLE_PARAMS.get(str(st.query_params.get("role", "")).lower())
        if asked is not None:
            st.session_state["role"] = asked.value
    value = st.session_state.get("role", Role.DISPATCHER.value)
    try:
        return Role(value)
    except ValueError:
        return Role.DISPATCHER


def role_picker() -> Role:
    """Sidebar control to switch role; returns the chosen role."""
    st.session_state["role"] = current_role().value
    chosen = st.sidebar.selectbox(
        "I am working as",
        [r.value for r in Role],
        key="role",
        help="Each role sees the pages made for its work.",
    )
    role = Role(chosen)
    st.sidebar.caption(ROLE_HELP[role])
    return role


def staff_name() -> str:
    """Who is acting, for the audit trail of dispatcher and manager actions."""
    st.session_state.setdefault("staff-name", "dispatch")
    name = st.sidebar.text_input("Your name (for the audit trail)", key="staff-name", max_chars=60)
    return name.strip() or "dispatch"
