"""An independent check of a plan: every time recomputed, every rule re-tested.

The checker trusts nothing a solver reported. From the problem (travel matrix, shifts,
lunch windows, appointments, skills, caps, locks) and each route's order of stops alone
it recomputes arrivals, starts, departures and driving, then compares them with the
plan's stated times and lists every violation it finds. An empty list means the plan
is feasible as printed.
"""

from __future__ import annotations

from collections import Counter

from geodispatch.dispatch.problem import RoutingProblem
from geodispatch.dispatch.schedule import simulate
from geodispatch.domain.plans import RoutePlan, Violation


def check_plan(problem: RoutingProblem, plan: RoutePlan) -> list[Violation]:
    """Every rule ``plan`` breaks against ``problem`` (empty when it is feasible)."""
    out: list[Violation] = []
    visit_of_job = {v.order.job_id: i for i, v in enumerate(problem.visits)}
    vehicle_of_crew = {v.crew.code: k for k, v in enumerate(problem.vehicles)}
    seen = Counter(s.order.job_id for r in plan.routes for s in r.stops)
    for job, count in seen.items():
        if count > 1:
            out.append(Violation("duplicate", "", job, f"job on {count} stops"))
    dropped = {d.order.job_id for d in plan.dropped}
    for job in dropped & set(seen):
        out.append(Violation("served_and_dropped", "", job, "listed as served and as dropped"))
    for job in set(visit_of_job) - set(seen) - dropped:
        out.append(Violation("unaccounted", "", job, "neither on a route nor explained"))
    crews = Counter(r.crew.code for r in plan.routes)
    for code, count in crews.items():
        if count > 1:
            out.append(Violation("crew_twice", code, None, f"crew has {count} routes"))
    for route in plan.routes:
        code = route.crew.code
        k = vehicle_of_crew.get(code)
        if k is None:
            out.append(Violation("unknown_crew", code, None, "crew not on shift in this problem"))
            continue
        visits: list[int] = []
        for stop in route.stops:
            job = stop.order.job_id
            i = visit_of_job.get(job)
            if i is None:
                out.append(Violation("unknown_job", code, job, "job is not in the problem"))
                continue
            visits.append(i)
            skill = problem.visits[i].order.skill
            if not route.crew.can_do(skill):
                out.append(Violation("skill", code, job, f"needs {skill!r}, crew lacks it"))
        if len(visits) != len(route.stops):
            continue
        timeline = simulate(problem, k, visits, route.break_after)
        for kind, problem_job, detail in timeline.problems:
            out.append(Violation(kind, code, problem_job, detail))
        for pos, (stop, i) in enumerate(zip(route.stops, visits, strict=True)):
            job_id = stop.order.job_id
            stated = problem.seconds_of(stop.eta)
            if stated != timeline.start[pos]:
                out.append(
                    Violation(
                        "eta",
                        code,
                        job_id,
                        f"states start {stop.eta:%H:%M:%S}, recomputed "
                        f"{problem.at(timeline.start[pos]):%H:%M:%S}",
                    )
                )
            if stop.travel_s != timeline.travel[pos]:
                out.append(
                    Violation(
                        "travel",
                        code,
                        job_id,
                        f"states {stop.travel_s} s driving, recomputed {timeline.travel[pos]} s",
                    )
                )
            if stop.service_s != problem.visits[i].service_s:
                out.append(
                    Violation("service", code, job_id, "on-site time differs from the job's")
                )
        if route.return_travel_s != timeline.return_travel:
            out.append(Violation("travel", code, None, "return drive differs from the matrix"))
        if problem.seconds_of(route.ends_at) != timeline.end_s:
            out.append(Violation("end", code, None, "stated return time differs from recomputed"))
        if (route.break_start is None) != (timeline.break_start is None) or (
            route.break_start is not None
            and timeline.break_start is not None
            and problem.seconds_of(route.break_start) != timeline.break_start
        ):
            out.append(Violation("break", code, None, "stated lunch differs from recomputed"))
        ranks = [
            (problem.visits[i].locked_rank, i)
            for i in visits
            if problem.visits[i].locked_vehicle is not None
        ]
        for _rank, i in ranks:
            if problem.visits[i].locked_vehicle != k:
                out.append(
                    Violation("locked", code, problem.visits[i].order.job_id, "on the wrong crew")
                )
        order = [r for r, _ in ranks]
        if order != sorted(order):  # type: ignore[type-var]
            out.append(Violation("locked", code, None, "locked stops out of their order"))
    for i, visit in enumerate(problem.visits):
        if visit.locked_vehicle is not None and visit.order.job_id not in seen:
            out.append(
                Violation(
                    "locked",
                    problem.vehicles[visit.locked_vehicle].crew.code,
                    visit.order.job_id,
                    f"locked stop {i} was dropped",
                )
            )
    return out
