"""Many threads at once on one SQLite file: migrations, Open311 POSTs, PIN guesses.

The API serves requests from a thread pool, so every service may run in parallel with
itself. These tests start the threads behind a barrier so they really overlap.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from geodispatch.services import workflow
from geodispatch.storage import db
from tests.workflow.workflow_helpers import make_settings


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
