"""What residents see: no internal work orders on the public page, and dispatchers' notes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodispatch.config import Settings
from geodispatch.domain.requests import RequestStatus
from geodispatch.services import board, open311, workflow
from geodispatch.services.intake import import_file
from geodispatch.ui.widgets import md_escape
from tests.app.conftest import open_app, public_tables
from tests.conftest import write_csv
from tests.intake.boston_rows import HEADER_2011, row


@pytest.fixture
def with_work_orders(tmp_path: Path, env_settings: Settings) -> Settings:
    """Two residents' reports and two of the city's own work orders of two internal types."""
    import_file(
        write_csv(
            tmp_path / "e.csv",
            HEADER_2011,
            [
                row(case_enquiry_id="1"),
                row(case_enquiry_id="2", type="Street Light Outages", latitude="42.30"),
                row(case_enquiry_id="3", type="Pothole Repair (Internal)", latitude="42.31"),
                row(case_enquiry_id="4", type="Sidewalk Repair (Internal)", latitude="42.2925"),
            ],
        ),
        settings=env_settings,
    )
    return env_settings


def shown_text(app: AppTest) -> str:
    return " ".join(str(df.value.to_dict()) for df in app.dataframe)


def test_the_public_page_leaves_internal_work_orders_out_and_says_so(
    with_work_orders: Settings,
) -> None:
    app = open_app("Public")
    assert {m.label: m.value for m in app.metric}["Requests"] == "2"
    tables = public_tables(app)
    assert len(tables) == 4  # response times and backlog, by type and by ward
    shown = " ".join(tables)
    assert "Request for Pothole Repair" in shown
    assert "Street Light Outages" in shown
    assert "(Internal)" not in shown
    captions = " ".join(c.value for c in app.caption)
    assert "2 internal work-order types are not shown (2 requests)" in captions


def test_managers_pages_still_count_the_work_orders(with_work_orders: Settings) -> None:
    app = open_app("Dispatcher", "app_pages/overview.py")
    assert {m.label: m.value for m in app.metric}["Requests"] == "4"
    assert "Pothole Repair (Internal)" in shown_text(app)


NOTE = "Passed to <b>MassDOT</b> [who](javascript:alert(1)) maintain *this* road"


def job_page(job_id: int) -> AppTest:
    """The dispatcher's Work & SLA page with one job open."""
    app = open_app("Dispatcher", "app_pages/work.py")
    app.number_input(key="job-id").set_value(job_id).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def save(app: AppTest) -> None:
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]


def test_a_dispatchers_note_for_residents_is_saved_escaped_and_shown_on_open311(
    with_work_orders: Settings,
) -> None:
    job = next(j for j in workflow.list_open_jobs() if j.service_code == "street-light-outages")
    (request,) = workflow.job_requests(job.id)
    app = job_page(job.id)
    assert "No note for residents yet" in " ".join(c.value for c in app.caption)
    app.text_area(key="move-public-note").input(NOTE)
    save(app)

    # saved on the job without changing it, and echoed on the page with nothing rendered
    assert workflow.get_job(job.id).status is job.status
    assert board.job_detail(job.id).public_note == NOTE
    (residents_read,) = [m.value for m in app.markdown if "Residents read" in m.value]
    assert residents_read == f"**Residents read:** {md_escape(NOTE)}"
    assert app.text_area(key="move-public-note").value == ""  # ready for the next note
    # the resident-facing view: Open311 shows the note with the request, as written
    (shown,) = open311.get_request(str(request), extensions=True)
    assert shown["status_notes"] == f"{job.status.label}: {NOTE}"
    assert shown["notes"][-1]["description"] == NOTE


def test_a_status_change_carries_a_public_note_and_keeps_the_reason_internal(
    with_work_orders: Settings,
) -> None:
    job = next(
        j for j in workflow.list_open_jobs() if j.service_code == "request-for-pothole-repair"
    )
    (request,) = workflow.job_requests(job.id)
    app = job_page(job.id)
    app.selectbox(key="move-to").set_value(RequestStatus.CLOSED_NOT_CITY)
    app.text_input(key="move-note").input("caller Ann Smith, 617-555-0101: state road")
    app.text_area(key="move-public-note").input("This road is maintained by MassDOT.")
    save(app)

    assert workflow.get_job(job.id).status is RequestStatus.CLOSED_NOT_CITY
    (shown,) = open311.get_request(str(request), extensions=True)
    assert shown["status"] == "closed"
    assert shown["status_notes"].endswith(": This road is maintained by MassDOT.")
    assert "Ann Smith" not in str(shown)  # the reason stays with staff and auditors


def test_saving_nothing_says_what_to_fill_in(with_work_orders: Settings) -> None:
    job = workflow.list_open_jobs()[0]
    app = job_page(job.id)
    save(app)
    assert "Nothing to save" in app.warning[0].value
    assert board.job_detail(job.id).public_note == ""
