"""Shared fixtures: settings pointing at a fresh SQLite file, the bundled Boston data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from geodispatch.config import Settings, get_settings

#: The app's background warm-up (geodispatch.ui.warm_up) stays off in tests, browser
#: servers included: each test's pages compute their own figures, no thread races a test.
os.environ["GEODISPATCH_WARM_UP"] = "false"

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
BOSTON_2011 = DATA / "boston" / "311_service_requests_2011.csv.gz"
BOSTON_2025 = DATA / "boston" / "311_open_backlog_2025_subset.csv"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh database in this test's temporary folder."""
    return Settings(home=tmp_path / "home", data_dir=DATA)


@pytest.fixture
def env_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The same settings exported as environment variables, for the CLI and the app."""
    monkeypatch.setenv("GEODISPATCH_HOME", str(settings.home))
    monkeypatch.setenv("GEODISPATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("GEODISPATCH_DB_URL", raising=False)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module, dropped afterwards.

    Needs ``GEODISPATCH_TEST_PG_URL`` (a database the role may connect to, and the role
    may create databases); ``.ci/run`` starts the machine's PostgreSQL and sets it. Without
    it the PostgreSQL tests are skipped.
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("GEODISPATCH_TEST_PG_URL")
    if not base:
        pytest.skip("GEODISPATCH_TEST_PG_URL is not set (see .ci/run)")
    name = f"geodispatch_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        from geodispatch.storage.db import get_engine

        get_engine.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a small CSV with the csv module's quoting."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(autouse=True)
def _no_shipped_models(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests see an empty models folder (the rule-only product) unless they point at one.

    The shipped models/ would otherwise change Open311's expected_datetime and the Work &
    SLA page; tests of the models pass their folder explicitly.
    """
    monkeypatch.setenv("GEODISPATCH_MODELS_DIR", str(tmp_path_factory.mktemp("no-models")))
