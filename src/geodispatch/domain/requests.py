"""Service requests as they flow through intake: statuses, priorities, rejected rows.

A request is one resident's report. Repeat reports of one problem are grouped into a job
(`domain.jobs`). Intake works on frames with the canonical columns in `REQUEST_COLUMNS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Final

import pandas as pd


class RequestStatus(StrEnum):
    """Where a request (or job) stands in the workflow.

    New → Reviewed → Work assigned → In progress → Completed. The ``closed_*`` outcomes end a
    request without a fix and say why, so "closed" never hides "not done".
    """

    NEW = "new"
    REVIEWED = "reviewed"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CLOSED_DUPLICATE = "closed_duplicate"
    CLOSED_NO_ACTION = "closed_no_action"
    CLOSED_NOT_CITY = "closed_not_city"

    @property
    def is_open(self) -> bool:
        """True while work may still be owed."""
        return self in OPEN_STATUSES

    @property
    def label(self) -> str:
        """Plain-language label for screens and reports."""
        return STATUS_LABELS[self]


OPEN_STATUSES: Final = frozenset(
    {RequestStatus.NEW, RequestStatus.REVIEWED, RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS}
)
STATUS_LABELS: Final = {
    RequestStatus.NEW: "New",
    RequestStatus.REVIEWED: "Reviewed",
    RequestStatus.ASSIGNED: "Work assigned",
    RequestStatus.IN_PROGRESS: "In progress",
    RequestStatus.COMPLETED: "Completed",
    RequestStatus.CLOSED_DUPLICATE: "Closed: duplicate",
    RequestStatus.CLOSED_NO_ACTION: "Closed: no action needed",
    RequestStatus.CLOSED_NOT_CITY: "Closed: not the city's responsibility",
}


class Priority(IntEnum):
    """Dispatch priority; lower is more urgent (P1 emergency, P3 routine)."""

    P1 = 1
    P2 = 2
    P3 = 3


class LocationStatus(StrEnum):
    """How much we trust a request's point."""

    SOURCE = "source"  # coordinates came with the request
    GEOCODED = "geocoded"  # computed from the address text
    UNKNOWN = "unknown"  # no usable point (placeholder, missing, invalid)


#: Canonical columns of an accepted-requests frame, in order, with their meaning.
REQUEST_COLUMNS: Final[dict[str, str]] = {
    "source": "data source the id belongs to (e.g. 'boston', 'open311', a CSV's name)",
    "source_id": "the source's own id; unique per source",
    "line": "1-based line of the record in its file (0 for API input)",
    "service_name": "request type as the source names it",
    "service_code": "our catalogue code for the type",
    "department": "department or queue responsible, as the source says",
    "description": "resident's text (untrusted)",
    "address": "address text as given (untrusted)",
    "zipcode": "5-digit ZIP or empty",
    "lon": "WGS84 longitude, NaN when the location is unknown",
    "lat": "WGS84 latitude, NaN when the location is unknown",
    "location_status": "LocationStatus value",
    "location_note": "why the location is unknown, empty otherwise",
    "source_ward": "ward number the source recorded, <NA> when absent",
    "status": "RequestStatus value",
    "channel": "how it reached the city (phone, app, web, employee)",
    "created_at": "UTC timestamp the request was opened",
    "due_at": "UTC SLA due time the source set, NaT when absent",
    "closed_at": "UTC close time, NaT while open",
    "closure_note": "closing text (untrusted)",
    "row_hash": "hash of the source fields, to tell an updated row from a repeat",
}


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """An input row that could not be accepted, with everything needed to fix it."""

    source: str
    line: int
    field: str
    value: str
    problem: str
    fix: str
    raw: str = ""


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One run of intake as logged: what came in and what became of it."""

    id: int
    source: str
    kind: str
    file_name: str
    status: str  # running | done | failed
    started_at: datetime
    finished_at: datetime | None
    rows_read: int
    accepted: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    note: str = ""


REJECTED_COLUMNS: Final = ("source", "line", "field", "value", "problem", "fix", "raw")


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """Rows read from one input: accepted requests plus rejected rows; nothing else is lost."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame

    @property
    def rows_read(self) -> int:
        """Every row the parser saw, accepted or not."""
        return len(self.accepted) + len(self.rejected)


def empty_rejected() -> pd.DataFrame:
    """A rejected-rows frame with no rows and the right columns."""
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "line" else "object") for c in REJECTED_COLUMNS}
    )
