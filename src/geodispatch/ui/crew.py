"""The crew's session on a phone: sign in with crew code + PIN, read the day, sign out.

The sign-in token (valid for one shift) lives in this browser session only; the PIN is
never stored. The route is read through :func:`crew_day`, the one place that knows which
service owns a crew's published stops.
"""

from __future__ import annotations

import streamlit as st

from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import field
from geodispatch.services.field import CrewDay, CrewIdentity

TOKEN_KEY = "crew-token"


def signed_in_crew() -> CrewIdentity | None:
    """The crew signed in on this browser session, if its token is still valid."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        return field.crew_for_token(str(token))
    except GeodispatchError:
        del st.session_state[TOKEN_KEY]
        return None


def sign_in_form() -> None:
    """Crew code + PIN form; on success the session holds the shift's token and reruns."""
    codes = field.crew_codes()
    if not codes:
        st.info("No crews yet: dispatch adds them with `geodispatch crews seed`.")
        return
    with st.form("crew-sign-in", border=True):
        code = st.selectbox("Crew", codes, index=None, key="crew-code", placeholder="Your crew")
        pin = st.text_input("PIN", type="password", key="crew-pin", max_chars=12)
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        if not code or not pin:
            st.error("Choose your crew and enter your PIN.")
            return
        try:
            token, _expires, _crew = field.login(code, pin)
        except GeodispatchError as exc:
            st.error(str(exc))
            return
        st.session_state[TOKEN_KEY] = token
        st.rerun()


def sign_out() -> None:
    """Revoke this session's token (a handed-over phone keeps no access)."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        field.logout(str(token))


def crew_day(crew: CrewIdentity) -> CrewDay:
    """Today's published stops of the crew, in order (thin wrapper over the service)."""
    return field.crew_day(crew)
