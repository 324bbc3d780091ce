"""Database administration actions."""

from __future__ import annotations

from dataclasses import dataclass

from geodispatch.config import Settings, get_settings
from geodispatch.storage import db


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    """Where the database is and which schema revision it has."""

    url_display: str
    revision: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        """True when no migration is pending."""
        return self.revision == self.head


def upgrade_database(settings: Settings | None = None) -> DatabaseStatus:
    """Create or migrate the schema to the newest revision."""
    settings = settings or get_settings()
    db.upgrade(settings.database_url)
    return database_status(settings)


def database_status(settings: Settings | None = None) -> DatabaseStatus:
    """The database's current and newest schema revisions."""
    settings = settings or get_settings()
    url = settings.database_url
    return DatabaseStatus(db.display_url(url), db.current_revision(url), db.head_revision())
