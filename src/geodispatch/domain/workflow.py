"""The status workflow: which changes are allowed, and the audit record each change leaves.

Calgary's three steps (Reviewed → Work assigned → Completed) plus the outcomes that close a
request without a fix. Every path a dispatcher or crew can take is listed in
:data:`TRANSITIONS`; anything else is refused with a :class:`TransitionError` that says what
is allowed instead. "Unable to complete" sends the work back to the queue (Reviewed), so a
request is never closed because a crew could not do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from geodispatch.domain.errors import InputError, TransitionError
from geodispatch.domain.requests import RequestStatus

S = RequestStatus

#: Closing outcomes that are not a fix; each needs a note saying why.
NOT_FIXED: Final = frozenset({S.CLOSED_DUPLICATE, S.CLOSED_NO_ACTION, S.CLOSED_NOT_CITY})
CLOSED_STATUSES: Final = frozenset({S.COMPLETED}) | NOT_FIXED

#: from-status -> the statuses it may move to.
TRANSITIONS: Final[dict[RequestStatus, frozenset[RequestStatus]]] = {
    S.NEW: frozenset({S.REVIEWED}) | NOT_FIXED,
    S.REVIEWED: frozenset({S.ASSIGNED}) | NOT_FIXED,
    # back to Reviewed = taken off a route / unable to complete: the job returns to the queue
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.REVIEWED}) | NOT_FIXED,
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.REVIEWED}) | NOT_FIXED,
    # reopening: a resident reports it is not fixed, or a closure was a mistake
    S.COMPLETED: frozenset({S.REVIEWED}),
    S.CLOSED_DUPLICATE: frozenset({S.REVIEWED}),
    S.CLOSED_NO_ACTION: frozenset({S.REVIEWED}),
    S.CLOSED_NOT_CITY: frozenset({S.REVIEWED}),
}

MAX_NOTE_CHARS: Final = 4000


class EventKind(StrEnum):
    """What an audit event records."""

    STATUS = "status"  # a workflow status change
    NOTE = "note"  # a note without a status change
    ARRIVE = "arrive"  # crew on site
    DONE = "done"  # crew finished the work
    UNABLE = "unable"  # crew could not complete it
    MERGE = "merge"  # requests or jobs merged as duplicates
    SPLIT = "split"  # requests taken out of a job
    ATTACH = "attach"  # a new request joined a job (repeat report)
    PUBLIC = "public"  # a note for residents, written by a dispatcher (shown on Open311)


#: What residents are told of each status. Notes written with a change (the crew's, the
#: dispatcher's) are internal: they may name people, addresses or phone numbers.
PUBLIC_STATUS_TEXT: Final[dict[RequestStatus, str]] = {
    S.NEW: "Received; it will be reviewed.",
    S.REVIEWED: "Reviewed; waiting for a crew.",
    S.ASSIGNED: "A crew has been assigned.",
    S.IN_PROGRESS: "A crew is on site.",
    S.COMPLETED: "The work is done.",
    S.CLOSED_DUPLICATE: "Closed as a repeat of another report of the same problem, which is "
    "being handled.",
    S.CLOSED_NO_ACTION: "Closed: no action was needed.",
    S.CLOSED_NOT_CITY: "Closed: this is not the city's responsibility.",
}
#: Crew and duplicate events residents are told of in their own words.
PUBLIC_EVENT_TEXT: Final[dict[EventKind, str]] = {
    EventKind.UNABLE: "The crew could not finish the work on this visit; it will be "
    "scheduled again.",
    EventKind.ATTACH: "Joined to an open job for the same problem reported earlier.",
}


#: Field events that prove work was done on site.
FIELD_COMPLETION: Final = EventKind.DONE


def public_text(kind: EventKind, to_status: RequestStatus | None, note: str) -> str | None:
    """What residents may read of an audit event; None for an internal-only event.

    A dispatcher's public note is shown as written; every other event is told in a neutral
    sentence of its kind or status, never with its internal note.
    """
    if kind is EventKind.PUBLIC:
        return note
    if kind in PUBLIC_EVENT_TEXT:
        return PUBLIC_EVENT_TEXT[kind]
    if to_status is not None:
        return PUBLIC_STATUS_TEXT[to_status]
    return None


def needs_note(from_status: RequestStatus, to_status: RequestStatus) -> bool:
    """True when a change must say why: closing without a fix, reopening, or going back."""
    if to_status in NOT_FIXED:
        return True
    if from_status in CLOSED_STATUSES:
        return True
    return from_status in {S.ASSIGNED, S.IN_PROGRESS} and to_status is S.REVIEWED


def check_transition(
    from_status: RequestStatus, to_status: RequestStatus, *, what: str, note: str = ""
) -> None:
    """Refuse a change the workflow does not allow, or one that lacks a required note.

    Parameters
    ----------
    from_status, to_status
        The current and the requested status.
    what
        The record, for the message (e.g. ``"job 12"``).
    note
        The note given with the change.

    Raises
    ------
    TransitionError
        ``to_status`` is not reachable from ``from_status``, or the change needs a note and
        none was given.
    """
    allowed = TRANSITIONS[from_status]
    if to_status not in allowed:
        options = ", ".join(sorted(f"{s.value} ({s.label})" for s in allowed))
        raise TransitionError(
            f"{what}: cannot go from {from_status.value} ({from_status.label}) to "
            f"{to_status.value} ({to_status.label}). From {from_status.label} it can go to: "
            f"{options}."
        )
    if needs_note(from_status, to_status) and not note.strip():
        raise TransitionError(
            f"{what}: going from {from_status.label} to {to_status.label} needs a note saying "
            "why (dispatchers and auditors read it; add a public note for residents); add one "
            "and try again."
        )


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """One append-only audit entry: who did what to which job or request, when and where."""

    id: int
    kind: EventKind
    at: datetime
    actor: str
    job_id: int | None = None
    request_id: int | None = None
    from_status: RequestStatus | None = None
    to_status: RequestStatus | None = None
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    photo_ref: str | None = None
    stop_id: int | None = None
    distance_m: float | None = None
    flags: str = ""

    def __post_init__(self) -> None:
        if self.job_id is None and self.request_id is None:
            raise InputError(f"audit event {self.id}: it names neither a job nor a request")
        if not self.actor.strip():
            raise InputError(f"audit event {self.id}: the actor is empty; say who acted")


def clean_note(note: str, *, what: str) -> str:
    """A note stripped and checked for length (internal notes: staff and auditors read them).

    Raises
    ------
    InputError
        The note is longer than :data:`MAX_NOTE_CHARS`.
    """
    text = note.strip()
    if len(text) > MAX_NOTE_CHARS:
        raise InputError(
            f"{what}: the note is {len(text):,} characters long; at most {MAX_NOTE_CHARS:,} "
            "are allowed. Shorten it."
        )
    return text


#: Our status -> (Open311 ``open``/``closed``, the mySociety-style extended status).
OPEN311_STATUS: Final[dict[RequestStatus, tuple[str, str]]] = {
    S.NEW: ("open", "FOR_TRIAGE"),
    S.REVIEWED: ("open", "INVESTIGATING"),
    S.ASSIGNED: ("open", "ACTION_SCHEDULED"),
    S.IN_PROGRESS: ("open", "IN_PROGRESS"),
    S.COMPLETED: ("closed", "FIXED"),
    S.CLOSED_DUPLICATE: ("closed", "DUPLICATE"),
    S.CLOSED_NO_ACTION: ("closed", "NO_FURTHER_ACTION"),
    S.CLOSED_NOT_CITY: ("closed", "NOT_COUNCILS_RESPONSIBILITY"),
}
