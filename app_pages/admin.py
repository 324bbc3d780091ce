"""Accounts (admin): staff accounts and their roles, council wards, passwords; API keys."""

import pandas as pd
import streamlit as st

from geodispatch.domain.accounts import ACTIONS, PAGES, Action, Page, Role
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import accounts, api_keys
from geodispatch.ui.auth import staff_page
from geodispatch.ui.widgets import local, md_escape, show_error, table

user = staff_page(Page.ADMIN)
st.title("Accounts")
st.caption(
    "Staff sign in with these accounts; the role decides which pages and actions each "
    "account has (table below), and every change they make is recorded under the "
    "username. Council accounts are read-only and see their own wards' figures only. "
    "A new role, a new password or disabling an account ends its open sign-ins."
)

WARDS = list(range(1, 23))
people = accounts.list_users(by=user)
table(
    pd.DataFrame(
        [
            {
                "username": a.username,
                "name": a.display_name,
                "role": a.role.label,
                "wards": ", ".join(map(str, a.wards)) or "all",
                "email": a.email or "",
                "state": "disabled" if a.disabled else "active",
                "last": local(a.last_sign_in_at, "%Y-%m-%d %H:%M") if a.last_sign_in_at else "",
                "failed": a.failed_attempts,
            }
            for a in people
        ],
        columns=["username", "name", "role", "wards", "email", "state", "last", "failed"],
    ),
    {
        "username": "Username",
        "name": "Name",
        "role": "Role",
        "wards": "Wards",
        "email": "E-mail (single sign-on)",
        "state": "State",
        "last": "Last sign-in",
        "failed": "Failed sign-ins",
    },
    key="admin-users",
)

add, change = st.columns(2)
with add, st.form("admin-add", border=True, clear_on_submit=True):
    st.markdown("**New account**")
    username = st.text_input("Username", max_chars=64, key="admin-new-username")
    display = st.text_input("Name", max_chars=120, key="admin-new-name")
    role = st.selectbox("Role", list(Role), format_func=lambda r: r.label, key="admin-new-role")
    wards = st.multiselect("Wards (council only)", WARDS, key="admin-new-wards")
    email = st.text_input("E-mail for single sign-on (optional)", key="admin-new-email")
    password = st.text_input(
        "Password (12+ characters; empty: single sign-on only)",
        type="password",
        key="admin-new-password",
    )
    if st.form_submit_button("Create account", type="primary"):
        try:
            made = accounts.create_user(
                username,
                role,
                password=password or None,
                display_name=display,
                email=email or None,
                wards=wards,
                by=user,
            )
        except GeodispatchError as exc:
            show_error(exc)
        else:
            st.toast(f"Account {made.username} created ({made.role.label}).")
            st.rerun()

with change, st.container(border=True):
    st.markdown("**Change an account**")
    names = [a.username for a in people]
    chosen = st.selectbox("Account", names, index=None, key="admin-pick")
    account = next((a for a in people if a.username == chosen), None)
    if account is not None:
        st.caption(
            f"{md_escape(account.display_name or account.username)} · {account.role.label}"
            + (" · disabled" if account.disabled else "")
        )
        with st.form("admin-role"):
            new_role = st.selectbox(
                "Role",
                list(Role),
                index=list(Role).index(account.role),
                format_func=lambda r: r.label,
                key="admin-role",
            )
            new_wards = st.multiselect(
                "Wards (council only)", WARDS, default=list(account.wards), key="admin-wards"
            )
            if st.form_submit_button("Set role"):
                try:
                    accounts.set_role(account.username, new_role, wards=new_wards, by=user)
                except GeodispatchError as exc:
                    show_error(exc)
                else:
                    st.toast(f"{account.username} is now {new_role.label}.")
                    st.rerun()
        with st.form("admin-password", clear_on_submit=True):
            new_password = st.text_input(
                "New password (12+ characters)", type="password", key="admin-password"
            )
            if st.form_submit_button("Reset password"):
                try:
                    accounts.reset_password(account.username, new_password, by=user)
                except GeodispatchError as exc:
                    show_error(exc)
                else:
                    st.toast(f"Password of {account.username} reset; its sign-ins ended.")
        label = "Enable account" if account.disabled else "Disable account"
        if st.button(label, key="admin-disable"):
            try:
                accounts.set_disabled(account.username, disabled=not account.disabled, by=user)
            except GeodispatchError as exc:
                show_error(exc)
            else:
                st.rerun()

with st.expander("What each role may do"):
    table(
        pd.DataFrame(
            [
                {
                    "role": r.label,
                    "pages": ", ".join(p.value for p in Page if p in PAGES[r]) + ", public",
                    "actions": "; ".join(a.value for a in Action if a in ACTIONS[r]) or "none",
                }
                for r in Role
            ]
        ),
        {"role": "Role", "pages": "Pages", "actions": "Actions"},
        key="admin-roles",
    )

# --------------------------------------------------------------------- Open311 API keys
st.subheader("Open311 API keys")
st.caption(
    "One key per client system (the city's app, a partner). Only a hash is kept: the key "
    "is shown once, when it is made. Revoking a key refuses that client's next POST."
)
keys = api_keys.list_keys(by=user)
table(
    pd.DataFrame(
        [
            {
                "id": k.id,
                "client": k.name,
                "contact": k.contact,
                "starts": f"{k.prefix}…",
                "made": local(k.created_at, "%Y-%m-%d %H:%M"),
                "last": local(k.last_used_at, "%Y-%m-%d %H:%M") if k.last_used_at else "never",
                "state": "active" if k.active else "revoked",
            }
            for k in keys
        ],
        columns=["id", "client", "contact", "starts", "made", "last", "state"],
    ),
    {
        "id": "Id",
        "client": "Client",
        "contact": "Contact",
        "starts": "Key starts",
        "made": "Made",
        "last": "Last used",
        "state": "State",
    },
    key="admin-keys",
)
new_key, revoke = st.columns(2)
with new_key, st.form("admin-new-key", clear_on_submit=True):
    client = st.text_input("Client", key="admin-key-client", max_chars=100)
    contact = st.text_input("Contact (who to call about it)", key="admin-key-contact")
    if st.form_submit_button("Make a key"):
        try:
            made = api_keys.create_key(client, contact=contact, by=user)
        except GeodispatchError as exc:
            show_error(exc)
        else:
            st.session_state["admin-key-made"] = (made.key.name, made.secret)
            st.rerun()  # the table and the revoke list show the new key
if "admin-key-made" in st.session_state:
    name, secret = st.session_state["admin-key-made"]
    new_key.success(f"Key for {md_escape(name)} (copy it now; it is not shown again):")
    new_key.code(secret, language=None)
active = [k for k in keys if k.active]
if active:
    with revoke, st.form("admin-revoke-key"):
        chosen = st.selectbox(
            "Key",
            [k.id for k in active],
            format_func=lambda i: next(
                f"{k.id}: {k.name} ({k.prefix}…)" for k in active if k.id == i
            ),
            key="admin-key-revoke",
        )
        if st.form_submit_button("Revoke"):
            try:
                api_keys.revoke_key(int(chosen), by=user)
            except GeodispatchError as exc:
                show_error(exc)
            else:
                st.session_state.pop("admin-key-made", None)
                st.toast(f"Key {chosen} revoked.")
                st.rerun()
