"""Resident mail through a real local SMTP server (aiosmtpd): once per change, never lost."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from geodispatch.api import create_app
from geodispatch.config import Settings
from geodispatch.domain.errors import InputError, StaleVersionError
from geodispatch.services import notify, open311, workflow
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import OutboxRow, RequestContactRow, RequestRow
from tests.workflow.workflow_helpers import item, job_of, make_settings, requests_adder


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, port: int) -> Settings:
    settings = make_settings(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_sender="311@city.example",
        public_base_url="https://311.city.example",
        public_app_url="https://report.city.example",
    )
    requests_adder(settings)(item("seed", lat=42.3500, lon=-71.0700))  # the type's catalogue
    return settings


@pytest.fixture
def server(port: int) -> Iterator[Inbox]:
    controller, inbox = start_server(port)
    yield inbox
    controller.stop()


def report(settings: Settings, address: str = "ana@example.org", **more: str) -> int:
    posted = open311.submit_request(
        "geodispatch-demo",
        open311.NewRequest(
            service_code="pothole", lat="42.33102", long="-71.06", email=address, **more
        ),
        settings=settings,
    )
    return int(posted[0]["service_request_id"])


def review(settings: Settings, request_id: int, **more: Any) -> None:
    job_id = job_of(settings, request_id)
    job = workflow.get_job(job_id, settings=settings)
    workflow.transition_job(
        job_id,
        "reviewed",
        expected_version=job.version,
        actor="dispatch:ana",
        settings=settings,
        **more,
    )


def outbox(settings: Settings) -> list[OutboxRow]:
    with session_scope(settings.database_url) as session:
        rows = list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()
    return rows


def test_a_status_change_sends_exactly_one_mail(settings: Settings, server: Inbox) -> None:
    rid = report(settings)
    review(settings, rid)
    first = notify.send_due(settings=settings)
    again = notify.send_due(settings=settings, now=notify._utcnow() + timedelta(hours=2))
    assert (first.sent, again.sent) == (1, 0)
    [mail] = server.messages
    assert mail["To"] == "ana@example.org"
    assert mail["From"] == "311@city.example"
    assert mail["Subject"] == f"Your report #{rid} (Pothole Repair): Reviewed"
    body = mail.get_content()
    assert "has been reviewed" in body
    assert f"https://report.city.example/track?request={rid}" in body
    with session_scope(settings.database_url) as session:
        token = session.scalar(select(RequestContactRow.unsubscribe_token))
    assert f"https://311.city.example/unsubscribe/{token}" in body
    assert mail["List-Unsubscribe"].strip() == f"<https://311.city.example/unsubscribe/{token}>"


def test_with_the_server_down_the_outbox_keeps_the_mail_and_sends_it_once_later(
    settings: Settings, port: int
) -> None:
    rid = report(settings)
    review(settings, rid)
    down = notify.send_due(settings=settings)
    assert (down.sent, down.failed) == (0, 1)
    assert "ConnectionRefusedError" in down.error
    [row] = outbox(settings)
    assert (row.sent_at, row.attempts) == (None, 1)
    assert notify.send_due(settings=settings).failed == 0  # waits before the retry

    controller, inbox = start_server(port)
    try:
        later = notify._utcnow() + timedelta(minutes=2)
        back = notify.send_due(settings=settings, now=later)
        assert back.sent == 1
        assert notify.send_due(settings=settings, now=later + timedelta(hours=1)).sent == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    [row] = outbox(settings)
    assert row.sent_at is not None


def test_a_public_note_mails_every_caller_of_the_job_who_left_an_address(
    settings: Settings, server: Inbox
) -> None:
    first = report(settings, "ana@example.org")
    second = report(settings, "bo@example.org")
    silent = report(settings, "")
    assert len({job_of(settings, r) for r in (first, second, silent)}) == 1
    workflow.add_public_note(
        job_of(settings, first),
        "Passed to MassDOT, who maintain this road",
        actor="dispatch:ana",
        settings=settings,
    )
    assert notify.send_due(settings=settings).sent == 2
    assert sorted(m["To"] for m in server.messages) == ["ana@example.org", "bo@example.org"]
    body = server.messages[0].get_content()
    assert "Passed to MassDOT" in body


def test_an_internal_note_alone_sends_nothing_and_a_change_rolled_back_owes_no_mail(
    settings: Settings, server: Inbox
) -> None:
    rid = report(settings)
    job = workflow.get_job(job_of(settings, rid), settings=settings)
    with pytest.raises(StaleVersionError):
        workflow.transition_job(
            job.id,
            "reviewed",
            expected_version=job.version + 5,
            actor="dispatch:ana",
            settings=settings,
        )
    assert outbox(settings) == []
    assert notify.send_due(settings=settings).sent == 0
    assert server.messages == []


def test_unsubscribe_link_stops_the_mail_and_a_get_changes_nothing(
    settings: Settings, server: Inbox
) -> None:
    rid = report(settings)
    with session_scope(settings.database_url) as session:
        token = session.scalar(select(RequestContactRow.unsubscribe_token))
    client = TestClient(create_app(settings))
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Stop these mails" in page.text
    review(settings, rid)  # a GET (a mail scanner) did not unsubscribe
    assert notify.send_due(settings=settings).sent == 1
    done = client.post(f"/unsubscribe/{token}")
    assert done.status_code == 200
    assert f"report #{rid}" in done.text
    assert client.post("/unsubscribe/not-a-real-token-at-all").status_code == 404
    job = workflow.get_job(job_of(settings, rid), settings=settings)
    workflow.transition_job(
        job.id, "assigned", expected_version=job.version, actor="dispatch:ana", settings=settings
    )
    assert notify.send_due(settings=settings).sent == 0
    assert len(server.messages) == 1


def test_bad_contact_is_refused_before_anything_is_stored(settings: Settings) -> None:
    for bad in ({"address": "not an address"}, {"address": "a@b.org", "phone": "call me"}):
        with pytest.raises(InputError, match=r"email|phone"):
            report(settings, **bad)
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(RequestRow.source_id)).all() == ["seed"]


def test_mail_is_off_until_smtp_is_set(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="GEODISPATCH_SMTP_HOST"):
        notify.send_due(settings=make_settings(tmp_path))
