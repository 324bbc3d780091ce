"""Engine, sessions and schema migrations.

SQLite is the default (a file, WAL journal so readers never block the writer); any
SQLAlchemy URL works, PostgreSQL included. The schema is created only by Alembic.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from geodispatch.domain.errors import ConfigError

__all__ = [
    "Session",
    "current_revision",
    "ensure_schema",
    "get_engine",
    "head_revision",
    "is_up_to_date",
    "session_scope",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-131072")  # 128 MB: bulk imports keep indexes in memory
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


@functools.cache
def get_engine(url: str) -> Engine:
    """One engine per URL for the process; SQLite files get WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """Alembic configuration for the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


#: Alembic keeps its running migration context in module globals (``alembic.context``,
#: ``alembic.op``), so two threads migrating at once trip over each other (KeyError
#: 'config'/'script'). Every migration in this process takes this lock.
_MIGRATION_LOCK = threading.RLock()
_READY: set[tuple[str, tuple[int, int] | None]] = set()
#: Arbitrary key of the PostgreSQL advisory lock that serialises migrating processes.
_PG_MIGRATION_LOCK = 0x6765_6F64_6D69_6772 % (2**63)


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (default: the latest schema).

    Safe to call from several threads (they take turns) and, on PostgreSQL, from several
    processes (an advisory lock makes the second wait and then find nothing to do).
    Services call :func:`ensure_schema` instead, which migrates once per process.
    """
    cfg = alembic_config(url)
    with _MIGRATION_LOCK, get_engine(url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def _file_identity(url: str) -> tuple[int, int] | None:
    """(device, inode) of a SQLite file, so a deleted and recreated file is migrated again."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    try:
        stat = os.stat(str(parsed.database))
    except FileNotFoundError:
        return (-1, -1)  # never cached as ready: the next call creates and migrates it
    return (stat.st_dev, stat.st_ino)


def ensure_schema(url: str) -> str:
    """Migrate the database at ``url`` to the newest schema once per process; returns ``url``.

    Every service calls this before its first session. The first call per URL runs the
    migrations (threads wait for it behind one lock) and checks that every table and
    column declared in :mod:`geodispatch.storage.tables` is really there; later calls cost
    a set lookup (and a ``stat`` of a SQLite file).

    Raises
    ------
    ConfigError
        The database says its schema is current but lacks tables or columns: it was created
        while a reserved migration slot was still empty, or with an earlier draft of it.
    """
    key = (url, _file_identity(url))
    if key in _READY:
        return url
    with _MIGRATION_LOCK:
        key = (url, _file_identity(url))
        if key in _READY:
            return url
        upgrade(url)
        missing = missing_schema(url)
        if missing:
            slots = sorted({_slot_of(item) for item in missing})
            which = (
                f"migration {slots[0]} was still an empty slot"
                if len(slots) == 1
                else f"migrations {', '.join(slots)} were still empty slots"
            )
            raise ConfigError(
                f"the database {display_url(url)} says its schema is current but lacks "
                f"{', '.join(missing)}: it was created while {which} (or with an earlier "
                "draft of it). Recreate it (delete the file and run 'geodispatch demo' or "
                "import again)."
            )
        _READY.add((url, _file_identity(url)))
    return url


def missing_schema(url: str) -> list[str]:
    """Declared tables (``name``) and columns (``table.column``) the database lacks."""
    from geodispatch.storage.tables import Base

    inspector = inspect(get_engine(url))
    have = set(inspector.get_table_names())
    missing: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in have:
            missing.append(table.name)
            continue
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in columns]
    return missing


def _slot_of(item: str) -> str:
    """The migration that first creates a table or column (for the 'recreate it' message)."""
    names = [f'"{part}"' for part in item.split(".")]
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if all(n in source for n in names) or re.search(rf"\b{re.escape(item)}\b", source):
            return path.name[:4]
    return "?"


def current_revision(url: str) -> str | None:
    """The schema revision the database is at, or None if it was never migrated."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest schema revision this version of geodispatch ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def display_url(url: str) -> str:
    """The URL without its password, for messages and screens."""
    return make_url(url).render_as_string(hide_password=True)


def is_up_to_date(url: str) -> bool:
    """True when the database schema is at the newest shipped revision."""
    return current_revision(url) == head_revision()
