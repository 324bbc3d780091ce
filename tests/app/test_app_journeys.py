"""Every page for every role, and the three journeys, on a real seeded SQLite database.

The database holds Boston's 2025 open backlog (2,424 requests), grouped into jobs, with
hotspots, the 20-crew roster and a published plan for today (tests/app/seed.py).
"""

from __future__ import annotations

import functools
from datetime import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role, StaffUser
from geodispatch.domain.errors import PermissionDeniedError
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import StopStatus
from geodispatch.reporting.maps import MapParams
from geodispatch.services import board, catalogue, dispatch, field, performance, workflow
from geodispatch.ui import data
from geodispatch.ui.map_frame import shown_map_page
from geodispatch.ui.state import URGENT_JOB
from tests.app.conftest import PAGES, open_app
from tests.app.seed import PIN


def confirm_removals(app: AppTest) -> None:
    """Tick "take these jobs off the routes" when publishing asks for it."""
    for box in app.checkbox:
        if box.key and box.key.startswith("plan-confirm-removals-"):
            box.check().run()


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def table(app: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page holding all these columns (st.dataframe has no key here)."""
    for shown in app.dataframe:
        frame = shown.value
        if set(columns) <= set(frame.columns):
            return frame
    raise AssertionError(f"no table with columns {columns}")


def iframe_pages(app: AppTest) -> list[str]:
    """The HTML of every embedded map page (shown in sandboxed frames)."""
    pages = (shown_map_page(e.proto) for e in app.get("bidi_component"))
    return [page for page in pages if page is not None]


@pytest.mark.parametrize(("role", "page", "title"), PAGES)
def test_every_page_renders_for_its_role(
    boston: Settings, role: str, page: str | None, title: str
) -> None:
    app = open_app(role, page)
    assert app.title[0].value == title
    assert not app.error, [e.value for e in app.error]


def test_the_plan_page_shows_the_published_plan_on_an_offline_map(boston: Settings) -> None:
    app = open_app("Dispatcher")
    shown = metrics(app)
    assert shown["Status"] == "Published"
    assert int(shown["Jobs on routes"]) > 0
    (page,) = iframe_pages(app)
    assert "leaflet" in page.lower()
    assert 'src="http' not in page  # Leaflet inlined: nothing to fetch
    crews = table(app, "crew", "finished_share")
    assert set(crews["crew"]) >= {"ASP-1", "LGT-1"}
    app.segmented_control(key="plan-view").set_value("Left out").run()
    reasons = table(app, "reason", "jobs")
    assert reasons["jobs"].sum() == int(shown["Left out"].replace(",", ""))
    assert "Lower priority than the work served" in set(reasons["reason"])


def test_open_jobs_filter_by_type_ward_age_and_sla(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    everything = table(app, "job_id", "sla")
    total = board.job_board().total
    assert metrics(app)["Jobs shown"] == f"{total:,}"
    assert len(everything) == min(total, 500)  # the most urgent 500 are listed
    assert everything["job_id"].tolist() == board.job_board().jobs["job_id"].head(500).tolist()
    app.toggle(key="jobs-more").set_value(True).run()
    assert len(table(app, "job_id", "sla")) == min(total, 5000)
    app.toggle(key="jobs-more").set_value(False).run()
    app.multiselect(key="jobs-type").set_value(["street-light-outages"]).run()
    lights = table(app, "job_id", "sla")
    assert 0 < int(metrics(app)["Jobs shown"].replace(",", "")) < total
    assert set(lights["service_name"]) == {"Street Light Outages"}
    ward = int(lights["ward"].dropna().iloc[0])
    app.multiselect(key="jobs-ward").set_value([ward]).run()
    app.pills(key="jobs-sla").set_value(["overdue"]).run()
    narrowed = table(app, "job_id", "sla")
    assert 0 < len(narrowed) <= len(lights)
    assert set(narrowed["ward"]) == {ward}
    assert set(narrowed["sla"]) == {"overdue"}
    app.select_slider(key="jobs-age").set_value((0, 7)).run()
    assert metrics(app)["Jobs shown"] == "0"  # the 2025 backlog is older
    assert "No open job matches these filters" in app.info[0].value


def test_a_dispatcher_merges_a_possible_duplicate(boston: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/jobs.py")
    app.segmented_control(key="jobs-view").set_value("Possible duplicates").run()
    keep, other = app.selectbox(key="dup-pair").value
    callers = workflow.get_job(keep).caller_count + workflow.get_job(other).caller_count
    app.text_input(key="dup-note").input("same broken sidewalk, reported twice")
    app.button(key="dup-merge").click().run()
    assert not app.exception
    assert workflow.get_job(other).status is RequestStatus.CLOSED_DUPLICATE
    assert workflow.get_job(keep).caller_count == callers
    assert (keep, other) not in app.selectbox(key="dup-pair").options


def test_a_crew_signs_in_and_marks_its_next_stop_done(boston: Settings) -> None:
    app = open_app("Field crew")
    assert app.title[0].value == "My route"
    app.selectbox(key="crew-code").set_value("ASP-1")
    app.text_input(key="crew-pin").input(PIN)
    app.button[0].click().run()  # the form's "Sign in"
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    identity = field.authenticate("ASP-1", PIN)
    day = field.crew_day(identity)
    stop = day.next_stop
    assert stop is not None
    assert app.selectbox(key="crew-stop").value == stop.stop_id
    assert any("Google Maps" in b.label for b in app.get("link_button")) or app.get("link_button")

    app.radio(key=f"crew-pos-{stop.stop_id}").set_value("confirmed").run()
    app.text_area(key=f"crew-note-{stop.stop_id}").input("patched, cones removed")
    app.button(key=f"crew-submit-{stop.stop_id}").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]

    after = {s.stop_id: s for s in field.crew_day(identity).stops}
    assert after[stop.stop_id].status is StopStatus.DONE
    assert workflow.get_job(stop.job_id).status is RequestStatus.COMPLETED
    done = [e for e in workflow.job_history(stop.job_id) if e.kind.value == "done"]
    assert done[-1].note == "patched, cones removed"
    assert set(done[-1].flags.split(",")) == {"no_photo", "position_not_measured"}
    assert done[-1].actor == "crew:ASP-1"
    assert app.selectbox(key="crew-stop").value != stop.stop_id  # on to the next stop

    # the dispatcher's board shows the stop done with the crew's note
    desk = open_app("Dispatcher")
    desk.segmented_control(key="plan-view").set_value("Stops").run()
    stops = table(desk, "sequence", "report_note").set_index("job_id")
    assert stops.loc[stop.job_id, "status"] == "Done"
    assert stops.loc[stop.job_id, "report_note"] == "patched, cones removed"
    crews = table(open_app("Dispatcher"), "crew", "finished_share").set_index("crew")
    assert crews.loc["ASP-1", "done"] >= 1


def test_a_wrong_pin_is_refused_without_saying_which_part_was_wrong(boston: Settings) -> None:
    app = open_app("Field crew")
    app.selectbox(key="crew-code").set_value("LGT-1")
    app.text_input(key="crew-pin").input("97531")
    app.button[0].click().run()
    assert app.error[0].value.startswith("wrong crew code or PIN")
    assert app.selectbox(key="crew-code") is not None  # still on the sign-in form


def test_a_supervisor_plans_the_day_publishes_and_replans_an_urgent_job(
    boston: Settings,
) -> None:
    day = board.today()
    before = {p.id for p in board.day_plans(day)}
    app = open_app("Supervisor")
    app.slider(key="plan-limit").set_value(2).run()
    app.button(key="plan-run").click().run()
    assert not app.exception
    new = {p.id for p in board.day_plans(day)} - before
    assert len(new) == 1
    (draft,) = new
    assert metrics(app)["Status"] == "Draft"

    app.button(key="plan-publish").click().run()
    assert "Publish plan" in app.warning[0].value
    confirm_removals(app)
    app.button(key="plan-publish-confirm").click().run()
    assert not app.exception
    statuses = {p.id: p.status for p in board.day_plans(day)}
    assert statuses[draft] == "published"
    assert board.plan_board(draft).header.created_by == "supervisor-test"  # the account
    assert all(statuses[p] == "superseded" for p in before if statuses[p] != "draft")
    routed = dispatch.load_plan(draft).crew_of_job()
    assert all(
        workflow.get_job(j).status in {RequestStatus.ASSIGNED, RequestStatus.COMPLETED}
        for j in list(routed)[:20]
    )
    # jobs this plan put on routes: the audit names the supervisor who published it
    trail = [
        e for j in routed for e in workflow.job_history(j) if f"published plan {draft}" in e.note
    ]
    assert trail
    assert {e.actor for e in trail} == {"supervisor-test"}
    assert metrics(app)["Status"] == "Published"

    # an urgent job that no route serves today: the re-plan puts it on one
    left_out = board.plan_board(draft).dropped
    lower = left_out[(left_out["reason_code"] == "lower_priority") & (left_out["priority"] != "P1")]
    urgent = int(lower["job_id"].iloc[0])
    app.number_input(key=URGENT_JOB).set_value(urgent)
    app.time_input(key="plan-urgent-at").set_value(time(10, 30))  # mid-shift
    next(b for b in app.button if b.label == "Re-plan with this job first").click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    assert app.success[0].value.startswith(f"Job {urgent} is stop ")
    changes = table(app, "change", "eta_after").set_index("job_id")
    assert changes.loc[urgent, "change"] == "Added to a route"
    assert metrics(app)["Status"] == "Draft"  # the re-plan waits for publishing
    replanned = board.current_plan_id(day)
    assert replanned == draft  # crews still see the published plan


def test_a_manager_filters_the_hotspot_map_by_type_and_ward(boston: Settings) -> None:
    app = open_app("Manager")
    # the 2025 backlog slice (2k incidents) holds no place where one type is
    # over-represented: the problem list is empty, busy places are there when asked
    assert int(metrics(app)["Hotspots"]) == 0
    app.toggle(key="hot-mixed").set_value(True).run()
    everywhere = int(metrics(app)["Hotspots"])
    (full_map,) = iframe_pages(app)
    assert everywhere > 0
    assert 'src="http' not in full_map
    emerging = table(app, "trend", "top_address")
    assert set(emerging["trend"]) <= {"new", "intensifying"}

    app.toggle(key="hot-mixed").set_value(False).run()
    app.multiselect(key="hot-types").set_value(["street-light-outages"]).run()
    assert int(metrics(app)["Hotspots"]) == 0  # the type's own hotspots only: none
    ward = board.job_board(board.JobFilter(service_codes=("street-light-outages",))).wards[0]
    app.multiselect(key="hot-wards").set_value([ward]).run()
    assert not app.exception
    (ward_map,) = iframe_pages(app)
    assert ward_map != full_map
    assert not [t for t in app.dataframe if "top_hotspots" in t.value.columns]  # map tab only

    app.session_state["hot-tab"] = "Ward table"
    app.run()
    wards = table(app, "ward", "top_hotspots")
    assert [str(w) for w in wards["ward"]] == [str(ward)]
    assert int(wards["hotspots"].sum()) == 0  # the type filter filters the ward table
    assert not iframe_pages(app)  # the map is not drawn under another tab

    app.session_state["hot-tab"] = "Export"
    app.run()
    assert not app.exception
    labels = [b.proto.label for b in app.get("download_button")]
    assert labels[0].startswith("Hotspots as CSV (")
    assert "Ward table as CSV" in labels


def test_the_hotspot_map_draws_the_strongest_and_every_one_on_request(
    boston: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a map with room for 3 hotspots, so the small seeded city has some left out
    monkeypatch.setattr(data, "MapParams", functools.partial(MapParams, max_hotspots=3))
    app = open_app("Manager")
    app.toggle(key="hot-mixed").set_value(True).run()  # busy places: the slice's hotspots
    found = int(metrics(app)["Hotspots"].replace(",", ""))
    assert found > 3
    (strongest,) = iframe_pages(app)
    assert f"strongest 3 of {found:,} hotspots drawn" in strongest  # the map's legend
    (caption,) = [c.value for c in app.caption if "not drawn" in c.value]
    assert f"strongest 3 of these {found:,} hotspots" in caption
    assert f"{found - 3:,} weaker ones are not drawn" in caption
    assert "Draw every hotspot" in caption

    app.toggle(key="hot-every").set_value(True).run()
    assert not app.exception
    (every,) = iframe_pages(app)
    assert "hotspots drawn" not in every
    # the same wards and heat, and every hotspot the filters match
    assert every.count('"type": "Feature"') - strongest.count('"type": "Feature"') == found - 3
    assert not [c.value for c in app.caption if "not drawn" in c.value]


def test_a_manager_reads_sla_compliance_by_department_and_ward(boston: Settings) -> None:
    app = open_app("Manager", "app_pages/performance.py")
    shown = metrics(app)
    assert int(shown["Requests"].replace(",", "")) == 2424
    by_department = table(app, "department", "on_time_share")
    assert by_department["requests"].sum() == 2424
    with pytest.raises(AssertionError, match="no table"):  # only the open tab is drawn
        table(app, "ward", "median_age_days")
    app.selectbox(key="perf-ward").set_value(3).run()
    narrowed = metrics(app)
    assert int(narrowed["Requests"].replace(",", "")) < 2424
    app.session_state["perf-tab"] = "By ward"  # the manager opens the ward tab
    app.run()
    backlog = table(app, "ward", "median_age_days")
    assert list(backlog["ward"]) == [3]
    app.session_state["perf-tab"] = "Month by month"
    app.run()
    assert table(app, "month", "on_time_share")["opened"].sum() > 0


def button(app: AppTest, label: str) -> object:
    """The button (or form submit button) with this label."""
    return next(b for b in app.button if b.label == label)


def test_a_dispatcher_drafts_a_plan_but_a_supervisor_publishes_it(boston: Settings) -> None:
    draft = dispatch.plan_day(board.today(), time_limit_s=1.0, created_by="test").plan_id
    app = open_app("Dispatcher")
    app.session_state["plan-focus"] = draft
    app.run()
    assert metrics(app)["Status"] == "Draft"
    publish = app.button(key="plan-publish")
    assert publish.disabled
    assert "may not publish" in publish.help
    assert not app.button(key="plan-run").disabled  # drafting is the dispatcher's work
    dispatcher = StaffUser("dispatcher-test", "Test dispatcher", Role.DISPATCHER)
    version = board.plan_board(draft).header.version
    with pytest.raises(PermissionDeniedError, match="may not publish"):
        board.publish(draft, expected_version=version, by=dispatcher)  # the service refuses too
    assert board.plan_board(draft).header.status == "draft"


def test_a_manager_reads_the_work_page_but_does_not_move_jobs(boston: Settings) -> None:
    job = workflow.list_open_jobs()[0]
    app = open_app("Manager", "app_pages/work.py")
    app.number_input(key="job-id").set_value(job.id).run()
    assert not app.exception
    save = button(app, "Save")
    assert save.disabled
    assert "may not move a job" in save.help
    manager = StaffUser("manager-test", "Test manager", Role.MANAGER)
    with pytest.raises(PermissionDeniedError):
        workflow.transition_job(
            job.id,
            RequestStatus.CLOSED_NO_ACTION,
            expected_version=job.version,
            actor=manager,
            note="no",
        )
    assert workflow.get_job(job.id).status is job.status


def test_a_dispatcher_reads_the_catalogue_but_cannot_make_a_type_public(
    boston: Settings,
) -> None:
    app = open_app("Dispatcher", "app_pages/catalogue.py")
    assert app.button(key="catalogue-save").disabled
    assert any("may not edit service types" in c.value for c in app.caption)
    kind = catalogue.list_types()[0][0]
    dispatcher = StaffUser("dispatcher-test", "Test dispatcher", Role.DISPATCHER)
    with pytest.raises(PermissionDeniedError):
        catalogue.edit_types({kind.code: {"public": not kind.public}}, by=dispatcher)
    assert catalogue.list_types()[0][0].public is kind.public


def test_council_sees_only_its_wards_figures(boston: Settings) -> None:
    app = open_app("Council")  # ward 3 (tests/app/signin.py)
    assert app.title[0].value == "SLA & trends"
    assert app.selectbox(key="perf-ward").options == ["3"]
    ward_3 = int(metrics(app)["Requests"].replace(",", ""))
    assert 0 < ward_3 < 2424
    app.session_state["perf-tab"] = "By ward"
    app.run()
    assert list(table(app, "ward", "median_age_days")["ward"]) == [3]
    assert not any("Lorraine" in str(df.value.to_dict()) for df in app.dataframe)
    council = StaffUser("council-test", "Test council", Role.COUNCIL, wards=(3,))
    for other in (None, 5):
        with pytest.raises(PermissionDeniedError, match="only wards 3"):
            performance.performance(ward=other, viewer=council)


def test_the_audit_names_the_signed_in_account(boston: Settings) -> None:
    job = next(j for j in workflow.list_open_jobs() if j.status is RequestStatus.NEW)
    app = open_app("Dispatcher", "app_pages/work.py")
    app.number_input(key="job-id").set_value(job.id).run()
    app.selectbox(key="move-to").set_value(RequestStatus.REVIEWED)
    button(app, "Save").click().run()
    assert not app.exception
    assert workflow.job_history(job.id)[-1].actor == "dispatcher-test"
    assert not [t.label for t in app.text_input if "name" in t.label.lower()]  # none typed
