"""Open jobs: filter by type, ward, age and SLA risk; review and merge possible duplicates."""

from datetime import timedelta

import streamlit as st

from geodispatch.analysis.dedup import CandidateParams
from geodispatch.domain.errors import GeodispatchError
from geodispatch.services import board, workflow
from geodispatch.ui.roles import staff_name
from geodispatch.ui.widgets import dash, local, local_columns

AGE_STEPS = [0, 1, 2, 7, 14, 30, 90, 180, 365, 730, 100_000]

st.title("Open jobs")
actor = staff_name()

view = st.segmented_control(
    "Show", ["Open jobs", "Possible duplicates"], default="Open jobs", key="jobs-view"
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
    types = f1.multiselect(
        "Type",
        list(everything.types),
        format_func=everything.types.__getitem__,
        key="jobs-type",
        placeholder="All types",
    )
    wards = f2.multiselect("Ward", everything.wards, key="jobs-ward", placeholder="All wards")
    text = f3.text_input("Address contains", key="jobs-text", placeholder="e.g. Centre St")
    g1, g2, g3 = st.columns([3, 2, 2])
    age = g1.select_slider(
        "Age (days since the first report)",
        options=AGE_STEPS,
        value=(0, AGE_STEPS[-1]),
        format_func=lambda d: "older" if d == AGE_STEPS[-1] else f"{d} d",
        key="jobs-age",
    )
    sla = g2.pills(
        "SLA",
        list(board.SLA_STATES),
        format_func=board.SLA_STATES.__getitem__,
        selection_mode="multi",
        key="jobs-sla",
    )
    routed = g3.segmented_control(
        "Today's plan",
        ["any", "on_route", "not_routed"],
        format_func={"any": "All", "on_route": "On a route", "not_routed": "Not routed"}.get,
        default="any",
        key="jobs-routed",
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
        st.warning(str(exc))
        st.stop()
    jobs = board.job_board(selection) if selection != board.JobFilter() else everything
    a, b, c, d = st.columns(4)
    a.metric("Jobs shown", f"{len(jobs.jobs):,}", help=f"of {jobs.total:,} open jobs")
    b.metric("Overdue", f"{jobs.by_sla['overdue']:,}")
    c.metric("At risk", f"{jobs.by_sla['at_risk']:,}", help="less than a quarter of the SLA left")
    d.metric(
        "Callers",
        f"{int(jobs.jobs['caller_count'].sum()):,}",
        help="residents behind these jobs (repeat reports merged)",
    )
    shown = jobs.jobs.head(2000)
    if len(jobs.jobs) > len(shown):
        st.caption(f"The {len(shown):,} most urgent of {len(jobs.jobs):,} are listed.")
    picked = st.dataframe(
        local_columns(shown, ["created_at", "due_at"]),
        hide_index=True,
        width="stretch",
        height=480,
        key="jobs-table",
        on_select="rerun",
        selection_mode="single-row",
        column_order=[
            "job_id",
            "sla",
            "hours_left",
            "priority",
            "service_name",
            "address",
            "ward",
            "caller_count",
            "age_days",
            "status_label",
            "crew_code",
            "due_at",
            "department",
        ],
        column_config={
            "job_id": st.column_config.NumberColumn("Job", format="%d"),
            "sla": st.column_config.SelectboxColumn(
                "SLA", options=list(board.SLA_STATES), width="small"
            ),
            "hours_left": st.column_config.NumberColumn("Hours left", format="%.0f"),
            "priority": st.column_config.NumberColumn("P", format="P%d", width="small"),
            "service_name": "Type",
            "address": "Address",
            "ward": "Ward",
            "caller_count": st.column_config.NumberColumn("Callers", width="small"),
            "age_days": st.column_config.NumberColumn("Age (days)", format="%.0f"),
            "status_label": "Status",
            "crew_code": "Crew today",
            "due_at": st.column_config.DatetimeColumn("SLA due", format="YYYY-MM-DD HH:mm"),
            "department": "Department",
        },
    )
    rows = picked.selection.rows if picked is not None else []
    if rows:
        job = shown.iloc[rows[0]]
        st.subheader(f"Job {int(job['job_id'])}: {job['service_name']}")
        st.write(
            f"{job['address']} · ward {dash(job['ward'])} · "
            f"{int(job['caller_count'])} caller(s) · P{int(job['priority'])} · "
            f"{job['status_label']} · SLA due {local(job['due_at'], '%Y-%m-%d %H:%M')}"
        )
        left, right = st.columns(2)
        if left.button("Urgent: re-plan today around it", key="jobs-urgent"):
            st.session_state["plan-urgent"] = int(job["job_id"])
            st.switch_page("app_pages/plan.py")
        if right.button("History and status changes", key="jobs-history"):
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
radius = c1.slider("Within metres", 30, 300, 100, step=10, key="dup-radius")
days = c2.slider("Reported within days", 1, 90, 30, key="dup-days")
with st.spinner("Looking for possible duplicates…"):
    pairs = board.duplicate_candidates(
        CandidateParams(radius_m=float(radius), window=timedelta(days=days))
    )
hidden = st.session_state.setdefault("dup-hidden", set())
pairs = pairs[[(a, b) not in hidden for a, b in zip(pairs["job_a"], pairs["job_b"], strict=True)]]
if pairs.empty:
    st.success("No possible duplicates with these limits.")
    st.stop()
st.metric("Pairs to review", f"{len(pairs):,}")
st.dataframe(
    local_columns(pairs, ["created_a", "created_b"]),
    hide_index=True,
    width="stretch",
    height=300,
    key="dup-table",
    column_order=[
        "job_a",
        "job_b",
        "service_name",
        "distance_m",
        "days_apart",
        "address_a",
        "address_b",
        "callers_a",
        "callers_b",
    ],
    column_config={
        "job_a": st.column_config.NumberColumn("Keep job", format="%d"),
        "job_b": st.column_config.NumberColumn("Duplicate?", format="%d"),
        "service_name": "Type",
        "distance_m": st.column_config.NumberColumn("Metres apart", format="%.0f"),
        "days_apart": st.column_config.NumberColumn("Days apart", format="%.1f"),
        "address_a": "Address (keep)",
        "address_b": "Address (duplicate?)",
        "callers_a": "Callers",
        "callers_b": "Callers",
    },
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
merge_b = m1.button(f"Merge {pair[1]} into {pair[0]}", type="primary", key="dup-merge")
merge_a = m2.button(f"Merge {pair[0]} into {pair[1]}", key="dup-merge-reverse")
if m3.button("Not the same problem", key="dup-dismiss"):
    hidden.add(pair)
    st.rerun()
if merge_b or merge_a:
    target, other = (pair[0], pair[1]) if merge_b else (pair[1], pair[0])
    try:
        kept = workflow.merge_jobs(
            target,
            {other: int(row[f"version_{'b' if merge_b else 'a'}"])},
            target_version=int(row[f"version_{'a' if merge_b else 'b'}"]),
            actor=actor,
            note=note,
        )
    except GeodispatchError as exc:
        st.error(str(exc))
    else:
        st.toast(f"Job {other} merged into job {kept.id}: {kept.caller_count} callers.")
        st.rerun()
