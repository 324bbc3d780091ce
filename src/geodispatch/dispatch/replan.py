"""Mid-day re-plans: keep what is done or under way, insert urgent work, say what changed.

From the published plan and the crews' progress:

* done (and unable) stops leave the problem;
* a crew on site (``arrived``) starts its new route at that job when the planned service
  there ends (or now, if later); a crew between stops starts at its last finished job
  now; a crew that has done nothing yet starts at its yard now;
* lunch planned before now counts as taken;
* stops the dispatcher locked keep their crew and their order;
* the rest of the morning's routes are the solver's warm start.

:func:`diff_plans` lists each job that moved between crews, was added or dropped, or
changed time by more than ``retime_min`` minutes, the driving saved against keeping the
morning's order with the new work inserted where it is cheapest (what a dispatcher would
do by hand; both measured from the crews' current positions), and the SLA risks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from geodispatch.dispatch.planner import PlanRequest, warm_routes
from geodispatch.dispatch.problem import RoutingProblem, priority_label
from geodispatch.dispatch.schedule import best_timeline
from geodispatch.domain.crews import Crew
from geodispatch.domain.plans import (
    CrewPosition,
    LockedStop,
    PlanChange,
    PlanDiff,
    RoutePlan,
    WorkOrder,
)
from geodispatch.domain.requests import Priority
from geodispatch.domain.updates import StopStatus

#: Stop statuses after which a job needs no more planning today.
FINISHED = frozenset({StopStatus.DONE, StopStatus.UNABLE})


@dataclass(frozen=True, slots=True)
class Progress:
    """The state of one planned stop as the crew reported it."""

    status: StopStatus
    locked: bool = False


def replan_request(
    previous: RoutePlan,
    *,
    orders: Sequence[WorkOrder],
    crews: Sequence[Crew],
    progress: Mapping[int, Progress],
    now: datetime,
) -> PlanRequest:
    """The request for a re-plan of ``previous`` at ``now`` over the open ``orders``."""
    positions: list[CrewPosition] = []
    locked: list[LockedStop] = []
    warm: dict[str, list[int]] = {}
    busy: set[int] = set()
    for route in previous.routes:
        code = route.crew.code
        here: CrewPosition | None = None
        taken = route.break_start is not None and route.break_start < now
        for stop in route.stops:
            state = progress.get(stop.order.job_id, Progress(StopStatus.PLANNED))
            lon, lat = stop.order.lon, stop.order.lat
            assert lon is not None
            assert lat is not None
            if state.status in FINISHED:
                busy.add(stop.order.job_id)
                here = CrewPosition(code, now, lon, lat, taken)
            elif state.status == StopStatus.ARRIVED:
                busy.add(stop.order.job_id)
                here = CrewPosition(code, max(now, stop.departs_at), lon, lat, taken)
            else:
                warm.setdefault(code, []).append(stop.order.job_id)
                if state.locked:
                    locked.append(LockedStop(stop.order.job_id, code, stop.sequence))
        if here is None and now > route.starts_at:
            here = CrewPosition(code, now, route.start_lon, route.start_lat, taken)
        if here is not None:
            positions.append(here)
    return PlanRequest(
        orders=[o for o in orders if o.job_id not in busy],
        crews=crews,
        day=previous.plan_date,
        tz=now.tzinfo,  # type: ignore[arg-type]
        now=now,
        positions=positions,
        locked=locked,
        warm_start=warm,
    )


def diff_plans(
    previous: RoutePlan,
    new: RoutePlan,
    problem: RoutingProblem,
    *,
    warm: Mapping[str, Sequence[int]],
    retime_min: int = 10,
) -> PlanDiff:
    """What the re-plan changed against the morning's plan (see module docstring)."""
    before = {s.order.job_id: (r.crew.code, s.eta) for r in previous.routes for s in r.stops}
    after = {s.order.job_id: (r.crew.code, s.eta) for r in new.routes for s in r.stops}
    known = set(before) | {d.order.job_id for d in previous.dropped}
    changes: list[PlanChange] = []
    for job, (crew, eta) in sorted(after.items()):
        if job not in before:
            changes.append(PlanChange(job, "added", None, crew, None, eta, "new on a route"))
            continue
        old_crew, old_eta = before[job]
        if old_crew != crew:
            changes.append(
                PlanChange(job, "moved", old_crew, crew, old_eta, eta, f"{old_crew} → {crew}")
            )
        elif abs(eta - old_eta) > timedelta(minutes=retime_min):
            shift = round((eta - old_eta).total_seconds() / 60)
            changes.append(PlanChange(job, "retimed", crew, crew, old_eta, eta, f"{shift:+d} min"))
    for dropped in new.dropped:
        job = dropped.order.job_id
        if job in before:
            crew, eta = before[job]
            changes.append(PlanChange(job, "dropped", crew, None, eta, None, dropped.detail))
    # the baseline: the old order kept, new work squeezed in where it is cheapest (what a
    # dispatcher would do by hand); the planner measured it, else the old order as it was
    old_travel = new.stats.baseline_travel_s
    if old_travel is None:
        old_travel = sum(
            best_timeline(problem, k, visits).travel_s
            for k, visits in enumerate(warm_routes(problem, warm))
        )
    risks: list[str] = []
    now = problem.at(problem.now_s)
    for route in new.routes:
        for stop in route.stops:
            due = stop.order.due_at
            if stop.late_s > 0 and due is not None and due > now:
                risks.append(
                    f"job {stop.order.job_id} ({priority_label(stop.order.priority)}, crew "
                    f"{route.crew.code}) ends {stop.late_s // 60} min after its SLA due "
                    f"{due.astimezone(stop.eta.tzinfo):%H:%M}"
                )
    for dropped in new.dropped:
        # a P1 the morning plan served, or a new one (the urgent job), left off the routes
        if dropped.order.priority == Priority.P1 and (
            dropped.order.job_id in before or dropped.order.job_id not in known
        ):
            risks.append(
                f"P1 job {dropped.order.job_id} is not on any route: {dropped.reason.label}"
            )
    return PlanDiff(
        changes=tuple(changes),
        travel_saved_s=old_travel - new.travel_s,
        sla_risks=tuple(risks),
    )


