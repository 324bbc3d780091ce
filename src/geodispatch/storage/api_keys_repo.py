"""Open311 API keys: store, list, revoke, and find a key by the hash of its secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from geodispatch.domain.api_keys import ApiKey
from geodispatch.storage.tables import ApiKeyRow


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        row.id,
        row.name,
        row.contact,
        row.prefix,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )


def add_key(
    session: Session, *, name: str, contact: str, prefix: str, key_hash: str, now: datetime
) -> ApiKey:
    """Store a new key (its hash only); returns it."""
    row = ApiKeyRow(name=name, contact=contact, prefix=prefix, key_hash=key_hash, created_at=now)
    session.add(row)
    session.flush()
    return _key(row)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest first (revoked ones too: they are the record of who had access)."""
    rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id.desc())).all()
    return [_key(r) for r in rows]


def revoke_key(session: Session, key_id: int, *, now: datetime) -> ApiKey | None:
    """Revoke a key (kept as a record); None when there is no such key."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return _key(row)


def use_key(session: Session, key_hash: str, *, now: datetime) -> ApiKey | None:
    """The active key with this hash, its last use set to ``now``; None if none matches."""
    row = session.scalar(
        select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))
    )
    if row is None:
        return None
    session.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now))
    session.refresh(row)
    return _key(row)
