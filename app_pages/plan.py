"""Plan today: crews on shift, plan the day, check routes and left-out jobs, publish, re-plan."""

from datetime import datetime

import streamlit as st

from geodispatch.dispatch.matrix import matrix_label
from geodispatch.domain.accounts import Action, Page
from geodispatch.domain.errors import GeodispatchError, ShiftOverError
from geodispatch.domain.plans import PlanStatus
from geodispatch.domain.requests import RequestStatus
from geodispatch.services import backlog, board, dispatch, workflow
from geodispatch.storage.plans_repo import PlanHeader
from geodispatch.ui import columns, data
from geodispatch.ui.auth import staff_page, why_not
from geodispatch.ui.state import URGENT_FROM_JOBS, URGENT_JOB
from geodispatch.ui.widgets import (
    Metric,
    city_zone,
    count,
    kept,
    local,
    local_columns,
    md_escape,
    metrics,
    now_local,
    show_error,
    show_map,
    table,
)

CREW_COLUMNS = {"name": "Name", "yard": "Yard", "shift": "Shift", "skills": "Skills"}
CLOSE_AS = {
    RequestStatus.CLOSED_NO_ACTION: "Close: no action needed",
    RequestStatus.CLOSED_DUPLICATE: "Close: duplicate",
    RequestStatus.CLOSED_NOT_CITY: "Close: not ours",
}


def show_backlog() -> None:
    """Open jobs past their type's age limit: close, re-confirm or book them (never routed)."""
    aged = backlog.backlog_review()
    if not aged:
        st.success("No open job is past its age limit: every open field job can be routed.")
        return
    st.caption(
        f"{len(aged):,} open jobs are older than their type's age limit (Service types; "
        "default in settings). They go on no route until you close, re-confirm or book them."
    )
    rows = [
        {
            "job_id": a.job.id,
            "type": a.job.service_code,
            "address": a.job.address,
            "ward": a.job.ward,
            "age_days": round(a.age_days),
            "limit_days": a.limit_days,
            "status": a.job.status.label,
        }
        for a in aged[:1000]
    ]
    table(
        rows,
        {
            "job_id": columns.JOB,
            "type": "Type",
            "address": "Address",
            "ward": "Ward",
            "age_days": columns.number("Age (days)"),
            "limit_days": columns.number("Limit (days)"),
            "status": "Status",
        },
        key="plan-backlog",
        height=360,
    )
    with st.form("plan-backlog-act", clear_on_submit=True):
        pick, action = st.columns(2)
        job_id = pick.selectbox("Job", [a.job.id for a in aged[:1000]], key="plan-backlog-job")
        choice = action.selectbox(
            "Decision",
            ["Re-confirm: still needs a crew", *CLOSE_AS.values()],
            key="plan-backlog-do",
        )
        note = st.text_input("Note (required to close)", key="plan-backlog-note")
        if st.form_submit_button("Record decision"):
            job = next(a.job for a in aged if a.job.id == job_id)
            try:
                if choice.startswith("Re-confirm"):
                    backlog.reconfirm_job(job.id, note=note, actor=user)
                    st.toast(f"Job {job.id} re-confirmed: it goes on the next plan.")
                else:
                    status = next(s for s, label in CLOSE_AS.items() if label == choice)
                    backlog.close_stale_job(
                        job.id, status, note=note, actor=user, expected_version=job.version
                    )
                    st.toast(f"Job {job.id} closed ({status.label}).")
            except GeodispatchError as exc:
                show_error(exc)
            else:
                st.rerun()
    st.caption("To schedule one instead, book an appointment for it (a booked job is routed).")


user = staff_page(Page.PLAN)
st.title("Plan today")

today = board.today()
incoming_urgent = st.session_state.pop(URGENT_FROM_JOBS, None)
if incoming_urgent is not None:  # from Open jobs: today's published plan, job filled in
    st.session_state["plan-day"] = today
    st.session_state[URGENT_JOB] = incoming_urgent
    st.session_state.pop("plan-focus", None)
if "plan-day-next" in st.session_state:  # "Plan tomorrow" after the shift ended
    st.session_state["plan-day"] = st.session_state.pop("plan-day-next")
top_left, top_right = st.columns([1, 3], vertical_alignment="bottom")
day = top_left.date_input("Day", value=today, min_value=today, key="plan-day", format="YYYY-MM-DD")
plans = board.day_plans(day)
if incoming_urgent is not None:
    st.info(
        f"Job {incoming_urgent} is filled in below: press **Re-plan with this job first** to "
        "re-plan the rest of today around it."
    )


