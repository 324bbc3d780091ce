"""Closed means fixed, end to end on real Boston rows: import, closure truth, links, reports.

One module database: a slice of the Boston 2011 export (ward 3, October to December, every
abandoned-vehicle case, and the originals the slice's duplicate notes cite) imported with
the product's own import into SQLite, plus one row whose type name carries markup.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, update

from geodispatch.config import Settings
from geodispatch.domain.requests import RequestStatus
from geodispatch.intake.closure_notes import ClosureClass, ClosureRules, cited_case_ids
from geodispatch.services import closures, reports
from geodispatch.services.intake import import_file, import_payload
from geodispatch.services.performance import performance
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow, StatusEventRow
from tests.conftest import BOSTON_2011, DATA

HOSTILE = "<img src=x onerror=alert(1)> Pothole"


def boston_slice() -> pd.DataFrame:
    """Ward 3 Oct–Dec 2011, every abandoned vehicle, cited originals, a hostile type name."""
    rows = pd.read_csv(BOSTON_2011, dtype=str, keep_default_na=False)
    ward3 = rows["ward"].isin(["Ward 3", "03"]) & rows["open_dt"].between("2011-10", "2011-12-32")
    vehicles = rows["type"] == "Abandoned Vehicles"
    chosen = rows[ward3 | vehicles]
    rules = ClosureRules.load()
    cited = {c for note in chosen["closure_reason"] for c in cited_case_ids(note, rules)}
    originals = rows[rows["case_enquiry_id"].isin(cited)]
    # a dozen reports, so the type ranks among the report's named types
    hostile = chosen[chosen["type"] == "Request for Pothole Repair"].head(12).copy()
    hostile["case_enquiry_id"] = [f"9990000000{k:02d}" for k in range(len(hostile))]
    hostile["type"] = HOSTILE
    hostile["ward"] = "Ward 3"
    hostile[["open_dt", "target_dt", "closed_dt", "case_status"]] = [
        "2011-11-15 10:00:00",
        "2011-11-18 10:00:00",
        "",
        "Open",
    ]
    return pd.concat([chosen, originals, hostile]).drop_duplicates("case_enquiry_id")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, pd.DataFrame]:
    home = tmp_path_factory.mktemp("accountability")
    settings = Settings(home=home / "home", data_dir=DATA)
    frame = boston_slice()
    path = home / "boston_slice.csv"
    frame.to_csv(path, index=False)
    summary = import_file(path, settings=settings)
    assert summary.accepted == len(frame)
    return settings, frame


def _request(settings: Settings, source_id: str) -> RequestRow:
    with session_scope(settings.database_url) as session:
        row = session.execute(
            select(RequestRow).where(RequestRow.source_id == source_id)
        ).scalar_one()
        session.expunge(row)
        return row


def test_a_vehicle_not_at_location_is_stored_as_no_action_not_completed(db) -> None:
    settings, frame = db
    case = frame[frame["closure_reason"].str.contains("not at location")].iloc[0]
    stored = _request(settings, case["case_enquiry_id"])
    assert stored.status == RequestStatus.CLOSED_NO_ACTION.value
    assert stored.closure_class == ClosureClass.NOT_AT_LOCATION.value


def test_a_duplicate_note_links_the_request_to_the_case_it_cites(db) -> None:
    settings, frame = db
    notes = frame["closure_reason"]
    case = frame[notes.str.contains(r"THIS IS A DUPLICATE AND REFER TO CN#\d{12}", regex=True)]
    assert not case.empty
    row = case.iloc[0]
    original_id = re.search(r"CN#(\d{12})", row["closure_reason"]).group(1)  # type: ignore[union-attr]
    duplicate = _request(settings, row["case_enquiry_id"])
    original = _request(settings, original_id)
    assert duplicate.status == RequestStatus.CLOSED_DUPLICATE.value
    assert duplicate.duplicate_of == original.id


def test_a_short_crm_number_is_widened_to_boston_s_case_id() -> None:
    rules = ClosureRules.load()
    assert cited_case_ids("Case Closed Duplicate of Existing Case CRM # 341591", rules) == [
        "101000341591"
    ]
    assert cited_case_ids("refer to cn#101000353367. done 9/20", rules) == ["101000353367"]


def test_the_import_counts_closures_by_class_and_the_summary_table_agrees(db) -> None:
    settings, frame = db
    summary = closures.closure_summary(settings=settings)
    closed = frame["case_status"].str.startswith("Closed").sum()
    assert summary.counts.closed == closed
    assert summary.counts.by_class[ClosureClass.NOT_AT_LOCATION] > 0
    assert summary.counts.duplicates_linked > 0
    assert int(summary.by_type["total"].sum()) == closed


def test_re_reading_notes_corrects_a_closure_stored_by_the_old_rules_and_audits_it(db) -> None:
    settings, frame = db
    case = frame[frame["closure_reason"].str.contains("not at location")].iloc[1]
    with session_scope(settings.database_url) as session:  # as an older import stored it
        session.execute(
            update(RequestRow)
            .where(RequestRow.source_id == case["case_enquiry_id"])
            .values(status=RequestStatus.COMPLETED.value, closure_class=None)
        )
    with session_scope(settings.database_url) as session:
        counts = closures.apply_closure_rules(session, settings, now=datetime.now(UTC))
    assert counts.status_changed == 1
    stored = _request(settings, case["case_enquiry_id"])
    assert stored.status == RequestStatus.CLOSED_NO_ACTION.value
    with session_scope(settings.database_url) as session:
        event = session.execute(
            select(StatusEventRow).where(StatusEventRow.request_id == stored.id)
        ).scalar_one()
    assert (event.from_status, event.to_status) == ("completed", "closed_no_action")
    assert event.actor == "closure rules (boston)"


def test_re_reports_are_later_reports_of_the_same_type_nearby(db) -> None:
    settings, _ = db
    found = closures.recurrence(settings=settings)
    assert found.completed > 0
    pairs = found.pairs
    assert (pairs["distance_m"] <= settings.rereport_radius_m).all()
    assert ((pairs["days_after"] > 0) & (pairs["days_after"] <= 30)).all()
    by_type = found.by("service_name")
    assert int(by_type["rereported"].sum()) == found.rereported


def test_the_ward_report_totals_equal_the_manager_sla_page_for_the_same_filter(db) -> None:
    settings, _ = db
    report = reports.ward_report([3], "2011-11", settings=settings)
    page = performance(
        since=report.period_start.to_pydatetime(),
        until=report.period_end.to_pydatetime(),
        ward=3,
        settings=settings,
    )
    assert report.requests == page.requests > 0
    assert report.completed == page.completed
    assert report.on_time_share == pytest.approx(page.on_time_share)
    assert report.median_days == pytest.approx(page.median_days)
    assert int(report.by_type["requests"].sum()) == report.requests


def test_the_report_page_is_self_contained_and_keeps_markup_in_data_as_text(
    db, tmp_path: Path
) -> None:
    settings, frame = db
    written = reports.write_ward_report(
        [3], "2011-11", tmp_path / "ward3.html", pdf=False, settings=settings
    )
    page = written.html.read_text(encoding="utf-8")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; Pothole" in page
    assert "<script" not in page.lower()
    assert not re.search(r"(?:src|href)=['\"]?https?:", page)  # nothing from the network
    assert "<svg" in page
    addresses = [a for a in frame["location"] if re.match(r"\d+ \w", a)]
    assert addresses
    assert not [a for a in addresses if a.split("  ")[0] in page]  # no house is named


def test_an_unknown_month_or_ward_says_how_to_fix_it(db) -> None:
    settings, _ = db
    with pytest.raises(Exception, match="YYYY-MM"):
        reports.ward_report([3], "Nov 2011", settings=settings)
    with pytest.raises(Exception, match="wards with requests"):
        reports.ward_report([99], "2011-11", settings=settings)


def test_a_job_page_lists_earlier_closures_at_its_place(db) -> None:
    settings, _ = db
    pairs = closures.recurrence(settings=settings).pairs
    with session_scope(settings.database_url) as session:
        jobs = dict(
            session.execute(
                select(RequestRow.id, RequestRow.job_id).where(RequestRow.job_id.is_not(None))
            ).all()
        )
    open_later = pairs[pairs["rereport_id"].isin(list(jobs))]
    assert not open_later.empty  # December's open reports include re-reports
    pair = open_later.iloc[0]
    history = closures.job_closures(jobs[int(pair["rereport_id"])], settings=settings)
    assert int(pair["request_id"]) in set(history.earlier["request_id"])


def test_a_pdf_is_written_beside_the_page_when_weasyprint_is_installed(db, tmp_path: Path) -> None:
    pytest.importorskip("weasyprint")
    settings, _ = db
    written = reports.write_ward_report([3], "2011-11", tmp_path / "ward3.html", settings=settings)
    assert written.pdf == tmp_path / "ward3.pdf"
    assert written.pdf.read_bytes().startswith(b"%PDF")


def test_an_open311_closure_keeps_the_status_its_source_gave(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", data_dir=DATA)
    item = {
        "service_request_id": "A-1",
        "service_name": "Pothole",
        "status": "closed",
        "status_notes": "not at location 9/20.",
        "requested_datetime": "2011-09-01T10:00:00-04:00",
        "updated_datetime": "2011-09-02T10:00:00-04:00",
        "lat": 42.35,
        "long": -71.06,
    }
    import_payload([item], source="open311", settings=settings)
    with session_scope(settings.database_url) as session:
        counts = closures.apply_closure_rules(session, settings)
    assert counts.closed == 0  # the rules read city exports only
    stored = _request(settings, "A-1")
    assert stored.status == RequestStatus.COMPLETED.value
    assert stored.closure_class is None
