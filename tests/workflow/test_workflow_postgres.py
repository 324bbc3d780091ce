"""The workflow on PostgreSQL: transitions, merges, the audit trigger, crews racing.

Runs when ``GEODISPATCH_TEST_PG_URL`` is set (``.ci/run`` sets it when the machine has
PostgreSQL); skipped otherwise.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DatabaseError

from geodispatch.config import Settings
from geodispatch.domain.errors import StaleVersionError
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.services import field, open311, workflow
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import StatusEventRow, StopRow
from tests.workflow.workflow_helpers import import_and_group, item, job_of, make_routes, pin_of


@pytest.fixture(scope="module")
def pg(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(db_url=postgres_url, home=Path(tmp_path_factory.mktemp("pg-workflow")))


def test_workflow_merge_and_audit_trail_on_postgresql(pg: Settings) -> None:
    ids = import_and_group(pg, [item("a"), item("b", lat=42.33005), item("c", lat=42.3304)])
    a, c = job_of(pg, ids["a"]), job_of(pg, ids["c"])
    assert workflow.get_job(a, settings=pg).caller_count == 2
    merged = workflow.merge_jobs(a, {c: 1}, target_version=2, actor="d", settings=pg)
    assert merged.caller_count == 3
    with pytest.raises(StaleVersionError):
        workflow.transition_job(a, S.REVIEWED, expected_version=2, actor="d", settings=pg)
    done = workflow.transition_job(
        a,
        S.CLOSED_NO_ACTION,
        expected_version=merged.version,
        actor="d",
        note="n/a",
        settings=pg,
    )
    assert done.status is S.CLOSED_NO_ACTION
    with pytest.raises(DatabaseError, match="append-only"), session_scope(pg.database_url) as s:
        s.execute(update(StatusEventRow).values(note="rewritten"))
    query = open311.parse_query(status="closed", extensions="true")
    items, total = open311.query_requests(query, settings=pg)
    assert total == 3
    assert {i["extended_attributes"]["status"] for i in items} == {"NO_FURTHER_ACTION"}


def test_crews_racing_on_postgresql_lose_nothing(pg: Settings) -> None:
    routes = make_routes(pg, crews=10, stops_per_crew=1)
    crews = {
        code: field.authenticate(code, pin_of(i), settings=pg) for i, code in enumerate(routes)
    }
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def phone(code: str) -> None:
        stop_id = routes[code][0][0]
        barrier.wait()
        try:  # both phones of a crew post 'arrive' on version 1: exactly one wins
            field.record_update(crews[code], stop_id, "arrive", expected_version=1, settings=pg)
            result = "applied"
        except StaleVersionError:
            result = "stale"
        with lock:
            outcomes[result] += 1

    with ThreadPoolExecutor(max_workers=20) as pool:
        for f in [pool.submit(phone, code) for code in routes for _ in range(2)]:
            f.result()
    assert outcomes == Counter({"applied": 10, "stale": 10})
    with session_scope(pg.database_url) as session:
        assert session.scalar(select(func.sum(StopRow.version))) == 20
        arrivals = session.scalar(
            select(func.count()).select_from(StatusEventRow).where(StatusEventRow.kind == "arrive")
        )
        assert arrivals == 10
