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
from geodispatch.storage.field_repo import StopView
from geodispatch.ui.geolocation import device_position
from geodispatch.ui.widgets import show_error

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
            token, _expires, _crew = field.login(code, pin, source=_client_address())
        except GeodispatchError as exc:
            show_error(exc)
            return
        st.session_state[TOKEN_KEY] = token
        st.rerun()


def _client_address() -> str:
    """The phone's address as Streamlit sees it, for the failed-sign-in throttle."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):  # no browser session (a script, AppTest)
        address = None
    return f"app:{address or 'local'}"


def sign_out() -> None:
    """Revoke this session's token (a handed-over phone keeps no access)."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        field.logout(str(token))


def crew_day(crew: CrewIdentity) -> CrewDay:
    """Today's published stops of the crew, in order (thin wrapper over the service)."""
    return field.crew_day(crew)


#: The position sent with a crew update: latitude, longitude (None when not sent) and
#: where it came from ("device", "confirmed" at the stop, or "entered" by hand).
Position = tuple[float | None, float | None, str]


def position_picker(stop: StopView) -> Position:
    """Ask where the crew is for this stop's update: the phone's fix, the stop, or typed.

    Browsers share the phone's position only over https; without it the crew confirms
    being at the stop (flagged for a supervisor's check) or types a position.
    """
    device = device_position(key=f"crew-geo-{stop.stop_id}")
    choices = (["device"] if device is not None else []) + ["confirmed", "entered", "none"]
    labels = {
        "device": f"Phone's location (±{device.accuracy_m:.0f} m)" if device else "",
        "confirmed": "I am at the stop",
        "entered": "Type a position",
        "none": "Don't send a position",
    }
    where = st.radio(
        "Position sent with the update",
        choices,
        format_func=labels.__getitem__,
        key=f"crew-pos-{stop.stop_id}",
        label_visibility="collapsed",
    )
    position: Position = (None, None, "device")
    if where == "device" and device is not None:
        position = (device.lat, device.lon, "device")
    elif where == "confirmed":
        position = (stop.lat, stop.lon, "confirmed")
    elif where == "entered":
        typed = st.text_input(
            "Latitude, longitude",
            key=f"crew-latlon-{stop.stop_id}",
            placeholder="42.3351, -71.0726",
        )
        if typed.strip():
            try:
                position = (*field.parse_position(typed), "entered")
            except GeodispatchError as exc:
                show_error(exc)
    if position[0] is None or position[2] != "device":
        st.caption(
            "Without the phone's own position, a 'done' is marked for a supervisor to check."
        )
    return position
