"""Service types: SLA targets, crew skill, minutes, priority and who sees each type."""

import pandas as pd
import streamlit as st

from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services.catalogue import EDITABLE, edit_types, list_types
from geodispatch.ui import columns
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.widgets import show_error

user = staff_page(Page.CATALOGUE)
cannot_edit = why_not(user, Action.EDIT_CATALOGUE)
st.title("Service types")
st.caption(
    "What each request type means for the work: the SLA target (hours from report to "
    "completion), the crew skill it needs, the minutes on site and its priority decide "
    "routes and SLA figures; untick *Residents see it* for the city's own work orders, "
    "which the public page and Open311 then leave out. Edits are kept when data is "
    "imported again."
)

catalogue = list_types()
if not catalogue:
    st.info("No service types yet: they come with the first import (Import page).")
    st.stop()

before = pd.DataFrame(
    [
        {
            "code": t.code,
            "name": t.name,
            "requests": n,
            "department": t.department,
            "sla_hours": t.sla_hours,
            "service_minutes": t.service_minutes,
            "skill": t.skill,
            "priority": int(t.priority),
            "public": t.public,
            "field_work": t.field_work,
            "max_age_days": t.max_age_days,
        }
        for t, n in catalogue
    ]
)

after = st.data_editor(
    before,
    column_config={
        "code": st.column_config.TextColumn("Code", disabled=True),
        "name": st.column_config.TextColumn("Type", disabled=True, width="medium"),
        "requests": columns.number("Requests"),
        "department": st.column_config.TextColumn("Department", max_chars=120),
        "sla_hours": st.column_config.NumberColumn(
            "SLA target (h)", min_value=0.0, step=1.0, help="empty or 0: no target"
        ),
        "service_minutes": st.column_config.NumberColumn(
            "Minutes on site", min_value=1, max_value=1440, step=1
        ),
        "skill": st.column_config.TextColumn("Crew skill", max_chars=40),
        "priority": st.column_config.SelectboxColumn(
            "Priority", options=[1, 2, 3], help="1 emergency, 2 urgent, 3 routine"
        ),
        "public": st.column_config.CheckboxColumn("Residents see it"),
        "field_work": st.column_config.CheckboxColumn(
            "Crew visit", help="types no crew visits are never routed"
        ),
        "max_age_days": st.column_config.NumberColumn(
            "Age limit (days)",
            min_value=1,
            max_value=3650,
            step=1,
            help="older open jobs go to backlog review instead of onto routes; empty: the "
            "default (GEODISPATCH_MAX_AGE_DAYS)",
        ),
    },
    column_order=[
        "name",
        "requests",
        "public",
        "priority",
        "skill",
        "service_minutes",
        "sla_hours",
        "department",
        "field_work",
        "max_age_days",
        "code",
    ],
    disabled=True if cannot_edit else ["code", "name", "requests"],
    hide_index=True,
    width="stretch",
    height=520,
    key="catalogue-editor",
)

edits: dict[str, dict[str, object]] = {}
for row, was in zip(after.to_dict("records"), before.to_dict("records"), strict=True):
    changed = {
        name: row[name]
        for name in EDITABLE
        if not (pd.isna(row[name]) and pd.isna(was[name])) and row[name] != was[name]
    }
    if changed:
        edits[str(row["code"])] = changed

st.caption(f"{len(edits)} type(s) changed." if edits else "No changes yet.")
if cannot_edit:
    st.caption(f"{cannot_edit} Changes here are not saved.")
if st.button(
    "Save changes",
    type="primary",
    disabled=not edits or bool(cannot_edit),
    key="catalogue-save",
    help=cannot_edit,
):
    try:
        saved = edit_types(edits, by=user)
    except GeodispatchError as exc:
        show_error(exc)
    else:
        st.toast(f"Saved {len(saved)} service type(s).")
        del st.session_state["catalogue-editor"]  # the table shows the stored values
        st.rerun()
