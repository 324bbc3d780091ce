"""Work & SLA: overdue and at-risk work by department and ward, closure audit, job actions."""

from datetime import UTC, datetime

import streamlit as st

from geodispatch.domain.errors import GeodispatchError
from geodispatch.domain.workflow import TRANSITIONS, needs_note
from geodispatch.services import sla, workflow

st.title("Work & SLA")
now = datetime.now(UTC)
with st.spinner("Checking due times…"):
    backlog = sla.backlog_by_department_ward(now=now)
    audit = sla.closure_audit()

if backlog.empty:
    st.info("No open work. Load the Boston sample with `geodispatch demo` or import requests.")
    st.stop()

a, b, c, d = st.columns(4)
a.metric("Open requests", f"{int(backlog['open'].sum()):,}")
b.metric("Overdue", f"{int(backlog['overdue'].sum()):,}")
c.metric(
    "At risk",
    f"{int(backlog['at_risk'].sum()):,}",
    help="less than a quarter of the SLA window left",
)
d.metric("Closures to audit", f"{len(audit):,}", help="completed without a crew's field completion")

st.subheader("Backlog by department and ward")
st.dataframe(
    backlog,
    hide_index=True,
    width="stretch",
    height=300,
    column_config={
        "department": "Department",
        "ward": "Ward",
        "open": st.column_config.NumberColumn("Open"),
        "overdue": st.column_config.NumberColumn("Overdue"),
        "at_risk": st.column_config.NumberColumn("At risk"),
        "oldest_days": st.column_config.NumberColumn("Oldest (days)", format="%.0f"),
    },
)

st.subheader("Incomplete work")
left, middle, right = st.columns(3)
departments = ["All", *sorted(backlog["department"].dropna().unique())]
department = left.selectbox("Department", departments, key="work-department")
wards = ["All", *sorted({w for w in backlog["ward"] if w != "none"}, key=int)]
ward = middle.selectbox("Ward", wards, key="work-ward")
show = right.radio(
    "Show",
    ["overdue", "at_risk", "all"],
    format_func={"overdue": "Overdue", "at_risk": "At risk", "all": "All open"}.__getitem__,
    horizontal=True,
    key="work-show",
)
work = sla.incomplete_work(
    now=now,
    department=None if department == "All" else department,
    ward=None if ward == "All" else int(ward),
    show=show,
)
st.caption(f"{len(work):,} requests, most overdue first (first 500 shown)")
st.dataframe(
    work.head(500)[
        [
            "request_id",
            "job_id",
            "service_name",
            "department",
            "ward",
            "address",
            "due_at",
            "hours_left",
            "caller_count",
            "status",
        ]
    ],
    hide_index=True,
    width="stretch",
    height=320,
    column_config={
        "request_id": "Request",
        "job_id": "Job",
        "service_name": "Type",
        "department": "Department",
        "ward": "Ward",
        "address": "Address",
        "due_at": st.column_config.DatetimeColumn("Due (UTC)"),
        "hours_left": st.column_config.NumberColumn("Hours left", format="%.0f"),
        "caller_count": st.column_config.NumberColumn("Callers"),
        "status": "Status",
    },
)

st.subheader("Closure audit")
if audit.empty:
    st.success("Every completion has a crew's field record.")
else:
    st.dataframe(
        audit[["request_id", "job_id", "service_code", "closed_at", "reason"]],
        hide_index=True,
        width="stretch",
    )

st.subheader("Completions to check")
flagged = sla.flagged_completions()
if flagged.empty:
    st.success("No crew completion is flagged.")
else:
    st.caption(
        "far_from_site: posted more than the allowed distance from the job; no_location: "
        "no position sent; no_photo: no photo attached"
    )
    st.dataframe(
        flagged[["job_id", "service_code", "actor", "at", "distance_m", "flags", "note"]],
        hide_index=True,
        width="stretch",
        column_config={
            "job_id": "Job",
            "service_code": "Type",
            "actor": "Crew",
            "at": st.column_config.DatetimeColumn("At (UTC)"),
            "distance_m": st.column_config.NumberColumn("Distance (m)", format="%.0f"),
            "flags": "Flags",
            "note": "Note",
        },
    )

st.subheader("Job")
job_id = st.number_input("Job id", min_value=1, step=1, value=None, key="job-id")
if job_id is not None:
    try:
        job = workflow.get_job(int(job_id))
    except GeodispatchError as exc:
        st.error(str(exc))
        st.stop()
    st.write(
        f"**{job.status.label}** · {job.caller_count} caller(s) · priority P{int(job.priority)} · "
        f"version {job.version}"
    )
    st.caption(job.address)
    history = workflow.job_history(job.id)
    st.dataframe(
        [
            {
                "at (UTC)": e.at,
                "event": e.kind.value,
                "request": e.request_id,
                "from": e.from_status.label if e.from_status else "",
                "to": e.to_status.label if e.to_status else "",
                "by": e.actor,
                "note": e.note,
                "flags": e.flags,
            }
            for e in history
        ],
        hide_index=True,
        width="stretch",
    )
    options = sorted(TRANSITIONS[job.status], key=lambda s: list(TRANSITIONS).index(s))
    with st.form("move-job"):
        target = st.selectbox("Move to", options, format_func=lambda s: s.label, key="move-to")
        note = st.text_input("Note (shown to residents)", key="move-note")
        actor = st.text_input("Your name", value="dispatch", key="move-actor")
        if st.form_submit_button("Change status"):
            if needs_note(job.status, target) and not note.strip():
                st.warning("This change needs a note saying why.")
            else:
                try:
                    moved = workflow.transition_job(
                        job.id, target, expected_version=job.version, actor=actor, note=note
                    )
                except GeodispatchError as exc:
                    st.error(str(exc))
                else:
                    st.success(f"Job {moved.id} is now {moved.status.label}.")
                    st.rerun()
