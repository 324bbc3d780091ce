"""A dispatch day that follows the clock: the Plan page at 08:00, 11:30, 15:17 and 17:30.

One seeded Boston 2025 database (morning plan published at 06:30 on the backlog's last
day); the tests run in order through the day, each with the product's clock set to its
hour, as a dispatcher would use the page: re-plan around an urgent job, publish (with the
confirmation a shrinking plan needs), and after the shift, plan tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings, get_settings
from geodispatch.dispatch.workorders import age_limit
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import RoutePlan
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import StopStatus
from geodispatch.services import board, catalogue, dispatch, field, workflow
from geodispatch.ui.state import URGENT_FROM_JOBS, URGENT_JOB
from tests.app.conftest import open_app
from tests.app.seed import PIN

DAY = date(2025, 5, 19)
TZ = ZoneInfo("America/New_York")


@pytest.fixture
def at(boston: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set the product's clock to an hour of the demo day: ``at("11:30")``."""

    def set_clock(hhmm: str) -> datetime:
        monkeypatch.setenv("GEODISPATCH_CLOCK", f"{DAY}T{hhmm}")
        get_settings.cache_clear()
        return datetime.combine(DAY, datetime.strptime(hhmm, "%H:%M").time(), TZ)

    yield set_clock
    get_settings.cache_clear()


def published_and_urgent() -> tuple[int, int]:
    """The day's published plan and a job it leaves out for lower priority (the urgent call)."""
    published = board.current_plan_id(DAY)
    assert published is not None
    dropped = board.plan_board(published).dropped
    lower = dropped[(dropped["reason_code"] == "lower_priority") & (dropped["priority"] != "P1")]
    return published, int(lower["job_id"].iloc[0])


def replan_urgent(app: AppTest, job_id: int) -> None:
    app.number_input(key=URGENT_JOB).set_value(job_id)
    next(b for b in app.button if b.label == "Re-plan with this job first").click().run()
    assert not app.exception, [e.value for e in app.exception]


def nothing_in_the_past(plan: RoutePlan, now: datetime) -> None:
    for route in plan.routes:
        for stop in route.stops:
            if stop.status == StopStatus.PLANNED:
                assert stop.eta >= now, (route.crew.code, stop.order.job_id, stop.eta)
        if route.stops and route.break_start is not None:
            assert route.break_start >= now or route.stops[0].status != StopStatus.PLANNED


def publish_on_page(app: AppTest, plan_id: int) -> None:
    """Publish from the page, ticking the removal confirmation when it is asked for."""
    app.button(key="plan-publish").click().run()
    boxes = [b for b in app.checkbox if (b.key or "").startswith("plan-confirm-removals-")]
    check = board.publish_check(plan_id)
    if check.needs_confirmation:
        assert boxes, "a plan that takes work away must ask for confirmation"
        assert app.button(key="plan-publish-confirm").disabled
        boxes[0].check().run()
    assert not app.button(key="plan-publish-confirm").disabled
    app.button(key="plan-publish-confirm").click().run()
    assert not app.exception, [e.value for e in app.exception]


def test_0800_urgent_job_goes_on_a_route_and_the_plan_is_published(boston: Settings, at):
    now = at("08:00")
    published, urgent = published_and_urgent()
    app = open_app("Supervisor")
    # every page says the demo runs on its data's day, not on the real date
    assert any("Running on Monday 19 May 2025, 08:00" in m.value for m in app.markdown)
    replan_urgent(app, urgent)
    assert not app.error, [e.value for e in app.error]
    assert app.success[0].value.startswith(f"Job {urgent} is stop ")
    draft = board.current_plan_id(DAY)
    newest = board.day_plans(DAY)[0].id
    assert draft == published  # crews keep the published plan until the draft is published
    plan = dispatch.load_plan(newest)
    assert urgent in plan.crew_of_job()
    assert next(s for r in plan.routes for s in r.stops if s.order.job_id == urgent).order.urgent
    nothing_in_the_past(plan, now)
    publish_on_page(app, newest)
    assert board.current_plan_id(DAY) == newest
    # jobs the new plan left out are back in the queue, not "Work assigned"
    routed = set(dispatch.load_plan(newest).crew_of_job())
    for job in dispatch.load_plan(published).crew_of_job():
        if job not in routed:
            assert workflow.get_job(job).status is not RequestStatus.ASSIGNED


