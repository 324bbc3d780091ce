"""What a crew reports from the field: arrived, done, or unable to complete."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from geodispatch.domain.errors import InputError


class FieldOutcome(StrEnum):
    """The three things a crew can say about a stop."""

    ARRIVE = "arrive"
    DONE = "done"
    UNABLE = "unable"


class PositionSource(StrEnum):
    """Where an update's position came from.

    ``device``: the phone's location service. ``confirmed``: the crew confirmed it is at
    the stop (the stop's own point is recorded). ``entered``: the crew typed a position.
    Only ``device`` is a measurement; "done" with any other source is flagged
    ``position_not_measured`` for a supervisor.
    """

    DEVICE = "device"
    CONFIRMED = "confirmed"
    ENTERED = "entered"


class StopStatus(StrEnum):
    """Where a stop on a crew's route stands."""

    PLANNED = "planned"
    ARRIVED = "arrived"
    DONE = "done"
    UNABLE = "unable"


@dataclass(frozen=True, slots=True)
class FieldUpdate:
    """One update a crew posts for one stop, with the version of the stop it saw.

    ``lon``/``lat`` are the crew's position (WGS84) when it has one, measured by the
    device unless ``position_source`` says otherwise; ``photo_ref`` is the stored photo's
    reference (never the client's file name).
    """

    stop_id: int
    outcome: FieldOutcome
    expected_version: int
    at: datetime
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    photo_ref: str | None = None
    position_source: PositionSource = PositionSource.DEVICE

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise InputError(f"stop {self.stop_id}: update time {self.at} has no time zone")
        if (self.lon is None) != (self.lat is None):
            raise InputError(
                f"stop {self.stop_id}: send both lat and long, or neither (got lat={self.lat}, "
                f"long={self.lon})"
            )
        if self.lon is not None and self.lat is not None:
            ok = math.isfinite(self.lon) and math.isfinite(self.lat)
            if not ok or abs(self.lat) > 90 or abs(self.lon) > 180:
                raise InputError(
                    f"stop {self.stop_id}: device position lat={self.lat}, long={self.lon} is "
                    "not a place on Earth; send WGS84 degrees or leave the position out"
                )
        if self.expected_version < 1:
            raise InputError(
                f"stop {self.stop_id}: version must be 1 or more. Got {self.expected_version}."
            )

    @property
    def located(self) -> bool:
        """True when the device sent its position."""
        return self.lon is not None and self.lat is not None
