"""Every workflow transition, allowed and refused, with audit events and versions."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest

from geodispatch.config import Settings
from geodispatch.domain.errors import StaleVersionError, TransitionError
from geodispatch.domain.requests import RequestStatus as S
from geodispatch.domain.workflow import TRANSITIONS, EventKind, needs_note
from geodispatch.services import workflow
from tests.workflow.workflow_helpers import item, job_of, make_settings

#: How to bring a new job to each status (dispatcher steps, each with a note).
PATHS: dict[S, list[S]] = {
    S.NEW: [],
    S.REVIEWED: [S.REVIEWED],
    S.ASSIGNED: [S.REVIEWED, S.ASSIGNED],
    S.IN_PROGRESS: [S.REVIEWED, S.ASSIGNED, S.IN_PROGRESS],
    S.COMPLETED: [S.REVIEWED, S.ASSIGNED, S.COMPLETED],
    S.CLOSED_DUPLICATE: [S.CLOSED_DUPLICATE],
    S.CLOSED_NO_ACTION: [S.REVIEWED, S.CLOSED_NO_ACTION],
    S.CLOSED_NOT_CITY: [S.CLOSED_NOT_CITY],
}
PAIRS = list(product(list(S), list(S)))


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[tuple[S, S], int]]:
    """One job per (from, to) pair, already at its from-status; jobs far apart."""
    from geodispatch.services.intake import import_payload

    settings = make_settings(Path(tmp_path_factory.mktemp("transitions")))
    items = [  # a grid of points ~250-330 m apart, all inside Boston's wards
        item(f"t{i}", lat=42.29 + (i // 10) * 0.003, lon=-71.10 + (i % 10) * 0.003)
        for i in range(len(PAIRS))
    ]
    import_payload(items, source="test", settings=settings)
    from sqlalchemy import select

    from geodispatch.storage.db import session_scope
    from geodispatch.storage.tables import RequestRow

    with session_scope(settings.database_url) as session:
        ids = dict(session.execute(select(RequestRow.source_id, RequestRow.id)).all())
    jobs = {}
    for i, (start, target) in enumerate(PAIRS):
        job_id = job_of(settings, ids[f"t{i}"])
        version = workflow.get_job(job_id, settings=settings).version
        for step in PATHS[start]:
            version = workflow.transition_job(
                job_id,
                step,
                expected_version=version,
                actor="dispatch:test",
                note="setup",
                settings=settings,
            ).version
        jobs[(start, target)] = job_id
    return settings, jobs


@pytest.mark.parametrize(("start", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_or_refused_by_the_table(
    board: tuple[Settings, dict[tuple[S, S], int]], start: S, target: S
) -> None:
    settings, jobs = board
    job_id = jobs[(start, target)]
    job = workflow.get_job(job_id, settings=settings)
    assert job.status is start
    before = len(workflow.job_history(job_id, settings=settings))
    if target in TRANSITIONS[start]:
        after = workflow.transition_job(
            job_id,
            target,
            expected_version=job.version,
            actor="dispatch:ana",
            note="checked",
            settings=settings,
        )
        assert after.status is target
        assert after.version == job.version + 1
        assert (after.closed_at is None) == target.is_open
        history = workflow.job_history(job_id, settings=settings)
        job_events = [e for e in history[before:] if e.request_id is None]
        request_events = [e for e in history[before:] if e.request_id is not None]
        assert [(e.from_status, e.to_status, e.actor, e.note) for e in job_events] == [
            (start, target, "dispatch:ana", "checked")
        ]
        assert [e.to_status for e in request_events] == [target]  # the job's one request
    else:
        with pytest.raises(TransitionError, match=f"cannot go from {start.value}"):
            workflow.transition_job(
                job_id,
                target,
                expected_version=job.version,
                actor="dispatch:ana",
                note="x",
                settings=settings,
            )
        unchanged = workflow.get_job(job_id, settings=settings)
        assert (unchanged.status, unchanged.version) == (start, job.version)
        assert len(workflow.job_history(job_id, settings=settings)) == before


def test_closing_without_a_fix_needs_a_note(settings: Settings, add_requests) -> None:
    ids = add_requests(item("a"))
    job = workflow.get_job(job_of(settings, ids["a"]), settings=settings)
    assert needs_note(S.NEW, S.CLOSED_NO_ACTION)
    with pytest.raises(TransitionError, match="needs a note"):
        workflow.transition_job(
            job.id, S.CLOSED_NO_ACTION, expected_version=job.version, actor="d", settings=settings
        )
    done = workflow.transition_job(
        job.id,
        "closed_no_action",
        expected_version=job.version,
        actor="d",
        note="pothole already patched by utility",
        settings=settings,
    )
    assert done.status is S.CLOSED_NO_ACTION


def test_a_stale_version_is_refused_and_changes_nothing(settings: Settings, add_requests) -> None:
    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    v1 = workflow.get_job(job_id, settings=settings).version
    workflow.transition_job(job_id, S.REVIEWED, expected_version=v1, actor="ana", settings=settings)
    with pytest.raises(
        StaleVersionError, match=f"you had version {v1}, it is now version {v1 + 1}"
    ):
        workflow.transition_job(
            job_id,
            S.CLOSED_NO_ACTION,
            expected_version=v1,
            actor="bob",
            note="dup?",
            settings=settings,
        )
    job = workflow.get_job(job_id, settings=settings)
    assert (job.status, job.version) == (S.REVIEWED, v1 + 1)
    kinds = [(e.kind, e.to_status) for e in workflow.job_history(job_id, settings=settings)]
    assert (EventKind.STATUS, S.CLOSED_NO_ACTION) not in kinds


def test_unknown_status_is_an_input_error_listing_the_valid_ones(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    with pytest.raises(ValueError, match=r"unknown status 'done'.*reviewed"):
        workflow.transition_job(job_id, "done", expected_version=1, actor="a", settings=settings)


def test_request_of_a_multi_caller_job_cannot_be_moved_alone(
    settings: Settings, add_requests
) -> None:
    ids = add_requests(item("a"), item("b", lat=42.33005))
    assert job_of(settings, ids["a"]) == job_of(settings, ids["b"])
    with pytest.raises(TransitionError, match="one of 2 reports in job"):
        workflow.transition_request(
            ids["a"],
            S.CLOSED_NOT_CITY,
            expected_version=2,
            actor="d",
            note="state road",
            settings=settings,
        )


def test_single_request_moves_with_its_job(settings: Settings, add_requests) -> None:
    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    history = workflow.request_history(ids["a"], settings=settings)
    version = 2  # imported at 1, linked to its job at 2
    view = workflow.transition_request(
        ids["a"],
        S.CLOSED_NOT_CITY,
        expected_version=version,
        actor="d",
        note="state highway",
        settings=settings,
    )
    assert (view.status, view.version, view.job_id) == (S.CLOSED_NOT_CITY, version + 1, job_id)
    assert workflow.get_job(job_id, settings=settings).status is S.CLOSED_NOT_CITY
    assert len(workflow.request_history(ids["a"], settings=settings)) > len(history)


def test_the_audit_trail_cannot_be_edited_or_deleted(settings: Settings, add_requests) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DatabaseError

    from geodispatch.storage.db import session_scope
    from geodispatch.storage.tables import StatusEventRow

    ids = add_requests(item("a"))
    job_id = job_of(settings, ids["a"])
    workflow.transition_job(job_id, S.REVIEWED, expected_version=1, actor="ana", settings=settings)
    for statement in (
        update(StatusEventRow).values(actor="someone else"),
        delete(StatusEventRow),
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            session_scope(settings.database_url) as session,
        ):
            session.execute(statement)
    assert [e.actor for e in workflow.job_history(job_id, settings=settings)][-1] == "ana"


def test_migration_0005_matches_the_tables_and_downgrades_cleanly(tmp_path: Path) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from geodispatch.storage import db
    from geodispatch.storage.tables import Base

    url = f"sqlite:///{(tmp_path / 'm.db').as_posix()}"
    db.upgrade(url)
    cfg = db.alembic_config(url)
    with db.get_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")
    db.upgrade(url)
    with db.get_engine(url).connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_database_made_before_the_workflow_schema_gets_a_clear_error(tmp_path: Path) -> None:
    from sqlalchemy import text

    from geodispatch.domain.errors import ConfigError
    from geodispatch.storage import db

    settings = make_settings(tmp_path)
    db.upgrade(settings.database_url)
    with db.get_engine(settings.database_url).begin() as connection:
        connection.execute(text("DROP TABLE crew_logins"))  # as if 0005 had been empty
    with pytest.raises(ConfigError, match=r"lacks crew_logins.*Recreate it"):
        workflow.list_open_jobs(settings=settings)