def plan_label(h: PlanHeader) -> str:
    """How a plan reads in the picker."""
    return (
        f"Plan {h.id} · {h.status} · {h.summary.get('served', 0)} stops · "
        f"made {local(h.created_at)} by {h.created_by or '—'}"
    )


def run_planner(limit_s: float) -> None:
    """Plan the day (a new draft) and focus the page on it."""
    with st.spinner(f"Planning {day}: routing every open job (up to {limit_s:.0f} s)…"):
        try:
            outcome = dispatch.plan_day(day, time_limit_s=limit_s, created_by=user)
        except ShiftOverError as exc:
            st.session_state["plan-shift-over"] = (str(exc), exc.next_day)
            return
        except GeodispatchError as exc:
            show_error(exc)
            return
    st.session_state["plan-focus"] = outcome.plan_id
    st.session_state.pop("plan-replan", None)
    st.rerun()


with st.expander("Plan the day" if not plans else "Plan the day again (new draft)", expanded=False):
    limit = st.slider(
        "Search time (seconds)",
        min_value=2,
        max_value=60,
        key=kept("plan-limit", 10),
        help="Longer searches find shorter routes; the plan is usable after a few seconds.",
    )
    cannot_plan = why_not(user, Action.PLAN_DAY)
    if st.button(
        "Plan today" if day == today else f"Plan {day}",
        type="primary",
        key="plan-run",
        disabled=bool(cannot_plan),
        help=cannot_plan,
    ):
        run_planner(float(limit))
    over = st.session_state.get("plan-shift-over")
    if over is not None and day == today:
        st.warning(over[0])
        if st.button(f"Plan tomorrow ({over[1]})", key="plan-tomorrow"):
            st.session_state.pop("plan-shift-over", None)
            st.session_state["plan-day-next"] = over[1]
            st.rerun()

if not plans:
    st.info(
        f"No plan for {day} yet. Check the crews on shift below, then press **Plan today** "
        "above: every open job with a location is routed, and each one left out gets a reason."
    )
    roster = board.roster()
    if roster.empty:
        st.warning("No crews yet: add them with `geodispatch crews seed` (Boston roster).")
    else:
        st.subheader(f"Crews on shift ({len(roster)})")
        table(roster, {"crew": "Crew", **CREW_COLUMNS}, key="plan-roster")
    if incoming_urgent is not None:
        st.warning(
            f"No plan is published for {day} yet: plan and publish the day first, then re-plan "
            f"around job {incoming_urgent} (it is kept in the form)."
        )
    st.stop()

ids = [p.id for p in plans]
focus = st.session_state.get("plan-focus")
if focus not in ids:
    focus = board.current_plan_id(day) or ids[0]
    st.session_state["plan-focus"] = focus


def pick_plan() -> None:
    """Remember the plan chosen in the picker."""
    st.session_state["plan-focus"] = st.session_state[f"plan-pick-{focus}"]


by_id = {p.id: p for p in plans}
plan_id = top_right.selectbox(
    "Plan",
    ids,
    index=ids.index(focus),
    format_func=lambda i: plan_label(by_id[i]),
    key=f"plan-pick-{focus}",
    on_change=pick_plan,
)
with st.spinner("Loading the plan…"):
    pb = data.plan_board(plan_id)
header = pb.header
published = next((p for p in plans if p.status is PlanStatus.PUBLISHED), None)

metrics(
    Metric("Status", header.status.capitalize(), f"version {header.version}"),
    Metric("Jobs on routes", count(len(pb.stops))),
    Metric("Left out", count(len(pb.dropped)), "each with a reason, below"),
    Metric("Crews with work", f"{pb.crews_working} of {len(pb.crews)}"),
    Metric("Stops finished", f"{pb.finished} of {len(pb.stops)}", "done or could not complete"),
)

st.caption(f"Travel times: {matrix_label(pb.plan.stats.matrix)}")
for problem in pb.violations:
    st.error(md_escape(f"Plan check: {problem}"))
if header.status is PlanStatus.DRAFT and published is not None:
    st.caption(
        f"Draft. Crews still see plan {published.id} (published) until this one is published."
    )
elif header.status is PlanStatus.SUPERSEDED:
    st.caption("Superseded: an older plan, kept as history. Crews see the published plan.")

