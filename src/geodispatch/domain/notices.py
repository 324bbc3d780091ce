"""What a resident is told by mail when their report moves (issue 25).

A notice is a fact (a status step or a public note on one request); the words are
composed when the mail is sent, from the request's public type and the links of the
installation. Plain text only: nothing a resident typed is ever rendered as HTML here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus


class NoticeKind(StrEnum):
    """Why a resident is mailed."""

    STATUS = "status"  # the request reached a new status step
    NOTE = "note"  # the city wrote a public note on the request's job


#: What each status means for the person who reported it, in whole sentences.
STATUS_WORDS: Final = {
    RequestStatus.NEW: "We have received your report.",
    RequestStatus.REVIEWED: "Your report has been reviewed and is waiting for a crew.",
    RequestStatus.ASSIGNED: "Work is assigned: a crew has your report on its schedule.",
    RequestStatus.IN_PROGRESS: "A crew is working on it now.",
    RequestStatus.COMPLETED: "The work is completed.",
    RequestStatus.CLOSED_DUPLICATE: (
        "Closed as a duplicate: another report of the same problem is being handled, and "
        "the work there covers yours."
    ),
    RequestStatus.CLOSED_NO_ACTION: (
        "Closed without work: the city looked and found nothing it needed to do."
    ),
    RequestStatus.CLOSED_NOT_CITY: (
        "Closed without work by the city: this is not the city's to fix; it was passed on "
        "where possible."
    ),
}

#: Longest email address accepted (RFC 5321 path limit).
MAX_EMAIL: Final = 254
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


def clean_email(value: str, *, what: str = "email") -> str | None:
    """A plausible email address, trimmed; None when empty; InputError naming the fix."""
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.match(text):
        raise InputError(
            f"{what} {text[:60]!r} is not an email address; write it like name@example.org, "
            "or leave it empty"
        )
    return text


@dataclass(frozen=True, slots=True)
class Contact:
    """A resident's optional, private contact for one report."""

    name: str = ""
    email: str | None = None
    phone: str = ""

    @property
    def given(self) -> bool:
        """True when the resident left anything."""
        return bool(self.name or self.email or self.phone)


def clean_contact(name: str = "", email: str = "", phone: str = "") -> Contact:
    """A resident's contact, trimmed and checked; InputError naming the field and the fix."""
    name, phone = name.strip(), phone.strip()
    if len(name) > 200:
        raise InputError(f"name is {len(name):,} characters; at most 200")
    if len(phone) > 40 or any(c not in "0123456789+-() ." for c in phone):
        raise InputError(
            f"phone {phone[:40]!r}: use digits, spaces and + - ( ) only, at most 40 characters"
        )
    return Contact(name=name, email=clean_email(email), phone=phone)


@dataclass(frozen=True, slots=True)
class Notice:
    """One mail owed: a status step or a public note on one request."""

    request_id: int
    kind: NoticeKind
    status: RequestStatus | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Mail:
    """The words of a notice, ready for any mail transport."""

    to: str
    subject: str
    body: str


def compose(
    notice: Notice, *, to: str, service_name: str, track_url: str, unsubscribe_url: str
) -> Mail:
    """The plain-text mail telling a resident about ``notice``."""
    ref = f"Your report #{notice.request_id} ({service_name})"
    if notice.kind is NoticeKind.NOTE:
        subject = f"{ref}: a message from the city"
        lead = f"The city wrote about your report:\n\n    {notice.note}"
    else:
        status = notice.status or RequestStatus.NEW
        subject = f"{ref}: {status.label}"
        lead = STATUS_WORDS[status]
    body = (
        f"Hello,\n\n{lead}\n\n"
        f"Follow your report: {track_url}\n\n"
        "You receive this because you left this address when you reported the problem.\n"
        f"Stop mail about this report: {unsubscribe_url}\n"
    )
    return Mail(to=to, subject=subject, body=body)
