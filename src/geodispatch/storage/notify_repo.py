"""Residents' contacts and the mail outbox (issue 25): rows in, rows out, no rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from geodispatch.domain.notices import Notice, NoticeKind
from geodispatch.domain.requests import RequestStatus
from geodispatch.storage.tables import OutboxRow, RequestContactRow, RequestRow


def add_contact(
    session: Session,
    request_id: int,
    *,
    name: str,
    email: str | None,
    phone: str,
    token: str,
    now: datetime,
) -> None:
    """Keep a resident's contact for one request."""
    session.add(
        RequestContactRow(
            request_id=request_id,
            name=name,
            email=email,
            phone=phone,
            notify=email is not None,
            unsubscribe_token=token,
            created_at=now,
        )
    )


def subscribed(session: Session, request_ids: Iterable[int]) -> set[int]:
    """Those of ``request_ids`` whose resident left an email and still wants mail."""
    ids = sorted(set(request_ids))
    if not ids:
        return set()
    rows = session.scalars(
        select(RequestContactRow.request_id).where(
            RequestContactRow.request_id.in_(ids),
            RequestContactRow.notify.is_(True),
            RequestContactRow.email.is_not(None),
        )
    )
    return set(rows)


def queue(session: Session, notices: Sequence[Notice], *, now: datetime) -> None:
    """Add mails owed (in the caller's transaction)."""
    session.add_all(
        OutboxRow(
            request_id=n.request_id,
            kind=n.kind.value,
            status=n.status.value if n.status else "",
            note=n.note,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
            last_error="",
            dropped="",
        )
        for n in notices
    )


@dataclass(frozen=True, slots=True)
class Pending:
    """A claimed outbox row with what the mail needs."""

    id: int
    notice: Notice
    created_at: datetime
    attempts: int
    email: str | None
    notify: bool
    token: str
    service_name: str


def due_ids(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Unsent, undropped rows whose next attempt is due and no worker holds."""
    stmt = (
        select(OutboxRow.id)
        .where(
            OutboxRow.sent_at.is_(None),
            OutboxRow.dropped == "",
            OutboxRow.next_attempt_at <= now,
            or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
        )
        .order_by(OutboxRow.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def claim(session: Session, outbox_id: int, *, now: datetime, until: datetime) -> Pending | None:
    """Hold one row for sending until ``until``; None if it was sent, dropped or held."""
    taken = session.execute(
        update(OutboxRow)
        .where(
            OutboxRow.id == outbox_id,
            OutboxRow.sent_at.is_(None),
            OutboxRow.dropped == "",
            or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until < now),
        )
        .values(claimed_until=until)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.execute(
        select(OutboxRow, RequestContactRow, RequestRow.service_name)
        .join(RequestRow, RequestRow.id == OutboxRow.request_id)
        .outerjoin(RequestContactRow, RequestContactRow.request_id == OutboxRow.request_id)
        .where(OutboxRow.id == outbox_id)
    ).one()
    box, contact, service_name = row
    return Pending(
        id=box.id,
        notice=Notice(
            request_id=box.request_id,
            kind=NoticeKind(box.kind),
            status=RequestStatus(box.status) if box.status else None,
            note=box.note,
        ),
        created_at=box.created_at,
        attempts=box.attempts,
        email=contact.email if contact else None,
        notify=bool(contact and contact.notify),
        token=contact.unsubscribe_token if contact else "",
        service_name=str(service_name),
    )


def mark_sent(session: Session, outbox_id: int, *, now: datetime) -> None:
    """The mail left: never send it again."""
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == outbox_id)
        .values(sent_at=now, claimed_until=None, attempts=OutboxRow.attempts + 1, last_error="")
    )


def mark_failed(session: Session, outbox_id: int, *, error: str, retry_at: datetime) -> None:
    """Sending failed: keep the row and try again at ``retry_at``."""
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == outbox_id)
        .values(
            claimed_until=None,
            attempts=OutboxRow.attempts + 1,
            last_error=error[:2000],
            next_attempt_at=retry_at,
        )
    )


def mark_dropped(session: Session, outbox_id: int, *, reason: str) -> None:
    """Not to be sent (unsubscribed, no address, too old); kept as a record."""
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == outbox_id)
        .values(claimed_until=None, dropped=reason[:40])
    )


def unsubscribe(session: Session, token: str) -> int | None:
    """Turn mail off for the request holding ``token``; its id, or None for no such token."""
    request_id = session.scalar(
        select(RequestContactRow.request_id).where(RequestContactRow.unsubscribe_token == token)
    )
    if request_id is not None:
        session.execute(
            update(RequestContactRow)
            .where(RequestContactRow.request_id == request_id)
            .values(notify=False)
        )
    return request_id
