"""The training frame every model reads, and the time split every evaluation uses.

One row per request, with the columns of :data:`FRAME_COLUMNS`. Times are naive local
timestamps (the city's zone); ``closed_at`` is NaT for a request still open when the data was
exported (a censored close time, see :mod:`geodispatch.learn.close_time`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from geodispatch.domain.errors import InputError, SchemaError

FRAME_COLUMNS: Final = (
    "case_id",
    "created_at",
    "due_at",
    "closed_at",
    "service_type",
    "category",
    "department",
    "description",
    "ward",
    "neighborhood",
    "source",
    "lat",
    "lon",
    "address",
    "closure_note",
)

#: Metres per radian of latitude on a sphere of the Earth's mean radius.
_EARTH_M: Final = 6_371_000.0


def require_frame(frame: pd.DataFrame, what: str = "training frame") -> None:
    """Raise SchemaError naming the missing columns of a training frame."""
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what}: missing column(s) {', '.join(missing)}. Build it with "
            "geodispatch.io.model_data.read_training_frame (a Boston-layout 311 export)."
        )


def local_xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Approximate metres east/north (equirectangular about 42.33° N, city scale only)."""
    cos0 = math.cos(math.radians(42.33))
    x = np.radians(np.asarray(lon, dtype=float)) * _EARTH_M * cos0
    y = np.radians(np.asarray(lat, dtype=float)) * _EARTH_M
    return x, y


@dataclass(frozen=True, slots=True)
class TimeSplit:
    """Train on requests created before ``cutoff``, test on those created from it on.

    Attributes
    ----------
    cutoff
        First instant of the test period (a month start by default).
    end
        The data's end: requests open at this instant have a censored close time.
    """

    cutoff: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def last_months(cls, frame: pd.DataFrame, months: int = 2) -> TimeSplit:
        """The split that holds out the frame's last ``months`` calendar months."""
        if frame.empty:
            raise InputError("time split: the training frame is empty; import some requests")
        last = pd.Timestamp(frame["created_at"].max())
        cutoff = (last.to_period("M") - (months - 1)).to_timestamp()
        if cutoff <= pd.Timestamp(frame["created_at"].min()):
            raise InputError(
                f"time split: the data covers too few months to hold out the last {months} "
                f"(it runs {frame['created_at'].min():%Y-%m-%d} to {last:%Y-%m-%d}); "
                "give a longer export or fewer --test-months."
            )
        end = max(last, pd.Timestamp(frame["closed_at"].max()))
        return cls(cutoff=cutoff, end=end)

    def train(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows created before the cutoff."""
        return frame.loc[frame["created_at"] < self.cutoff]

    def test(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows created on or after the cutoff."""
        return frame.loc[frame["created_at"] >= self.cutoff]

    def describe(self) -> str:
        """One line for a model card."""
        return (
            f"train: created before {self.cutoff:%Y-%m-%d}; test: created from "
            f"{self.cutoff:%Y-%m-%d}, close times as of {self.end:%Y-%m-%d} "
            "(never a random split)"
        )
