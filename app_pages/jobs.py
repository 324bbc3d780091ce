"""Open jobs: filter by type, ward, age and SLA risk; review and merge possible duplicates."""

from datetime import timedelta

import streamlit as st

from geodispatch.analysis.dedup import CandidateParams
from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import board, workflow
from geodispatch.ui import columns
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.state import URGENT_FROM_JOBS
from geodispatch.ui.widgets import (
    Metric,
    count,
    dash,
    kept,
    local,
    local_columns,
    md_escape,
    metrics,
    show_error,
    table,
    type_filter,
    ward_filter,
)

AGE_STEPS = [0, 1, 2, 7, 14, 30, 90, 180, 365, 730, 100_000]
#: Rows listed at first, most urgent first: a screenful many times over, and a small
#: page to send to a browser (2,000 rows were 620 KB on the Boston backlog).
LISTED = 500
LISTED_MORE = 5000
MORE_HELP = "Longer lists take longer to send and draw, above all on a phone."

user = staff_page(Page.JOBS)
st.title("Open jobs")

view = st.segmented_control(
    "Show", ["Open jobs", "Possible duplicates"], key=kept("jobs-view", "Open jobs")
)

if view != "Possible duplicates":
    with st.spinner("Reading open jobs…"):
        everything = board.job_board()
    if everything.total == 0:
        st.info(
            "No open jobs. Import requests (Import page) or load the sample: `geodispatch demo`."
        )
        st.stop()
    f1, f2, f3 = st.columns([3, 2, 2])
    types = type_filter(f1, everything.types, key="jobs-type")
    wards = ward_filter(f2, everything.wards, key="jobs-ward")
    text = f3.text_input(
        "Address contains", key=kept("jobs-text", ""), placeholder="e.g. Centre St", max_chars=80
    )
    g1, g2, g3 = st.columns([3, 2, 2])
    age = g1.select_slider(
        "Age (days since the first report)",
        options=AGE_STEPS,
        format_func=lambda d: "any age" if d == AGE_STEPS[-1] else f"{d} d",
        value=(0, AGE_STEPS[-1]),  # a range slider needs its value here: not kept
        key="jobs-age",
    )
    sla = g2.pills(
        "SLA",
        list(board.SLA_STATES),
        format_func=board.SLA_STATES.__getitem__,
        selection_mode="multi",
        key=kept("jobs-sla", [], options=list(board.SLA_STATES)),
    )
    routed = g3.segmented_control(
        "Today's plan",
        ["any", "on_route", "not_routed"],
        format_func={"any": "All", "on_route": "On a route", "not_routed": "Not routed"}.get,
        key=kept("jobs-routed", "any", options=["any", "on_route", "not_routed", None]),
    )
    try:
        selection = board.JobFilter(
            service_codes=tuple(types),
            wards=tuple(wards),
            min_age_days=float(age[0]),
            max_age_days=None if age[1] == AGE_STEPS[-1] else float(age[1]),
            sla=tuple(sla or ()),
            routed=routed or "any",
            text=text,
        )
    except GeodispatchError as exc:
        show_error(exc, warn=True)
        st.stop()
    jobs = board.job_board(selection) if selection != board.JobFilter() else everything
    metrics(
        Metric("Jobs shown", count(len(jobs.jobs)), f"of {jobs.total:,} open jobs"),
        Metric("Overdue", count(jobs.by_sla["overdue"])),
        Metric("At risk", count(jobs.by_sla["at_risk"]), "less than a quarter of the SLA left"),
        Metric(
            "Callers",
            count(jobs.jobs["caller_count"].sum()),
            "residents behind these jobs (repeat reports merged)",
        ),
    )
    if jobs.jobs.empty:
        st.info("No open job matches these filters: clear one of them to see more.")
        st.stop()
    listed = LISTED
    if len(jobs.jobs) > LISTED:
        note, more = st.columns([3, 1], vertical_alignment="center")
        if more.toggle(
            f"List up to {LISTED_MORE:,}", key=kept("jobs-more", default=False), help=MORE_HELP
        ):
            listed = LISTED_MORE
        note.caption(
            f"The {listed:,} most urgent of {len(jobs.jobs):,} are listed; the filters above "
            "narrow the list."
            if len(jobs.jobs) > listed
            else f"All {len(jobs.jobs):,} are listed."
        )
    shown = jobs.jobs.head(listed)
    picked = table(
        local_columns(shown, ["created_at", "due_at"]),
        {
            "job_id": columns.JOB,
            "sla": st.column_config.SelectboxColumn(
                "SLA", options=list(board.SLA_STATES), width="small"
            ),
            "days_left": columns.DAYS_LEFT,
            "priority": columns.PRIORITY,
            "service_name": "Type",
            **columns.PLACE,
            "caller_count": columns.CALLERS,
            "age_days": columns.number("Age (days)", "%.0f"),
            "status_label": "Status",
            "crew_code": "Crew today",
            "due_at": columns.DUE,
            "department": "Department",
        },
        key="jobs-table",
        height=480,
        on_select="rerun",
        selection_mode="single-row",
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        job = shown.iloc[rows[0]]
        st.subheader(f"Job {int(job['job_id'])}: {md_escape(job['service_name'])}", anchor=False)
        st.markdown(
            f"{md_escape(job['address'])} · ward {dash(job['ward'])} · "
            f"{int(job['caller_count'])} caller(s) · P{int(job['priority'])} · "
            f"{job['status_label']} · SLA due {local(job['due_at'], '%Y-%m-%d %H:%M')}"
        )
        left, right = st.columns(2)
        cannot_replan = why_not(user, Action.REPLAN)
        if left.button(
            "Urgent: re-plan today around it",
            key="jobs-urgent",
            disabled=bool(cannot_replan),
            help=cannot_replan,
        ):
            # the Plan page fills its urgent form from this (a form's own key is read-only)
            st.session_state[URGENT_FROM_JOBS] = int(job["job_id"])
            st.switch_page("app_pages/plan.py")
        if right.button("History, status and note for residents", key="jobs-history"):
            st.session_state["job-id"] = int(job["job_id"])
            st.switch_page("app_pages/work.py")
    st.stop()

# ------------------------------------------------------------------------ duplicates
st.caption(
    "Reports of one problem within 30 m and 14 days were merged automatically. These pairs "
    "are close but not certain: same type, near each other, reported within the window. "
    "Merging keeps the first job; its callers, earliest due time and top priority add up."
)
c1, c2 = st.columns(2)
radius = c1.slider("Within (metres)", 30, 300, step=10, key=kept("dup-radius", 100))
days = c2.slider("Reported within (days)", 1, 90, key=kept("dup-days", 30))
with st.spinner("Looking for possible duplicates…"):
    pairs = board.duplicate_candidates(
        CandidateParams(radius_m=float(radius), window=timedelta(days=days))
    )
hidden = st.session_state.setdefault("dup-hidden", set())
pairs = pairs[[(a, b) not in hidden for a, b in zip(pairs["job_a"], pairs["job_b"], strict=True)]]
if pairs.empty:
    st.success("No possible duplicates with these limits.")
    st.stop()
st.metric("Pairs to review", count(len(pairs)))
table(
    local_columns(pairs, ["created_a", "created_b"]),
    {
        "job_a": st.column_config.NumberColumn("Keep job", format="%d"),
        "job_b": st.column_config.NumberColumn("Duplicate?", format="%d"),
        "service_name": "Type",
        "distance_m": columns.number("Apart (m)", "%.0f"),
        "days_apart": columns.number("Apart (days)", "%.1f"),
        "address_a": "Address (keep)",
        "address_b": "Address (duplicate?)",
        "callers_a": columns.CALLERS,
        "callers_b": columns.CALLERS,
    },
    key="dup-table",
    height=300,
)
labels = {
    (int(r.job_a), int(r.job_b)): (
        f"{int(r.job_a)} ↔ {int(r.job_b)} · {r.service_name} · {r.distance_m:.0f} m · "
        f"{r.days_apart:.0f} days"
    )
    for r in pairs.itertuples()
}
pair = st.selectbox("Review pair", list(labels), format_func=labels.__getitem__, key="dup-pair")
row = pairs[(pairs["job_a"] == pair[0]) & (pairs["job_b"] == pair[1])].iloc[0]
left, right = st.columns(2)
for column, side, name in ((left, "a", "Keep"), (right, "b", "Duplicate?")):
    with column, st.container(border=True):
        st.markdown(f"**{name}: job {int(row[f'job_{side}'])}**")
        st.text(str(row[f"address_{side}"]))
        st.caption(
            f"{int(row[f'callers_{side}'])} caller(s) · {row[f'status_{side}']} · reported "
            f"{local(row[f'created_{side}'], '%Y-%m-%d')}"
        )
note = st.text_input(
    "Note for the audit trail", key="dup-note", placeholder="why they are one problem"
)
m1, m2, m3 = st.columns(3)
cannot_merge = why_not(user, Action.MERGE_SPLIT)
merge_b = m1.button(
    f"Merge {pair[1]} into {pair[0]}",
    type="primary",
    key="dup-merge",
    disabled=bool(cannot_merge),
    help=cannot_merge,
)
merge_a = m2.button(
    f"Merge {pair[0]} into {pair[1]}",
    key="dup-merge-reverse",
    disabled=bool(cannot_merge),
    help=cannot_merge,
)
if m3.button("Not the same problem", key="dup-dismiss"):
    hidden.add(pair)
    st.rerun()
if merge_b or merge_a:
    target, other = (pair[0], pair[1]) if merge_b else (pair[1], pair[0])
    try:
        merged = workflow.merge_jobs(
            target,
            {other: int(row[f"version_{'b' if merge_b else 'a'}"])},
            target_version=int(row[f"version_{'a' if merge_b else 'b'}"]),
            actor=user,
            note=note,
        )
    except GeodispatchError as exc:
        show_error(exc)
    else:
        st.toast(f"Job {other} merged into job {merged.id}: {merged.caller_count} callers.")
        st.rerun()
