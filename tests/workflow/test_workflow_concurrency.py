"""Many threads at once on one SQLite file: migrations, POSTs, grouping runs, PIN guesses.

The API serves requests from a thread pool, so every service may run in parallel with
itself. These tests start the threads behind a barrier so they really overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from geodispatch.config import Settings
from geodispatch.domain.errors import PermissionDeniedError, StaleVersionError
from geodispatch.domain.requests import RequestStatus
from geodispatch.services import field, open311, workflow
from geodispatch.storage import db, field_repo, workflow_repo
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import CrewLoginRow
from tests.workflow.workflow_helpers import (
    NOW,
    import_and_group,
    item,
    job_of,
    make_routes,
    make_settings,
    pin_of,
)


def run_together(n: int, action: Callable[[int], Any]) -> list[str]:
    """Run ``action(i)`` in ``n`` threads released at once; 'ok' or the error of each."""
    barrier = threading.Barrier(n)
    out: list[str] = []

    def go(i: int) -> None:
        barrier.wait()
        try:
            action(i)
            out.append("ok")
        except Exception as exc:  # the test asserts there are none
            out.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_threads_migrating_one_database_at_once_all_succeed(tmp_path: Path) -> None:
    url = make_settings(tmp_path).database_url
    db.upgrade(url)
    assert Counter(run_together(6, lambda _: db.upgrade(url))) == {"ok": 6}
    fresh = make_settings(tmp_path / "fresh").database_url
    assert Counter(run_together(6, lambda _: db.ensure_schema(fresh))) == {"ok": 6}
    assert db.current_revision(fresh) == db.head_revision()


def test_the_schema_is_checked_once_per_process_and_database(tmp_path: Path) -> None:
    url = make_settings(tmp_path).database_url
    db.ensure_schema(url)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = db.get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            db.ensure_schema(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []  # no migration run, no inspection: a set lookup


def test_a_deleted_sqlite_file_is_migrated_again(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    workflow.list_open_jobs(settings=settings)
    db.get_engine(settings.database_url).dispose()
    for leftover in tmp_path.glob("g.db*"):
        leftover.unlink()
    assert workflow.list_open_jobs(settings=settings) == []


def _post(settings: Settings, i: int) -> None:
    new = open311.NewRequest(
        service_code="pothole",
        lat=str(42.27 + (i // 4) * 0.01),  # 0.9-1.1 km apart: each report is a job of its own
        long=str(-71.12 + (i % 4) * 0.012),  # (a grid inside Boston's wards)
        description=f"report {i}",
    )
    open311.submit_request("geodispatch-demo", new, settings=settings)


def jobs_and_requests(settings: Settings) -> tuple[int, int, int, int]:
    """(requests, requests in a job, jobs, jobs without any request)."""
    with session_scope(settings.database_url) as session:
        requests, linked = session.execute(
            text("SELECT count(*), count(job_id) FROM requests")
        ).one()
        jobs = session.execute(text("SELECT count(*) FROM jobs")).scalar_one()
        empty = session.execute(
            text(
                "SELECT count(*) FROM jobs j WHERE NOT EXISTS "
                "(SELECT 1 FROM requests r WHERE r.job_id = j.id)"
            )
        ).scalar_one()
    return int(requests), int(linked), int(jobs), int(empty)


def check_parallel_posts(settings: Settings, n: int) -> None:
    """``n`` simultaneous POSTs: all stored, each in exactly one job, no job left empty."""
    import_and_group(settings, [item("seed", lat=42.30, lon=-71.10)])
    assert Counter(run_together(n, lambda i: _post(settings, i))) == {"ok": n}
    assert jobs_and_requests(settings) == (n + 1, n + 1, n + 1, 0)


def test_two_simultaneous_posts_make_one_job_each(tmp_path: Path) -> None:
    check_parallel_posts(make_settings(tmp_path), 2)


def test_eight_simultaneous_posts_make_one_job_each(tmp_path: Path) -> None:
    check_parallel_posts(make_settings(tmp_path), 8)


def test_grouping_runs_racing_posts_leave_no_empty_job(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    import_and_group(settings, [item("seed", lat=42.30, lon=-71.10)])

    def act(i: int) -> None:
        if i % 2:
            workflow.group_new_requests(settings=settings)
        else:
            _post(settings, i)

    assert Counter(run_together(8, act)) == {"ok": 8}
    assert jobs_and_requests(settings) == (5, 5, 5, 0)


def test_linking_a_request_that_already_has_a_job_changes_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    ids = import_and_group(settings, [item("a")])
    with session_scope(settings.database_url) as session:
        (job,) = workflow_repo.create_jobs_for(session, [ids["a"]], now=NOW)
        with pytest.raises(StaleVersionError, match=r"1 of 1 request\(s\) were put into a job"):
            workflow_repo.link_many(session, [(ids["a"], job, RequestStatus.NEW)], now=NOW)


def test_parallel_wrong_pins_are_all_counted_and_lock_the_crew_out(tmp_path: Path) -> None:
    """Each attempt is counted before its PIN is checked, in one atomic update: none is lost."""
    settings = make_settings(tmp_path)
    make_routes(settings, crews=1, stops_per_crew=1)
    outcomes = run_together(
        12,
        lambda k: field.authenticate("C01", "97531", source=f"10.0.0.{k}", settings=settings),
    )
    assert Counter(outcomes) == {f"PermissionDeniedError: {field.REFUSED}": 12}
    with session_scope(settings.database_url) as session:
        crew = field_repo.crew_credential(session, "C01")
        assert crew is not None
        row = session.get(CrewLoginRow, crew.id)
        assert row is not None
        assert row.failed_count == 12
        assert row.locked_until is not None
    with pytest.raises(PermissionDeniedError, match="wrong crew code or PIN"):
        field.authenticate("C01", pin_of(0), source="crew-phone", settings=settings)


def test_a_job_change_landing_while_a_request_change_reads_cannot_both_apply(
    tmp_path: Path,
) -> None:
    """Dispatcher Bo reviews the job while dispatcher Ana's request change is reading it.

    One of them must be told to reload: before the fix Ana's close was applied on top of
    Bo's review she never saw.
    """
    settings = make_settings(tmp_path)
    ids = import_and_group(settings, [item("a")])
    job_id = job_of(settings, ids["a"])
    with session_scope(settings.database_url) as session:
        seen = workflow_repo.request_state(session, ids["a"]).version
    engine = db.get_engine(settings.database_url)
    threads: list[threading.Thread] = []
    bo: list[str] = []

    def review() -> None:
        bo.extend(
            run_together(
                1,
                lambda _: workflow.transition_job(
                    job_id, "reviewed", expected_version=1, actor="dispatch:bo", settings=settings
                ),
            )
        )

    def bo_meanwhile(*args: Any) -> None:
        statement = str(args[2])
        if not threads and statement.lstrip().startswith("SELECT") and "FROM jobs" in statement:
            threads.append(threading.Thread(target=review))
            threads[0].start()
            threads[0].join(timeout=2)  # Bo commits now, unless Ana holds the lock

    event.listen(engine, "before_cursor_execute", bo_meanwhile)
    try:
        ana = run_together(
            1,
            lambda _: workflow.transition_request(
                ids["a"],
                "closed_no_action",
                expected_version=seen,
                actor="dispatch:ana",
                note="nothing there",
                settings=settings,
            ),
        )
    finally:
        event.remove(engine, "before_cursor_execute", bo_meanwhile)
        for t in threads:
            t.join()
    assert sorted(o == "ok" for o in ana + bo) == [False, True]
    assert "Reload" in " ".join(ana + bo)