@dataclass(frozen=True, slots=True)
class Leaving:
    """A job on a crew's published route that a draft would take off it."""

    job_id: int
    crew_code: str
    title: str
    address: str


@dataclass(frozen=True, slots=True)
class PublishCheck:
    """What publishing a draft would take away from the crews' published routes.

    A draft with no stops cannot be published; one that serves fewer stops than the
    published plan, or takes any unfinished job off a route, needs an explicit
    confirmation naming what leaves which crew.
    """

    plan_id: int
    draft_stops: int
    published_id: int | None
    published_stops: int
    leaving: tuple[Leaving, ...]

    @property
    def empty(self) -> bool:
        """True when the draft has no stop at all (never publishable)."""
        return self.draft_stops == 0

    @property
    def needs_confirmation(self) -> bool:
        """True when publishing would take work off the crews' routes."""
        return bool(self.leaving) or (
            self.published_id is not None and self.draft_stops < self.published_stops
        )

    def by_crew(self) -> dict[str, list[int]]:
        """Crew code -> the job ids that would leave its route."""
        out: dict[str, list[int]] = {}
        for item in self.leaving:
            out.setdefault(item.crew_code, []).append(item.job_id)
        return out

    def in_words(self) -> str:
        """What publishing takes away, for the confirmation ("" when nothing)."""
        if self.empty:
            return f"Plan {self.plan_id} has no stops; there is nothing to publish."
        if not self.needs_confirmation:
            return ""
        crews = "; ".join(
            f"{crew} loses {len(jobs)} (jobs {', '.join(map(str, jobs[:8]))}"
            f"{' …' if len(jobs) > 8 else ''})"
            for crew, jobs in sorted(self.by_crew().items())
        )
        return (
            f"Plan {self.plan_id} serves {self.draft_stops} stops where published plan "
            f"{self.published_id} serves {self.published_stops}. "
            + (f"Taken off routes: {crews}. " if crews else "")
            + "Jobs left on no published route go back to the queue."
        )


def publish_check(
    plan_id: int,
    draft: RoutePlan,
    published: RoutePlan | None,
    *,
    finished: Collection[int] = (),
) -> PublishCheck:
    """What publishing ``draft`` over ``published`` takes away (``finished``: jobs done)."""
    on_draft = {s.order.job_id for r in draft.routes for s in r.stops}
    leaving: list[Leaving] = []
    if published is not None:
        for route in published.routes:
            for stop in route.stops:
                job = stop.order.job_id
                if job not in on_draft and job not in finished:
                    leaving.append(
                        Leaving(job, route.crew.code, stop.order.title, stop.order.address)
                    )
    return PublishCheck(
        plan_id=plan_id,
        draft_stops=draft.served,
        published_id=None if published is None else published.id,
        published_stops=0 if published is None else published.served,
        leaving=tuple(leaving),
    )
