"""Resident mail (issue 25): queue notices with the change they report, send them by SMTP.

Status changes and public notes are recorded through :func:`record_events`, which writes
the audit events and the outbox rows in the caller's transaction: a change is never made
without its mail owed, nor a mail owed for a change rolled back. :func:`send_due` claims
each row before sending and marks it sent after, so an SMTP outage only delays mail and two
workers never send the same row. Outbox timing uses real UTC time, never a pinned clock.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError
from geodispatch.domain.notices import Contact, Mail, Notice, NoticeKind, compose
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.workflow import EventKind
from geodispatch.storage import notify_repo
from geodispatch.storage import workflow_repo as repo
from geodispatch.storage.db import Session, ensure_schema, session_scope

#: A claimed row is another worker's to retry only after this long (a crashed sender).
CLAIM = timedelta(minutes=5)
#: Waits between failed attempts: 1, 2, 4 ... minutes, at most an hour.
FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def notices_for(session: Session, events: Sequence[Mapping[str, Any]]) -> list[Notice]:
    """The mails residents are owed for these audit events (within a session).

    A request's status event tells its resident the new step; a job's public note tells
    every resident whose request the job carries. Other events (attachments, crew
    arrivals without a new status, internal notes) send nothing.
    """
    notices: list[Notice] = []
    for e in events:
        kind = EventKind(e["kind"])
        if kind is EventKind.PUBLIC and e.get("job_id") is not None:
            for rid in repo.job_request_ids(session, int(e["job_id"])):
                notices.append(Notice(rid, NoticeKind.NOTE, note=str(e.get("note", ""))))
        elif e.get("request_id") is not None and e.get("to_status") is not None:
            to = RequestStatus(e["to_status"])
            if e.get("from_status") is not None and RequestStatus(e["from_status"]) is to:
                continue
            if kind is EventKind.ATTACH:
                continue
            notices.append(Notice(int(e["request_id"]), NoticeKind.STATUS, status=to))
    wanted = notify_repo.subscribed(session, (n.request_id for n in notices))
    return [n for n in notices if n.request_id in wanted]


def record_events(session: Session, events: Sequence[Mapping[str, Any]]) -> None:
    """Within a transaction: write audit events and the mails they owe residents."""
    repo.add_events(session, [dict(e) for e in events])
    notices = notices_for(session, events)
    if notices:
        notify_repo.queue(session, notices, now=_utcnow())


def keep_contact(session: Session, request_id: int, contact: Contact, *, now: datetime) -> None:
    """Within a transaction: keep a resident's checked contact for their request."""
    if contact.given:
        notify_repo.add_contact(
            session,
            request_id,
            name=contact.name,
            email=contact.email,
            phone=contact.phone,
            token=secrets.token_urlsafe(24),
            now=now,
        )


def mail_enabled(settings: Settings) -> bool:
    """True when SMTP is set up (host and sender)."""
    return bool(settings.smtp_host.strip() and settings.smtp_sender.strip())


def track_url(settings: Settings, ref: int | str) -> str:
    """The public page following one request (``ref``: its number or tracking token)."""
    return f"{settings.public_app_url.rstrip('/')}/track?request={ref}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """The link turning a request's mail off."""
    return f"{settings.public_base_url.rstrip('/')}/unsubscribe/{token}"


Sender = Callable[[EmailMessage], None]


def smtp_sender(settings: Settings) -> Sender:
    """Send one message through the configured SMTP server (a new connection per call)."""
    mode = settings.smtp_tls.strip().lower()
    if mode not in {"starttls", "ssl", "none"}:
        raise InputError(f"smtp_tls {settings.smtp_tls!r}: use starttls, ssl or none")

    def send(message: EmailMessage) -> None:
        context = ssl.create_default_context()
        if mode == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=30, context=context
            )
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30)
        with client:
            if mode == "starttls":
                client.starttls(context=context)
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            client.send_message(message)

    return send


def _message(mail: Mail, *, sender: str, outbox_id: int, unsubscribe: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    domain = sender.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(idstring=f"outbox-{outbox_id}", domain=domain)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.body)
    return message


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one pass over the outbox did."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0
    error: str = ""  # the last failure, for the operator

    def describe(self) -> str:
        """One line for the worker's log."""
        line = f"sent {self.sent}, failed {self.failed} (kept for retry), dropped {self.dropped}"
        return line + (f"; last error: {self.error}" if self.error else "")


def send_due(
    *,
    settings: Settings | None = None,
    send: Sender | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> SendReport:
    """Send every mail that is due; failures stay queued with a growing wait.

    Raises
    ------
    InputError
        Mail is off (no SMTP host or sender set) and no ``send`` was given.
    """
    settings = settings or get_settings()
    if send is None:
        if not mail_enabled(settings):
            raise InputError(
                "resident mail is off: set GEODISPATCH_SMTP_HOST and GEODISPATCH_SMTP_SENDER"
            )
        send = smtp_sender(settings)
    url = ensure_schema(settings.database_url)
    at = now or _utcnow()
    max_age = timedelta(hours=settings.notify_max_age_hours)
    sent = failed = dropped = 0
    error = ""
    with session_scope(url) as session:
        ids = notify_repo.due_ids(session, now=at, limit=limit)
    for outbox_id in ids:
        with session_scope(url) as session:  # the claim commits before anything is sent
            pending = notify_repo.claim(session, outbox_id, now=at, until=at + CLAIM)
        if pending is None:
            continue
        reason = _drop_reason(pending, at, max_age)
        if reason:
            with session_scope(url) as session:
                notify_repo.mark_dropped(session, outbox_id, reason=reason)
            dropped += 1
            continue
        assert pending.email is not None  # checked by _drop_reason
        unsubscribe = unsubscribe_url(settings, pending.token)
        mail = compose(
            pending.notice,
            to=pending.email,
            service_name=pending.service_name,
            track_url=track_url(settings, pending.notice.request_id),
            unsubscribe_url=unsubscribe,
        )
        message = _message(
            mail, sender=settings.smtp_sender, outbox_id=outbox_id, unsubscribe=unsubscribe
        )
        try:
            send(message)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            wait = min(FIRST_RETRY * 2**pending.attempts, LAST_RETRY)
            with session_scope(url) as session:
                notify_repo.mark_failed(session, outbox_id, error=error, retry_at=at + wait)
            failed += 1
            continue
        with session_scope(url) as session:
            notify_repo.mark_sent(session, outbox_id, now=_utcnow())
        sent += 1
    return SendReport(sent=sent, failed=failed, dropped=dropped, error=error)


def _drop_reason(pending: notify_repo.Pending, at: datetime, max_age: timedelta) -> str:
    if not pending.email:
        return "no address"
    if not pending.notify:
        return "unsubscribed"
    if at - pending.created_at > max_age:
        return "too old"
    return ""


def run(
    *,
    settings: Settings | None = None,
    once: bool = False,
    poll_seconds: float = 30.0,
    log: Callable[[str], None] = print,
) -> SendReport:
    """The mail worker: send what is due, then (unless ``once``) wait and repeat."""
    settings = settings or get_settings()
    while True:
        report = send_due(settings=settings)
        if report.sent or report.failed or report.dropped:
            log(report.describe())
        if once:
            return report
        time.sleep(poll_seconds)


def unsubscribe(token: str, *, settings: Settings | None = None) -> int | None:
    """Stop mail for the request holding ``token``; its id, or None for an unknown token."""
    settings = settings or get_settings()
    token = token.strip()
    if not token or len(token) > 64:
        return None
    with session_scope(ensure_schema(settings.database_url)) as session:
        return notify_repo.unsubscribe(session, token)
