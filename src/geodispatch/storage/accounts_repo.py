"""Staff accounts and sign-in sessions: rows in, typed records out (issue 18).

Only storage: the rules (who may do what, throttling, expiry) live in the accounts
service and ``domain.accounts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, literal, select, update
from sqlalchemy.orm import Session

from geodispatch.storage.tables import UserRow, UserSessionRow
from geodispatch.storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One stored account, as the service reads it."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    wards: tuple[int, ...]
    password_hash: str
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    failed_attempts: int
    locked_until: datetime | None


def _wards_text(wards: tuple[int, ...]) -> str:
    return ";".join(str(w) for w in wards)


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        email=row.email,
        role=row.role,
        wards=tuple(int(w) for w in row.wards.split(";") if w),
        password_hash=row.password_hash,
        disabled=row.disabled,
        created_at=row.created_at,
        last_sign_in_at=row.last_sign_in_at,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
    )


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    email: str | None,
    role: str,
    wards: tuple[int, ...],
    password_hash: str,
    now: datetime,
) -> UserRecord:
    """Store a new account (the caller checked the username is free)."""
    row = UserRow(
        username=username,
        display_name=display_name,
        email=email,
        role=role,
        wards=_wards_text(wards),
        password_hash=password_hash,
        disabled=False,
        created_at=now,
        failed_attempts=0,
    )
    session.add(row)
    session.flush()
    return _record(row)


def get_user(session: Session, username: str) -> UserRecord | None:
    """The account with this username, if any."""
    row = session.scalars(select(UserRow).where(UserRow.username == username)).first()
    return None if row is None else _record(row)


def user_by_email(session: Session, email: str) -> UserRecord | None:
    """The account whose e-mail is ``email`` (compared lower-case), if any."""
    row = session.scalars(select(UserRow).where(func.lower(UserRow.email) == email)).first()
    return None if row is None else _record(row)


def list_users(session: Session) -> list[UserRecord]:
    """Every account, by username."""
    return [_record(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def count_users(session: Session) -> int:
    """How many accounts exist."""
    return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)


def update_user(session: Session, user_id: int, **values: object) -> None:
    """Change stored fields of an account (``wards`` given as a tuple of ints)."""
    if "wards" in values:
        values["wards"] = _wards_text(tuple(values["wards"]))  # type: ignore[arg-type]
    session.execute(update(UserRow).where(UserRow.id == user_id).values(**values))


def count_sign_in_attempt(
    session: Session, user_id: int, *, now: datetime, throttle_after: int, pause: timedelta
) -> int:
    """Count a sign-in attempt before its password is checked, in one atomic UPDATE.

    Returns the attempt's number in the current run (1 after a good sign-in or once a
    pause has ended). The attempt that reaches ``throttle_after`` starts a pause; parallel
    attempts each get their own number, so at most ``throttle_after`` passwords are
    checked per pause. A good sign-in clears it (:func:`record_good_sign_in`).
    """
    row = UserRow
    expired = and_(row.locked_until.is_not(None), row.locked_until <= now)
    paused = and_(row.locked_until.is_not(None), row.locked_until > now)
    number = case((expired, 1), else_=row.failed_attempts + 1)
    return int(
        session.execute(
            update(row)
            .where(row.id == user_id)
            .values(
                failed_attempts=number,
                locked_until=case(
                    (paused, row.locked_until),
                    (number >= throttle_after, literal(now + pause, UTCDateTime())),
                    else_=None,
                ),
            )
            .returning(row.failed_attempts)
        ).scalar_one()
    )


def record_good_sign_in(session: Session, user_id: int, *, at: datetime) -> None:
    """A right password: the run of failures and any pause end."""
    session.execute(
        update(UserRow)
        .where(UserRow.id == user_id)
        .values(failed_attempts=0, locked_until=None, last_sign_in_at=at)
    )


def add_session(
    session: Session, user_id: int, token_hash: str, *, now: datetime, expires: datetime
) -> None:
    """Remember a sign-in (by its token's hash only)."""
    session.add(
        UserSessionRow(user_id=user_id, token_hash=token_hash, created_at=now, expires_at=expires)
    )
    session.flush()


def user_for_session(session: Session, token_hash: str, *, now: datetime) -> UserRecord | None:
    """The enabled account of a live sign-in; None when unknown, expired or revoked."""
    row = session.scalars(
        select(UserRow)
        .join(UserSessionRow, UserSessionRow.user_id == UserRow.id)
        .where(
            UserSessionRow.token_hash == token_hash,
            UserSessionRow.expires_at > now,
            UserSessionRow.revoked_at.is_(None),
            UserRow.disabled.is_(False),
        )
    ).first()
    return None if row is None else _record(row)


def revoke_session(session: Session, token_hash: str, *, now: datetime) -> None:
    """Mark one sign-in revoked (no effect when unknown or already revoked)."""
    session.execute(
        update(UserSessionRow)
        .where(UserSessionRow.token_hash == token_hash, UserSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_user_sessions(session: Session, user_id: int, *, now: datetime) -> int:
    """Revoke every live sign-in of an account (disabled, new role, new password)."""
    result = session.execute(
        update(UserSessionRow)
        .where(UserSessionRow.user_id == user_id, UserSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
