"""Jobs: one problem to fix, however many residents reported it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import Priority, RequestStatus


@dataclass(frozen=True, slots=True)
class Job:
    """Repeat reports merged into one piece of field work.

    ``caller_count`` is how many requests (people) it stands for; ``earliest_due_at`` and
    ``priority`` are the most demanding among them. ``version`` increases with every change,
    so a stale update can be refused.
    """

    id: int
    service_code: str
    status: RequestStatus
    address: str
    lon: float | None
    lat: float | None
    ward: int | None
    caller_count: int
    priority: Priority
    earliest_due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None
    version: int = 1
    merged_into: int | None = None  # set when closed as a duplicate of that job
    confirmed_at: datetime | None = None  # a dispatcher re-confirmed it still needs work

    def __post_init__(self) -> None:
        if self.caller_count < 1:
            raise InputError(
                f"job {self.id}: caller_count must be at least 1. Got {self.caller_count} instead."
            )

    @property
    def located(self) -> bool:
        """True when the job has a point a crew can drive to."""
        return self.lon is not None and self.lat is not None
