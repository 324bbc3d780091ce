"""Who is using the app: the role decides which pages the navigation offers."""

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


def current_role() -> Role:
    """The role chosen in the sidebar (kept in the session; Dispatcher by default)."""
    value = st.session_state.get("role", Role.DISPATCHER.value)
    try:
        return Role(value)
    except ValueError:
        return Role.DISPATCHER


def role_picker() -> Role:
    """Sidebar control to switch role; returns the chosen role."""
    roles = list(Role)
    chosen = st.sidebar.selectbox(
        "I am working as",
        [r.value for r in roles],
        key="role",
        index=roles.index(current_role()),
        help="Each role sees the pages made for its work.",
    )
    role = Role(chosen)
    st.sidebar.caption(ROLE_HELP[role])
    return role
