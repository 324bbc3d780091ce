"""Mid-day re-plans: done and in-progress work stays, locks hold, urgent work gets in."""

from __future__ import annotations

from dataclasses import replace

from geodispatch.dispatch.build import build_problem
from geodispatch.dispatch.planner import jobs_moved, plan_routes, prefer_kept
from geodispatch.dispatch.replan import Progress, diff_plans, replan_request
from geodispatch.dispatch.solver import SolveParams
from geodispatch.domain.requests import Priority
from geodispatch.domain.updates import StopStatus
from tests.dispatch.routing_helpers import DAY, TZ, at, crew, job, plan


def test_replan_keeps_done_and_locked_work_and_inserts_the_urgent_job():
    orders = [job(i, 0.5 * i, minutes=60) for i in range(1, 11)]  # 10 h of work: both crews
    crews = [crew("A"), crew("B")]
    morning, _ = plan(orders, crews)
    assert morning.violations == ()
    route_a = next(r for r in morning.routes if len(r.stops) >= 2)
    done, on_site = route_a.stops[0], route_a.stops[1]
    other = next(r for r in morning.routes if r is not route_a and r.stops)
    locked = other.stops[-1]
    progress = {
        done.order.job_id: Progress(StopStatus.DONE),
        on_site.order.job_id: Progress(StopStatus.ARRIVED),
        locked.order.job_id: Progress(StopStatus.PLANNED, locked=True),
    }
    urgent = job(99, 1.7, priority=Priority.P1)
    now = on_site.eta + (on_site.departs_at - on_site.eta) / 2
    request = replan_request(
        morning, orders=[*orders, urgent], crews=crews, progress=progress, now=now
    )
    new, problem = plan_routes(request, solve=SolveParams(time_limit_s=0.5))
    assert new.violations == ()
    served = new.crew_of_job()
    assert done.order.job_id not in served
    assert on_site.order.job_id not in served
    assert served[locked.order.job_id] == other.crew.code
    assert served[99] in {"A", "B"}
    # the crew on site starts its new route there, when that job is finished
    new_a = new.route_of(route_a.crew.code)
    assert new_a is not None
    assert new_a.starts_at == on_site.departs_at
    assert (new_a.start_lon, new_a.start_lat) == (on_site.order.lon, on_site.order.lat)
    # nothing is scheduled before now
    assert all(s.eta >= now for r in new.routes for s in r.stops)
    diff = diff_plans(morning, new, problem, warm=request.warm_start or {})
    kinds = {c.job_id: c.kind for c in diff.changes}
    assert kinds[99] == "added"


def test_a_job_due_later_today_that_will_be_late_is_an_sla_risk():
    orders = [job(1, 1, minutes=240), job(2, 2, minutes=240, priority=Priority.P2, due=at(9))]
    crews = [crew("A")]
    morning, _ = plan(orders[:1], crews)
    request = replan_request(morning, orders=orders, crews=crews, progress={}, now=at(7))
    new, problem = plan_routes(request, solve=SolveParams(time_limit_s=0.5))
    diff = diff_plans(morning, new, problem, warm=request.warm_start or {})
    assert any("job 2" in risk for risk in diff.sla_risks)
    assert replace(diff, sla_risks=()).sla_risks == ()


def test_driving_saved_is_measured_against_squeezing_the_new_work_into_the_old_order():
    # morning: one crew drives east then back; the urgent job is next to the yard, so the
    # old order with it squeezed in at its cheapest place is the baseline, never the old
    # order without it (which would make any insertion look like lost driving)
    orders = [job(i, 2.0 * i, minutes=30) for i in range(1, 5)]
    crews = [crew("A")]
    morning, _ = plan(orders, crews)
    urgent = job(99, 0.3, priority=Priority.P1)
    request = replan_request(morning, orders=[*orders, urgent], crews=crews, progress={}, now=at(7))
    new, problem = plan_routes(request, solve=SolveParams(time_limit_s=0.5))
    assert new.crew_of_job()[99] == "A"
    baseline = new.stats.baseline_travel_s
    assert isinstance(baseline, int)
    assert new.stats.baseline_served == len(orders) + 1
    diff = diff_plans(morning, new, problem, warm=request.warm_start or {})
    assert diff.travel_saved_s == baseline - new.travel_s
    assert diff.travel_saved_s >= 0  # same work served: the re-plan is never worse


def test_a_replan_moves_jobs_between_crews_only_for_real_savings():
    # A works 1 km and 10.5 km east, B 10 km east: handing B the 10.5 km job saves
    # A a 19 km round trip (about an hour) for one move
    orders = [job(1, 1.0), job(2, 10.5), job(3, 10.0), job(4, 3.0), job(5, 3.3)]
    problem, _ = build_problem(orders, [crew("A"), crew("B")], day=DAY, tz=TZ)
    index = {v.order.job_id: i for i, v in enumerate(problem.visits)}
    kept = [[index[1], index[2]], [index[3]]]
    far_saving = [[index[1]], [index[3], index[2]]]
    assert jobs_moved(kept, far_saving) == 1
    assert not prefer_kept(problem, kept, far_saving, moved=1)
    # A at 1 and 3 km, B at 3.3 km: handing B the 3 km job saves a 4 km drive (12 min),
    # not worth calling two crews
    with_near = [[index[1], index[4]], [index[5]]]
    near_swap = [[index[1]], [index[4], index[5]]]
    assert jobs_moved(with_near, near_swap) == 1
    assert prefer_kept(problem, with_near, near_swap, moved=1)
    # a dispatcher who does not mind reshuffling sets the move cost to zero
    free = replace(problem, params=replace(problem.params, move_cost_s=0))
    assert not prefer_kept(free, with_near, near_swap, moved=1)