# ----------------------------------------------------------------------------- actions
act_left, act_right = st.columns(2)
with act_left:
    if header.status is PlanStatus.DRAFT:
        cannot_publish = why_not(user, Action.PUBLISH_PLAN)
        if st.button(
            "Publish to crews…",
            type="primary",
            key="plan-publish",
            disabled=bool(cannot_publish),
            help=cannot_publish,
        ):
            st.session_state["plan-confirm"] = plan_id
        if cannot_publish:
            st.caption(f"{cannot_publish} A supervisor publishes this draft.")
        elif st.session_state.get("plan-confirm") == plan_id:
            check = board.publish_check(plan_id)
            replaces = (
                f" Plan {published.id} is replaced; its finished stops stay on record."
                if published is not None
                else ""
            )
            if check.empty:
                st.error(check.in_words() + " Plan again, or keep the published plan.")
                allowed = False
            else:
                st.warning(
                    f"Publish plan {plan_id}? {len(pb.stops)} stops go to "
                    f"{pb.crews_working} crews' phones now.{replaces}"
                )
                allowed = True
                if check.needs_confirmation:
                    st.error(check.in_words())
                    allowed = st.checkbox(
                        f"Yes, take these {len(check.leaving)} job(s) off the crews' routes",
                        key=f"plan-confirm-removals-{plan_id}",
                    )
            yes, no = st.columns(2)
            if yes.button(
                "Yes, publish", type="primary", key="plan-publish-confirm", disabled=not allowed
            ):
                try:
                    done = board.publish(
                        plan_id,
                        expected_version=header.version,
                        confirm_removals=check.needs_confirmation,
                        by=user,
                    )
                except GeodispatchError as exc:
                    show_error(exc)
                else:
                    st.session_state.pop("plan-confirm", None)
                    back = f"; {len(done.released)} back in the queue" if done.released else ""
                    st.toast(
                        f"Plan {plan_id} published; {done.assigned} jobs now Work assigned{back}."
                    )
                    st.rerun()
            if no.button("Cancel", key="plan-publish-cancel"):
                st.session_state.pop("plan-confirm", None)
                st.rerun()
    st.download_button(
        "Route sheets to print (HTML)",
        data=lambda: dispatch.plan_sheet_html(plan_id),
        file_name=f"route-sheets-plan-{plan_id}.html",
        mime="text/html",
        key="plan-sheets",
        on_click="ignore",
    )
with act_right:
    if header.status is PlanStatus.PUBLISHED:
        with st.form("plan-urgent"):
            st.markdown("**Urgent job**: re-plan the rest of the day around it")
            u1, u2 = st.columns(2)
            # the value comes from Open jobs' urgent button when set (session state)
            default = {} if URGENT_JOB in st.session_state else {"value": None}
            urgent = u1.number_input("Job id", min_value=1, step=1, key=URGENT_JOB, **default)
            start_at = u2.time_input(
                "Crews free from",
                value=now_local().time().replace(second=0, microsecond=0),
                step=300,
                key="plan-urgent-at",
                help="Stops finished by then stay; the rest of the day is planned from here "
                "(not earlier than now: nothing is planned in the past).",
            )
            cannot_replan = why_not(user, Action.REPLAN)
            go = st.form_submit_button(
                "Re-plan with this job first", disabled=bool(cannot_replan), help=cannot_replan
            )
        if go:
            if urgent is None:
                st.warning("Enter the urgent job's id (see Open jobs).")
            else:
                try:
                    job = workflow.get_job(int(urgent))
                    with st.spinner(f"Re-planning around job {job.id} ({job.address})…"):
                        result = board.replan_urgent(
                            plan_id,
                            int(urgent),
                            now=max(now_local(), datetime.combine(day, start_at, city_zone())),
                            time_limit_s=3.0,
                            created_by=user,
                        )
                except GeodispatchError as exc:
                    show_error(exc)
                else:
                    st.session_state["plan-replan"] = result
                    st.session_state["plan-focus"] = result.plan_id
                    st.rerun()

replan = st.session_state.get("plan-replan")
if replan is not None and replan.plan_id == plan_id:
    st.subheader(f"What the re-plan changed (against plan {replan.parent_id})")
    saved = replan.travel_saved_min
    st.write(
        f"Urgent job **{replan.urgent_job_id}** must be served. "
        f"{len(replan.changes)} job(s) changed; "
        f"driving {'saved' if saved >= 0 else 'added'}: **{abs(saved)} min** against keeping "
        "the old routes with the new work squeezed in where it is cheapest. "
        "Publish this draft to send it to the crews."
    )
    if replan.kept_note:
        st.info(md_escape(replan.kept_note))
    if replan.urgent_outcome:
        show = st.success if replan.urgent_placed else st.error
        show(replan.urgent_outcome[:1].upper() + replan.urgent_outcome[1:])
    for risk in replan.sla_risks:
        st.warning(md_escape(risk))
    table(
        local_columns(replan.changes, ["eta_before", "eta_after"]),
        {
            "job_id": columns.JOB,
            "change": "Change",
            "from_crew": "From",
            "to_crew": "To",
            "eta_before": st.column_config.DatetimeColumn("ETA before", format="HH:mm"),
            "eta_after": st.column_config.DatetimeColumn("ETA after", format="HH:mm"),
            "detail": "Detail",
        },
        key="plan-changes",
    )