def test_1130_replan_starts_crews_where_they_are(boston: Settings, at):
    now = at("11:30")
    published, urgent = published_and_urgent()
    plan = dispatch.load_plan(published)
    busy = next(r for r in plan.routes if len(r.stops) >= 2)
    done = busy.stops[0]
    dispatch.set_stop(published, done.order.job_id, status="done")
    app = open_app("Supervisor")
    replan_urgent(app, urgent)
    placed = app.success and app.success[0].value.startswith(f"Job {urgent} is stop ")
    assert placed or "would" in app.error[0].value or "fits" in app.error[0].value
    newest = board.day_plans(DAY)[0].id
    again = dispatch.load_plan(newest)
    nothing_in_the_past(again, now)
    route = again.route_of(busy.crew.code)
    assert route is not None
    assert route.stops[0].order.job_id == done.order.job_id  # the finished stop is kept
    assert route.stops[0].status == StopStatus.DONE
    # the crew leaves from the job it finished, not from its yard
    assert (route.start_lon, route.start_lat) == pytest.approx((done.order.lon, done.order.lat))
    publish_on_page(app, newest)


def test_1517_urgent_job_out_of_reach_is_explained_with_what_would_fit(boston: Settings, at):
    now = at("15:17")
    _published, urgent = published_and_urgent()
    app = open_app("Supervisor")
    replan_urgent(app, urgent)
    newest = board.day_plans(DAY)[0].id
    plan = dispatch.load_plan(newest)
    nothing_in_the_past(plan, now)
    if urgent in plan.crew_of_job():
        assert app.success[0].value.startswith(f"Job {urgent} is stop ")
    else:
        advice = app.error[0].value
        assert f"Urgent job {urgent} is not on any route" in advice
        assert "min of overtime on crew" in advice
        assert "first thing tomorrow" in advice
    check = board.publish_check(newest)
    if check.empty:
        app.button(key="plan-publish").click().run()
        assert app.button(key="plan-publish-confirm").disabled
        with pytest.raises(InputError, match="no stops"):
            dispatch.publish_plan(newest, confirm_removals=True)
    elif check.needs_confirmation:
        with pytest.raises(InputError, match="Confirm to publish"):
            dispatch.publish_plan(newest)


def test_1520_a_crew_sees_its_past_etas_late_and_the_urgent_stop_marked(boston: Settings, at):
    now = at("15:20")
    published = board.current_plan_id(DAY)
    assert published is not None
    plan = dispatch.load_plan(published)
    route = next(r for r in plan.routes if any(s.order.urgent for s in r.stops))
    field.set_pin(route.crew.code, PIN)
    app = open_app("Field crew")
    app.selectbox(key="crew-code").set_value(route.crew.code)
    app.text_input(key="crew-pin").input(PIN)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    app.segmented_control(key="crew-view").set_value("All stops").run()
    shown = [m.value for m in app.markdown]
    urgent = next(s for s in route.stops if s.order.urgent)
    assert any("URGENT" in text and f"{urgent.eta:%H:%M}" in text for text in shown)
    past = [s for s in route.stops if s.status == StopStatus.PLANNED and s.eta < now]
    assert past, "the 11:30 plan has stops due before 15:20 that nobody reported"
    assert sum("late" in text for text in shown) == len(past)


def test_1730_plan_today_says_the_shift_is_over_and_offers_tomorrow(boston: Settings, at):
    at("17:30")
    app = open_app("Supervisor")
    app.button(key="plan-run").click().run()
    assert not app.exception
    assert any("has ended" in w.value for w in app.warning)
    app.button(key="plan-tomorrow").click().run()
    assert app.date_input(key="plan-day").value == DAY + timedelta(days=1)
    app.slider(key="plan-limit").set_value(2).run()
    app.button(key="plan-run").click().run()
    assert not app.exception, [e.value for e in app.exception]
    (tomorrow,) = board.day_plans(DAY + timedelta(days=1))
    plan = dispatch.load_plan(tomorrow.id)
    assert plan.served > 0
    start = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), TZ).replace(hour=7)
    nothing_in_the_past(plan, start)


def test_open_jobs_urgent_button_opens_the_plan_page_filled_in(boston: Settings, at):
    at("09:00")
    _published, urgent = published_and_urgent()
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.session_state[URGENT_FROM_JOBS] = urgent  # what the Urgent button stores
    app.switch_page("app_pages/plan.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.number_input(key=URGENT_JOB).value == urgent
    assert any(f"Job {urgent} is filled in" in i.value for i in app.info)


def test_no_plan_routes_comments_or_jobs_past_their_age_limit(boston: Settings, at):
    now = at("12:00")
    types = {t.code: t for t, _ in catalogue.list_types()}
    for header in board.day_plans(DAY) + board.day_plans(DAY + timedelta(days=1)):
        plan = dispatch.load_plan(header.id)
        for route in plan.routes:
            for stop in route.stops:
                stype = types[stop.order.service_code]
                assert stype.field_work, (header.id, stop.order.service_code)
                assert stop.order.created_at is not None
                age = (now - stop.order.created_at).days
                assert age <= age_limit(stype, boston.max_age_days) + 1 or stop.order.urgent
