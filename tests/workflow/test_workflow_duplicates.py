"""Repeat reports become one job; dispatchers merge and split; completing closes them all."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodispatch.analysis.dedup import DedupParams, group_reports
from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, StaleVersionError, TransitionError
from geodispatch.domain.requests import Priority
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.domain.workflow import EventKind
from geodispatch.services import open311, workflow
from geodispatch.services.intake import import_file, import_payload
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import RequestRow
from tests.workflow.workflow_helpers import item, job_of

T0 = pd.Timestamp("2025-01-06 14:00", tz="UTC")
NO_JOBS = pd.DataFrame(columns=["job_id", "service_code", "x", "y", "last_report_at", "address"])


def reports(*rows: tuple[str, float, float, int]) -> pd.DataFrame:
    """(type, x metres, y metres, days after T0) per report."""
    return pd.DataFrame(
        {
            "request_id": range(1, len(rows) + 1),
            "service_code": [r[0] for r in rows],
            "x": [r[1] for r in rows],
            "y": [r[2] for r in rows],
            "created_at": [T0 + pd.Timedelta(days=r[3]) for r in rows],
            "address": [""] * len(rows),
        }
    )


def test_two_potholes_ten_metres_apart_are_one_job_and_a_third_sixty_metres_away_is_not() -> None:
    out = group_reports(
        reports(("pothole", 0, 0, 0), ("pothole", 10, 0, 1), ("pothole", 60, 0, 1)), NO_JOBS
    )
    assert out["group"].iat[0] == out["group"].iat[1] != out["group"].iat[2]
    assert out["distance_m"].iat[1] == pytest.approx(10.0)


def test_same_spot_but_other_type_or_three_weeks_later_is_a_new_job() -> None:
    out = group_reports(
        reports(("pothole", 0, 0, 0), ("graffiti", 0, 0, 0), ("pothole", 0, 0, 21)), NO_JOBS
    )
    assert out["group"].nunique() == 3


def test_a_line_of_reports_does_not_chain_into_one_long_job() -> None:
    line = reports(*[("pothole", 25.0 * i, 0, 0) for i in range(8)])  # 175 m of street
    out = group_reports(line, NO_JOBS, DedupParams(radius_m=30))
    assert out["group"].nunique() == 4  # pairs: every job stays within 30 m of its anchor
    assert out["distance_m"].max() <= 30


def test_a_new_report_joins_an_open_job_nearby() -> None:
    jobs = pd.DataFrame(
        {
            "job_id": [7],
            "service_code": ["pothole"],
            "x": [0.0],
            "y": [0.0],
            "last_report_at": [T0 - pd.Timedelta(days=3)],
            "address": ["1 Main St"],
        }
    )
    out = group_reports(reports(("pothole", 5, 5, 0)), jobs)
    assert out["job_id"].iat[0] == 7
    assert pd.isna(out["group"].iat[0])


def test_reports_without_a_point_match_on_their_address() -> None:
    frame = reports(("pothole", np.nan, np.nan, 0), ("pothole", np.nan, np.nan, 1))
    frame["address"] = ["12 Main St.", "12  main st"]
    out = group_reports(frame, NO_JOBS)
    assert out["group"].nunique() == 1


def test_dedup_params_refuse_nonsense() -> None:
    with pytest.raises(InputError, match=r"radius_m must be in \(0, 500\] metres. Got -1"):
        DedupParams(radius_m=-1)
    with pytest.raises(InputError, match="window must be between"):
        DedupParams(window=timedelta(0))


def test_repeat_calls_become_one_job_with_caller_count_earliest_due_and_top_priority(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(
        item(
            "a", created="2025-01-06T09:00:00-05:00", expected_datetime="2025-01-09T09:00:00-05:00"
        ),
        item(
            "b",
            lat=42.33008,  # ~9 m north
            created="2025-01-07T09:00:00-05:00",
            expected_datetime="2025-01-08T09:00:00-05:00",
        ),
        item("c", lat=42.3310),  # ~110 m away: another pothole
    )
    job = workflow.get_job(job_of(settings, ids["a"]), settings=settings)
    assert job_of(settings, ids["b"]) == job.id != job_of(settings, ids["c"])
    assert job.caller_count == 2
    assert job.earliest_due_at == datetime(2025, 1, 8, 14, 0, tzinfo=UTC)
    assert job.priority is Priority.P2  # potholes are P2 in the catalogue's work rules
    attach = [
        e for e in workflow.job_history(job.id, settings=settings) if e.kind is EventKind.ATTACH
    ]
    assert [e.request_id for e in attach] == [ids["b"]]
    assert attach[0].distance_m == pytest.approx(8.9, abs=0.5)


def test_a_later_call_joins_the_open_job_and_takes_its_status(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    job = workflow.transition_job(
        job_id, S.REVIEWED, expected_version=1, actor="d", settings=settings
    )
    ids = add_requests(item("b", lon=-71.06005, created="2025-01-08T10:00:00-05:00"))
    assert job_of(settings, ids["b"]) == job_id
    after = workflow.get_job(job_id, settings=settings)
    assert after.caller_count == 2
    assert after.version == job.version + 1  # the caller count changed: stale copies refused
    with session_scope(settings.database_url) as session:
        status = session.get(RequestRow, ids["b"]).status  # type: ignore[union-attr]
    assert status == S.REVIEWED.value


def test_a_call_after_the_job_is_closed_starts_a_new_job(settings: Settings, add_requests) -> None:
    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    workflow.transition_job(
        job_id, S.CLOSED_NO_ACTION, expected_version=1, actor="d", note="n/a", settings=settings
    )
    ids = add_requests(item("b"))
    assert job_of(settings, ids["b"]) != job_id


def test_completing_a_job_closes_every_linked_request_with_an_event_each(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"), item("b", lat=42.33005), item("c", lon=-71.06005))
    job = workflow.get_job(job_of(settings, ids["a"]), settings=settings)
    assert job.caller_count == 3
    for step in (S.REVIEWED, S.ASSIGNED, S.COMPLETED):
        job = workflow.transition_job(
            job.id, step, expected_version=job.version, actor="d", settings=settings
        )
    with session_scope(settings.database_url) as session:
        rows = [session.get(RequestRow, i) for i in ids.values()]
        assert {(r.status, r.closed_at is not None) for r in rows if r} == {("completed", True)}
    for rid in ids.values():
        last = workflow.request_history(rid, settings=settings)[-1]
        assert (last.to_status, last.job_id) == (S.COMPLETED, job.id)


def test_dispatcher_merges_two_jobs_and_splits_one_back_out(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"), item("b", lat=42.3304))  # 44 m apart: two jobs
    a, b = job_of(settings, ids["a"]), job_of(settings, ids["b"])
    assert a != b
    merged = workflow.merge_jobs(
        a,
        {b: 1},
        target_version=1,
        actor="dispatch:ana",
        note="same sunken trench",
        settings=settings,
    )
    assert merged.caller_count == 2
    closed = workflow.get_job(b, settings=settings)
    assert (closed.status, closed.merged_into) == (S.CLOSED_DUPLICATE, a)
    assert job_of(settings, ids["b"]) == a
    with pytest.raises(StaleVersionError):
        workflow.split_requests(a, [ids["b"]], expected_version=1, actor="d", settings=settings)
    new = workflow.split_requests(
        a,
        [ids["b"]],
        expected_version=merged.version,
        actor="dispatch:ana",
        note="two trenches after all",
        settings=settings,
    )
    assert new.caller_count == 1
    assert job_of(settings, ids["b"]) == new.id
    assert workflow.get_job(a, settings=settings).caller_count == 1
    kinds = [e.kind for e in workflow.job_history(a, settings=settings)]
    assert EventKind.MERGE in kinds
    assert EventKind.SPLIT in kinds


def test_merge_refuses_other_types_closed_jobs_and_emptying_splits(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"), item("g", code="graffiti", name="Graffiti Removal"))
    a, g = job_of(settings, ids["a"]), job_of(settings, ids["g"])
    with pytest.raises(TransitionError, match="only jobs of the same type can be merged"):
        workflow.merge_jobs(a, {g: 1}, target_version=1, actor="d", settings=settings)
    with pytest.raises(TransitionError, match="would leave it empty"):
        workflow.split_requests(a, [ids["a"]], expected_version=1, actor="d", settings=settings)
    with pytest.raises(TransitionError, match="cannot be merged into itself"):
        workflow.merge_jobs(a, {a: 1}, target_version=1, actor="d", settings=settings)


def test_housing_inspections_at_one_address_are_never_merged(
    settings: Settings, add_requests
) -> None:
    kw = {
        "code": "unsatisfactory-living-conditions",
        "name": "Unsatisfactory Living Conditions",  # skill 'inspection' in the catalogue
        "agency_responsible": "Inspectional Services",
    }
    ids = add_requests(item("a", **kw), item("b", **kw))
    assert job_of(settings, ids["a"]) != job_of(settings, ids["b"])


def test_every_intake_path_groups_repeat_reports_and_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    file = tmp_path / "requests.json"
    file.write_text(
        json.dumps([item("a"), item("b", lat=42.33005), item("c", lat=42.3310)]), encoding="utf-8"
    )
    summary = import_file(file, source="test", settings=settings)  # the app's import page
    assert (summary.grouping.new_jobs, summary.grouping.merged) == (2, 1)
    assert summary.grouping.describe() == (
        "grouped into 2 new jobs (1 repeat reports merged), 0 joined existing jobs"
    )
    again = import_payload([item("d", lon=-71.06005)], source="test", settings=settings)
    assert (again.grouping.new_jobs, again.grouping.attached) == (0, 1)
    posted = open311.submit_request(
        "geodispatch-demo",
        open311.NewRequest(service_code="pothole", lat="42.33102", long="-71.06"),
        settings=settings,
    )
    new_id = int(posted[0]["service_request_id"])
    assert job_of(settings, new_id) not in {job_of(settings, i) for i in (1, 2, 3, 4)}
    assert workflow.group_new_requests(settings=settings).requests == 0  # nothing left over
