"""Field updates as a pure state machine: stop and job statuses, and audit flags.

A crew's tap on "arrived", "done" or "cannot complete" moves its stop and the job behind
it. "Done" far from the site, or with no position at all, is accepted (phones lose GPS
under trees) but flagged for a supervisor, as is "done" without a photo or with a position
the crew confirmed or typed rather than one the device measured. "Cannot
complete" needs a note and sends the job back to the dispatcher's queue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from geodispatch.domain.errors import InputError, TransitionError
from geodispatch.domain.requests import RequestStatus
from geodispatch.domain.updates import FieldOutcome, FieldUpdate, PositionSource, StopStatus

#: stop status -> outcomes allowed from it ("done" straight from planned is allowed: a crew
#: that forgot to tap "arrived" must still be able to record the work).
STOP_MOVES: Final[dict[StopStatus, frozenset[FieldOutcome]]] = {
    StopStatus.PLANNED: frozenset(FieldOutcome),
    StopStatus.ARRIVED: frozenset({FieldOutcome.DONE, FieldOutcome.UNABLE}),
    StopStatus.DONE: frozenset(),
    StopStatus.UNABLE: frozenset(),
}
STOP_AFTER: Final = {
    FieldOutcome.ARRIVE: StopStatus.ARRIVED,
    FieldOutcome.DONE: StopStatus.DONE,
    FieldOutcome.UNABLE: StopStatus.UNABLE,
}
EARTH_RADIUS_M: Final = 6_371_008.8


@dataclass(frozen=True, slots=True)
class FieldParams:
    """Audit thresholds for field updates.

    Attributes
    ----------
    done_radius_m
        "Done" posted farther than this from the job's point is flagged ``far_from_site``.
        150 m allows for phone GPS in streets between tall buildings and a truck parked
        around the corner, while a crew that never left the yard is flagged.
    """

    done_radius_m: float = 150.0

    def __post_init__(self) -> None:
        if not 10 <= self.done_radius_m <= 5000:
            raise InputError(
                f"FieldParams.done_radius_m must be in [10, 5000] metres. Got "
                f"{self.done_radius_m} instead."
            )


@dataclass(frozen=True, slots=True)
class FieldDecision:
    """What one update does: the stop's new status, the job's (or None), and audit flags."""

    stop_status: StopStatus
    job_status: RequestStatus | None
    distance_m: float | None
    flags: tuple[str, ...]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, a)))


def decide(
    update: FieldUpdate,
    *,
    stop_status: StopStatus,
    job_status: RequestStatus,
    job_lon: float | None,
    job_lat: float | None,
    params: FieldParams | None = None,
) -> FieldDecision:
    """The effect of ``update`` on a stop at ``stop_status`` whose job is at ``job_status``.

    Raises
    ------
    TransitionError
        The stop is finished, or the outcome does not follow from its status, or the job
        was closed or taken off the route meanwhile, or "unable" comes without a note.
    """
    params = params or FieldParams()
    what = f"stop {update.stop_id}"
    if update.outcome not in STOP_MOVES[stop_status]:
        allowed = ", ".join(sorted(o.value for o in STOP_MOVES[stop_status])) or "nothing more"
        raise TransitionError(
            f"{what} is {stop_status.value}; '{update.outcome.value}' cannot follow it "
            f"(allowed now: {allowed}). Reload your route."
        )
    if job_status not in {RequestStatus.ASSIGNED, RequestStatus.IN_PROGRESS}:
        raise TransitionError(
            f"{what}: its job is now {job_status.label}, no longer on a crew's route; "
            "call dispatch before doing this work"
        )
    if update.outcome is FieldOutcome.UNABLE and not update.note.strip():
        raise TransitionError(
            f"{what}: say why the work cannot be completed (blocked, parts, unsafe, ...); the "
            "note goes to the dispatcher who replans it"
        )
    job_to: RequestStatus | None
    if update.outcome is FieldOutcome.ARRIVE:
        job_to = RequestStatus.IN_PROGRESS if job_status is RequestStatus.ASSIGNED else None
    elif update.outcome is FieldOutcome.DONE:
        job_to = RequestStatus.COMPLETED
    else:
        job_to = RequestStatus.REVIEWED  # back to the queue, never closed
    distance = None
    flags: list[str] = []
    if (
        update.lon is not None
        and update.lat is not None
        and job_lon is not None
        and job_lat is not None
    ):
        distance = haversine_m(update.lon, update.lat, job_lon, job_lat)
    if update.outcome is FieldOutcome.DONE:
        if not update.located:
            flags.append("no_location")
        elif distance is not None and distance > params.done_radius_m:
            flags.append("far_from_site")
        if update.located and update.position_source is not PositionSource.DEVICE:
            flags.append("position_not_measured")
        if update.photo_ref is None:
            flags.append("no_photo")
    return FieldDecision(STOP_AFTER[update.outcome], job_to, distance, tuple(flags))
