"""Why a job is not on any route: honest reasons, each checked, never guessed.

Before solving, :func:`unservable_reason` tests each job alone against every crew that
could do it (skill, shift, appointment, a solo trip yard → job → yard with lunch).
After solving and repair, :func:`explain_dropped` says why the rest were left out: the
capable crews' days are full of work at least as urgent, or (when lower-priority work
was served) the job fits in place of none of it, which the repair step has tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from geodispatch.dispatch.problem import RoutingProblem, priority_label
from geodispatch.dispatch.schedule import best_timeline
from geodispatch.domain.crews import Crew
from geodispatch.domain.plans import DroppedJob, DropReason

_MAX_NAMES = 6


def crew_names(codes: Sequence[str]) -> str:
    """Up to six crew codes, then how many more."""
    shown = ", ".join(codes[:_MAX_NAMES])
    return shown + (f" and {len(codes) - _MAX_NAMES} more" if len(codes) > _MAX_NAMES else "")


def _hhmm(problem: RoutingProblem, seconds: int) -> str:
    return problem.at(seconds).strftime("%H:%M")


def unservable_reason(
    problem: RoutingProblem, visit_index: int, *, all_crews: Sequence[Crew]
) -> tuple[DropReason, str] | None:
    """Why no crew can serve this visit today even alone, or None when some crew can."""
    visit = problem.visits[visit_index]
    order = visit.order
    skill = order.skill
    if not visit.vehicles:
        skilled = [c.code for c in all_crews if c.can_do(skill)]
        if skilled:
            return (
                DropReason.OUTSIDE_ALL_SHIFTS,
                f"needs skill {skill!r}; the crews with it ({crew_names(skilled)}) have no shift "
                "time left today",
            )
        on_shift = [f"{c.code} ({', '.join(sorted(c.skills))})" for c in all_crews]
        return (
            DropReason.NO_CREW_WITH_SKILL,
            f"needs skill {skill!r}; crews on shift: {crew_names(on_shift) or 'none'}. "
            "Add the skill to a crew or put a crew with it on shift",
        )
    vehicles = [problem.vehicles[k] for k in visit.vehicles]
    if order.window is not None:
        window = f"{order.window.start:%Y-%m-%d %H:%M}-{order.window.end:%H:%M}"
        if visit.latest_s < problem.now_s:
            return (
                DropReason.PAST_DEADLINE,
                f"appointment {window} is already over; book a new one",
            )
        if visit.latest_s < visit.ready_s or not any(
            visit.ready_s <= v.end_s - visit.service_s and visit.latest_s >= v.start_s
            for v in vehicles
        ):
            shifts = sorted(
                {f"{_hhmm(problem, v.start_s)}-{_hhmm(problem, v.end_s)}" for v in vehicles}
            )
            return (
                DropReason.OUTSIDE_ALL_SHIFTS,
                f"appointment {window} lies outside every capable crew's shift today "
                f"({', '.join(shifts)}); rebook it inside a shift",
            )
    if any(best_timeline(problem, k, [visit_index]).feasible for k in visit.vehicles):
        return None
    earliest = min(v.start_s + int(problem.travel[v.start_loc, visit.loc]) for v in vehicles)
    if earliest > visit.latest_s and order.window is None:
        return (
            DropReason.NOT_REACHABLE,
            f"the capable crews' shifts end at {_hhmm(problem, visit.latest_s)}; the nearest "
            f"can be there at {_hhmm(problem, earliest)} at the earliest, with no time left "
            f"for {order.service_minutes} min on site and the drive back",
        )
    if earliest > visit.latest_s:
        return (
            DropReason.PAST_DEADLINE,
            f"the appointment window closes at {_hhmm(problem, visit.latest_s)}; the nearest "
            f"capable crew can be there at {_hhmm(problem, earliest)} at the earliest",
        )
    best = min(
        int(problem.travel[v.start_loc, visit.loc] + problem.travel[visit.loc, v.end_loc])
        for v in vehicles
    )
    return (
        DropReason.NOT_REACHABLE,
        f"{order.service_minutes} min on site plus {best // 60} min of driving (with lunch) "
        "fits in no capable crew's remaining shift; split the job or extend a shift",
    )


def explain_dropped(
    problem: RoutingProblem,
    routes: Sequence[Sequence[int]],
    dropped: Sequence[int],
    *,
    untried: Collection[int] = (),
) -> list[DroppedJob]:
    """Reasons for visits the solver left out although some crew could serve each alone."""
    out: list[DroppedJob] = []
    for d in dropped:
        visit = problem.visits[d]
        rank = int(visit.order.priority)
        codes = [problem.vehicles[k].crew.code for k in visit.vehicles]
        served = [problem.visits[i] for k in visit.vehicles for i in routes[k]]
        lower = [s for s in served if int(s.order.priority) > rank and not s.order.urgent]
        label = priority_label(visit.order.priority)
        if visit.locked_vehicle is not None:
            out.append(
                DroppedJob(
                    visit.order,
                    DropReason.NO_ROOM,
                    f"locked to crew {codes[0]} but no longer fits its day; unlock or re-time it",
                )
            )
        elif lower and d in untried:
            out.append(
                DroppedJob(
                    visit.order,
                    DropReason.NO_ROOM,
                    f"{label}; capable crews ({crew_names(codes)}) serve {len(lower)} "
                    "lower-priority "
                    "jobs; the planner's time ran out before trying it in their place; "
                    "re-plan with a longer time limit",
                )
            )
        elif lower:
            out.append(
                DroppedJob(
                    visit.order,
                    DropReason.NO_ROOM,
                    f"{label}; capable crews ({crew_names(codes)}) serve {len(lower)} "
                    "lower-priority "
                    "jobs, but it fits in place of none of them (appointments, lunch or the "
                    "shift end are in the way)",
                )
            )
        else:
            mix = Counter(
                "urgent" if s.order.urgent else priority_label(s.order.priority) for s in served
            )
            parts = ", ".join(f"{k} {mix[k]}" for k in sorted(mix))
            out.append(
                DroppedJob(
                    visit.order,
                    DropReason.LOWER_PRIORITY,
                    f"{label}; the {len(codes)} crews with skill {visit.order.skill!r} "
                    f"({crew_names(codes)}) are fully booked with {len(served)} jobs of equal or "
                    f"higher priority ({parts or 'none'})",
                )
            )
    return out
