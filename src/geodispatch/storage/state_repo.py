"""Installation-wide facts kept in ``app_state`` (key → text)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from geodispatch.storage.tables import AppStateRow

#: The day the demo pins the product's clock to (ISO date), set when the demo loads.
DEMO_DAY = "demo_day"


def get_value(session: Session, key: str) -> str | None:
    """The stored value of ``key``, or None."""
    row = session.get(AppStateRow, key)
    return None if row is None else row.value


def set_value(session: Session, key: str, value: str, *, now: datetime) -> None:
    """Store ``value`` under ``key`` (replacing any earlier value)."""
    row = session.get(AppStateRow, key)
    if row is None:
        session.add(AppStateRow(key=key, value=value, updated_at=now))
    else:
        row.value = value
        row.updated_at = now