# ----------------------------------------------------------------------------- the plan
view = st.segmented_control(
    "Show",
    ["Routes", "Stops", "Left out", "Backlog review"],
    key=kept("plan-view", "Routes"),
)
if view == "Backlog review":
    show_backlog()
elif view == "Routes" or view is None:
    map_col, crew_col = st.columns([3, 2])
    with map_col:
        with st.spinner("Drawing the routes…"):
            show_map(data.plan_map(plan_id), height=560)
        st.caption("Hollow circles: stops a crew has reported on. Grey: jobs left out.")
    with crew_col:
        table(
            local_columns(pb.crews, ["back_at"]),
            {
                "crew": "Crew",
                "stops": columns.number("Stops"),
                "finished_share": st.column_config.ProgressColumn(
                    "Finished", min_value=0.0, max_value=1.0, format="percent"
                ),
                "done": columns.number("Done"),
                "on_site": columns.number("On site"),
                "unable": columns.number("Could not"),
                "work_h": columns.number("Work (h)", "%.1f"),
                "drive_h": columns.number("Drive (h)", "%.1f"),
                "back_at": st.column_config.DatetimeColumn("Back at", format="HH:mm"),
                "late_stops": columns.number(
                    "Past SLA", help="stops finished after their SLA due time"
                ),
                **CREW_COLUMNS,
            },
            key="plan-crews",
            height=560,
        )
elif view == "Stops":
    crews = ["All crews", *sorted(pb.stops["crew"].unique())]
    crew = st.selectbox("Crew", crews, key="plan-crew")
    stops = pb.stops if crew == "All crews" else pb.stops[pb.stops["crew"] == crew]
    table(
        local_columns(stops, ["eta", "due_at", "report_at"]),
        {
            "crew": "Crew",
            "sequence": columns.number("#"),
            "status": "Status",
            "eta": st.column_config.DatetimeColumn("ETA", format="HH:mm"),
            "report_at": st.column_config.DatetimeColumn("Reported", format="HH:mm"),
            "report_note": "Crew note",
            "report_flags": "Flags",
            "job_id": columns.JOB,
            "title": "Type",
            **columns.PLACE,
            "priority": columns.PRIORITY,
            "callers": columns.CALLERS,
            "due_at": columns.DUE,
            "late_min": columns.number("Past due (min)", "%.0f"),
        },
        key="plan-stops",
        height=560,
    )
    with_photo = stops[stops["photo_ref"].notna()]
    if len(with_photo):
        st.subheader("Photos from crews")
        pick = st.selectbox(
            "Stop",
            with_photo["job_id"].tolist(),
            format_func=lambda j: f"job {j}",
            key="plan-photo",
        )
        ref = str(with_photo.loc[with_photo["job_id"] == pick, "photo_ref"].iloc[0])
        try:
            st.image(board.photo_bytes(ref), width=360)
        except GeodispatchError as exc:
            show_error(exc, warn=True)
elif pb.dropped.empty:
    st.success("Every open job with a location is on a route.")
else:
    left, right = st.columns([1, 3])
    with left:
        table(
            pb.reasons,
            {"reason": "Why left out", "jobs": columns.number("Jobs")},
            key="plan-reasons",
        )
    with right:
        reasons = ["All reasons", *pb.reasons["reason"].tolist()]
        reason = st.selectbox("Reason", reasons, key="plan-reason")
        dropped = (
            pb.dropped if reason == "All reasons" else pb.dropped[pb.dropped["reason"] == reason]
        )
        st.caption(f"{len(dropped):,} jobs, most urgent first (first 1,000 shown)")
        table(
            local_columns(dropped.head(1000), ["due_at"]),
            {
                "job_id": columns.JOB,
                "priority": columns.PRIORITY,
                "title": "Type",
                **columns.PLACE,
                "callers": columns.CALLERS,
                "due_at": columns.DUE,
                "reason": "Why left out",
                "detail": "What would let it in",
            },
            key="plan-dropped",
            height=480,
        )
