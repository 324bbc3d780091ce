"""Work & SLA: overdue and at-risk work by department and ward, closure audit, job actions."""

import streamlit as st

from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.domain.workflow import MAX_NOTE_CHARS, needs_note
from geodispatch.services import board, models, sla, workflow
from geodispatch.ui import columns
from geodispatch.ui.accountability import job_closures_section
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.widgets import (
    Metric,
    count,
    local_columns,
    md_escape,
    metrics,
    now_local,
    show_error,
    table,
)

user = staff_page(Page.WORK)
st.title("Work & SLA")
now = now_local()
with st.spinner("Checking due times…"):
    backlog = sla.backlog_by_department_ward(now=now)
    audit = sla.closure_audit()

if backlog.empty:
    st.info("No open work. Load the Boston sample with `geodispatch demo` or import requests.")
    st.stop()

metrics(
    Metric("Open requests", count(backlog["open"].sum())),
    Metric("Overdue", count(backlog["overdue"].sum())),
    Metric("At risk", count(backlog["at_risk"].sum()), "less than a quarter of the SLA left"),
    Metric("Closures to audit", count(len(audit)), "completed without a crew's field completion"),
)

st.subheader("Backlog by department and ward")
table(
    backlog,
    {
        "department": "Department",
        "ward": "Ward",
        "open": columns.number("Open"),
        "overdue": columns.number("Overdue"),
        "at_risk": columns.number("At risk"),
        "oldest_days": columns.number("Oldest (days)", "%.0f"),
    },
    key="work-backlog",
    height=300,
)

st.subheader("Likely to breach tomorrow")
watch = models.breach_watch(now=now)
if watch.empty:
    st.caption(
        "No open request due by the end of tomorrow looks likely to miss its SLA, or no "
        "time-to-close model is installed (`geodispatch models train`)."
    )
else:
    table(
        watch,
        {
            "request_id": columns.number("Request", "%d"),
            "service_name": "Type",
            "ward": "Ward",
            "due_at": columns.DUE,
            "risk": columns.number("Breach risk", "%.2f"),
        },
        key="work-breach-watch",
        height=240,
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
if work.empty:
    st.success("Nothing in this selection.")
else:
    st.caption(f"{len(work):,} requests, most overdue first (first 500 shown)")
    table(
        local_columns(work.head(500), ["due_at"]).assign(
            days_left=lambda f: f["hours_left"] / 24.0
        ),
        {
            "request_id": columns.number("Request", "%d"),
            "job_id": columns.JOB,
            "service_name": "Type",
            "department": "Department",
            **columns.PLACE,
            "due_at": columns.DUE,
            "days_left": columns.DAYS_LEFT,
            "caller_count": columns.CALLERS,
            "status": "Status",
        },
        key="work-incomplete",
        height=320,
    )

st.subheader("Closure audit")
if audit.empty:
    st.success("Every completion has a crew's field record.")
else:
    table(
        local_columns(audit, ["closed_at"]),
        {
            "request_id": columns.number("Request", "%d"),
            "job_id": columns.JOB,
            "service_code": "Type",
            "closed_at": st.column_config.DatetimeColumn("Closed", format="YYYY-MM-DD HH:mm"),
            "reason": "Why it needs a look",
        },
        key="work-audit",
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
    table(
        local_columns(flagged, ["at"]),
        {
            "job_id": columns.JOB,
            "service_code": "Type",
            "actor": "Crew",
            "at": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm"),
            "distance_m": columns.number("Distance (m)", "%.0f"),
            "flags": "Flags",
            "note": "Crew note",
        },
        key="work-flagged",
    )

st.subheader("Job")
job_id = st.number_input(
    "Job id", min_value=1, step=1, value=None, key="job-id", placeholder="e.g. from Open jobs"
)
if job_id is not None:
    try:
        detail = board.job_detail(int(job_id))
    except GeodispatchError as exc:
        show_error(exc)
        st.stop()
    job = detail.job
    st.markdown(
        f"**{job.status.label}** · {job.caller_count} caller(s) · priority P{int(job.priority)} · "
        f"version {job.version}"
    )
    st.caption(md_escape(job.address))
    table(
        local_columns(detail.history, ["at"]),
        {
            "at": st.column_config.DatetimeColumn("At", format="YYYY-MM-DD HH:mm"),
            "event": "Event",
            "request": columns.number("Request", "%d"),
            "from": "From",
            "to": "To",
            "by": "By",
            "note": "Note",
            "flags": "Flags",
        },
        key="work-history",
    )
    job_closures_section(int(job_id))
    if detail.public_note:
        st.markdown(f"**Residents read:** {md_escape(detail.public_note)}")
    else:
        st.caption("No note for residents yet: Open311 shows them the status only.")
    if not detail.moves:
        st.caption(f"{job.status.label} is final: no further status change.")
    with st.form("move-job"):
        target = st.selectbox(
            "Status",
            [None, *detail.moves],
            format_func=lambda s: f"Keep: {job.status.label}" if s is None else s.label,
            key="move-to",
        )
        note = st.text_input(
            "Why (staff and auditors only)",
            key="move-note",
            max_chars=500,
            help="Needed to close without a fix, reopen, or take a job back from a crew.",
        )
        public_note = st.text_area(
            "Note residents will see",
            key="move-public-note",
            max_chars=MAX_NOTE_CHARS,
            placeholder="e.g. Passed to MassDOT, who maintain this road.",
            help="Shown on Open311 with every request of this job. No names, phone "
            "numbers or internal detail.",
        )
        cannot_move = why_not(user, Action.MOVE_JOBS)
        submitted = st.form_submit_button("Save", disabled=bool(cannot_move), help=cannot_move)
    if submitted:
        if target is None and not public_note.strip():
            st.warning("Nothing to save: choose a new status or write a note for residents.")
        elif target is not None and needs_note(job.status, target) and not note.strip():
            st.warning("This change needs a note saying why.")
        else:
            try:
                if target is None:
                    workflow.add_public_note(job.id, public_note, actor=user)
                else:
                    workflow.transition_job(
                        job.id,
                        target,
                        expected_version=job.version,
                        actor=user,
                        note=note,
                        public_note=public_note,
                    )
            except GeodispatchError as exc:
                show_error(exc)
            else:
                for key in ("move-to", "move-note", "move-public-note"):
                    del st.session_state[key]  # an empty form for the next change
                st.toast(f"Job {job.id} saved: {target.label if target else job.status.label}.")
                st.rerun()
