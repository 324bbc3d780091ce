"""Who is signed in to the app: staff sessions, the sign-in form, single sign-on, sign-out.

A staff session is a token from :mod:`geodispatch.services.accounts` kept in this browser
session only (never the password). When ``.streamlit/secrets.toml`` has an ``[auth]``
section, Streamlit's ``st.login`` (OpenID Connect) signs people in and the e-mail it
vouches for is mapped to a local account, whose role decides what they may do; an e-mail
without an account gets no staff access. Pages ask :func:`staff_page` for the account,
which stops the page for anyone whose role does not show it.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from geodispatch.config import get_settings
from geodispatch.domain.accounts import MAX_PASSWORD, Action, Page, StaffUser
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import accounts
from geodispatch.ui.widgets import md_escape, show_error

TOKEN_KEY: Final = "staff-token"
_SSO_REFUSED: Final = "staff-sso-refused"


def sso_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` configures ``st.login`` (an ``[auth]`` section)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except Exception:  # an unreadable secrets file means no single sign-on
        return False


def _sso_email() -> str | None:
    """The e-mail the identity provider vouched for, when someone signed in through it."""
    if not sso_configured() or not st.user.is_logged_in:
        return None
    email = st.user.get("email")
    if not email or st.user.get("email_verified") is False:  # an address the IdP did not check
        return None
    return str(email)


def current_user() -> StaffUser | None:
    """The staff account signed in on this browser session, if its session is still live.

    A single sign-on identity without a local session is exchanged for one here.
    """
    token = st.session_state.get(TOKEN_KEY)
    if token:
        try:
            return accounts.user_for_token(str(token))
        except GeodispatchError:
            del st.session_state[TOKEN_KEY]
    email = _sso_email()
    if email is None or st.session_state.get(_SSO_REFUSED) == email:
        return None
    try:
        signed = accounts.sign_in_sso(email)
    except GeodispatchError as exc:
        st.session_state[_SSO_REFUSED] = email
        st.session_state["staff-sso-error"] = str(exc)
        return None
    st.session_state[TOKEN_KEY] = signed.token
    return signed.user


def sign_in_form() -> None:
    """Username + password form (and the single sign-on button when configured)."""
    settings = get_settings()
    refused = st.session_state.get("staff-sso-error")
    if sso_configured():
        if refused:
            st.error(md_escape(refused))
            if st.button("Sign out of the city account", key="staff-sso-logout"):
                st.session_state.pop(_SSO_REFUSED, None)
                st.session_state.pop("staff-sso-error", None)
                st.logout()
        elif st.button("Sign in with the city's account", type="primary", key="staff-sso"):
            st.login()
        st.caption("Or with a local account:")
    with st.form("staff-sign-in", border=True):
        username = st.text_input("Username", key="staff-username", max_chars=64)
        password = st.text_input(
            "Password", type="password", key="staff-password", max_chars=MAX_PASSWORD
        )
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        try:
            signed = accounts.sign_in(username, password)
        except GeodispatchError as exc:
            show_error(exc)
        else:
            st.session_state[TOKEN_KEY] = signed.token
            st.rerun()
    if settings.demo_mode:
        st.info(
            "Demo mode: sign in as "
            + ", ".join(f"**{d.username}** / `{d.password}`" for d in accounts.DEMO_ACCOUNTS)
            + " (one account per role; these passwords work only in demo mode)."
        )
    elif not accounts.has_users(settings):
        st.info(
            "No staff accounts yet: create the first admin on the server with "
            "`geodispatch users add NAME --role admin --password-stdin`."
        )


def sign_out() -> None:
    """End this browser session's staff session (and the single sign-on one) and rerun."""
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        accounts.sign_out(str(token))
    if _sso_email() is not None:
        st.logout()
    st.rerun()


def sidebar(user: StaffUser | None) -> None:
    """Who is signed in, and the sign-out button, in the sidebar."""
    if user is None:
        st.sidebar.caption("Staff: sign in on the **Staff sign in** page.")
        return
    wards = f" · wards {', '.join(map(str, user.wards))}" if user.wards else ""
    st.sidebar.markdown(f"Signed in as **{md_escape(user.display_name)}**")
    st.sidebar.caption(f"{md_escape(user.username)} · {user.role.label}{wards}")
    if st.sidebar.button("Sign out", key="staff-sign-out", icon=":material/logout:"):
        sign_out()


def staff_page(page: Page) -> StaffUser:
    """The signed-in account of a staff page; stops the page for anyone it is not for."""
    user = current_user()
    if user is None:
        st.warning("This page is for city staff: sign in on the **Staff sign in** page.")
        st.stop()
    if not user.sees(page):
        st.warning(f"A {user.role.label.lower()} account does not have this page.")
        st.stop()
    return user


def why_not(user: StaffUser, action: Action) -> str | None:
    """None when ``user`` may take ``action``; otherwise the reason, for a disabled button."""
    if user.may(action):
        return None
    return f"A {user.role.label.lower()} account may not {action.value}."
