"""A resident's view of their report (issue 25): the status steps in plain words.

Residents follow "Received → Reviewed → Work assigned → Completed"; a report closed
without a fix ends on its outcome in words instead of "Completed", so "closed" never
hides "not done". Nothing here names anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from geodispatch.domain.notices import STATUS_WORDS
from geodispatch.domain.requests import RequestStatus as S

#: The steps a resident sees, each with the statuses that mean it was reached.
STEPS: tuple[tuple[str, frozenset[S]], ...] = (
    ("Received", frozenset(S)),
    ("Reviewed", frozenset({S.REVIEWED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED})),
    ("Work assigned", frozenset({S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED})),
    ("Completed", frozenset({S.COMPLETED})),
)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a report's path: reached or not, and when it was first reached."""

    label: str
    reached: bool
    at: datetime | None = None
    current: bool = False


def steps(status: S, created_at: datetime, first_reached: Mapping[S, datetime]) -> list[Step]:
    """The resident's steps for a report now at ``status``.

    ``first_reached`` maps each status to when the report first entered it (from the
    audit trail); a step reached without its own event (e.g. imported as assigned) shows
    no time.
    """
    out: list[Step] = []
    for label, statuses in STEPS:
        if label == "Completed" and not status.is_open and status is not S.COMPLETED:
            out.append(Step(status.label, reached=True, at=first_reached.get(status)))  # not fixed
            break
        reached = status in statuses
        times = [first_reached[s] for s in statuses if s in first_reached]
        at = created_at if label == "Received" else (min(times) if times else None)
        out.append(Step(label, reached, at if reached else None))
    last = max((i for i, s in enumerate(out) if s.reached), default=0)
    return [Step(s.label, s.reached, s.at, current=(i == last)) for i, s in enumerate(out)]


def status_words(status: S) -> str:
    """What the report's status means for the resident, in a sentence."""
    return STATUS_WORDS[status]
