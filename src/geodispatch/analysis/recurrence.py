"""Re-reports after closure: the same problem reported again soon after it was "completed".

A completion is followed by a re-report when a request of the same type (or, with
``related``, of the same type family) is opened within ``radius_m`` of it and within
``window_days`` after it was closed. Requests of the completed job itself never count, nor
do the city's own work orders (they log work, they do not report a problem). Pure: takes
the request facts, returns typed results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geodispatch.domain.errors import InputError
from geodispatch.domain.requests import RequestStatus

EARTH_RADIUS_M: Final = 6_371_008.8
_DAY_S: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class RecurrenceParams:
    """How close in space and time a later report must be to count as a re-report."""

    radius_m: float = 50.0
    window_days: float = 30.0
    related: bool = False  # same type family (catalogue category) instead of same type

    def __post_init__(self) -> None:
        if not self.radius_m > 0:
            raise InputError(f"re-report radius {self.radius_m} m: give a positive distance")
        if not self.window_days > 0:
            raise InputError(f"re-report window {self.window_days} days: give a positive number")


@dataclass(frozen=True, slots=True)
class Recurrence:
    """Completions and the re-reports that followed them.

    ``completions`` has one row per completed unit of work (a job, or a request closed
    outside any job) with ``rereports`` (how many later reports) and ``first_after_days``;
    ``pairs`` links each completion to each re-report (``distance_m``, ``days_after``).
    """

    params: RecurrenceParams
    completions: pd.DataFrame
    pairs: pd.DataFrame

    @property
    def completed(self) -> int:
        """Completions with a known place (the ones that can be followed by a re-report)."""
        return len(self.completions)

    @property
    def rereported(self) -> int:
        """Completions followed by at least one re-report."""
        return int((self.completions["rereports"] > 0).sum())

    def by(self, column: str) -> pd.DataFrame:
        """Per value of ``column`` (type, ward, crew…): completions, re-reported, share."""
        grouped = self.completions.groupby(column, dropna=False)
        out = pd.DataFrame(
            {
                "completed": grouped.size(),
                "rereported": grouped["rereports"].apply(lambda s: int((s > 0).sum())),
                "rereports": grouped["rereports"].sum(),
            }
        ).reset_index()
        out["share"] = out["rereported"] / out["completed"]
        return out.sort_values(
            ["rereported", "completed"], ascending=False, kind="stable"
        ).reset_index(drop=True)


COMPLETION_COLUMNS: Final = (
    "unit",
    "request_id",
    "job_id",
    "service_name",
    "family",
    "ward",
    "crew",
    "closed_at",
    "rereports",
    "first_after_days",
)
PAIR_COLUMNS: Final = ("unit", "request_id", "rereport_id", "distance_m", "days_after")


def local_metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Equirectangular metres around the points' mean latitude (exact enough within a city)."""
    lat0 = np.deg2rad(np.nanmean(lat)) if len(lat) else 0.0
    x = np.deg2rad(lon) * np.cos(lat0) * EARTH_RADIUS_M
    y = np.deg2rad(lat) * EARTH_RADIUS_M
    return np.column_stack([x, y])


def metres_from(lon: pd.Series, lat: pd.Series, lon0: float, lat0: float) -> np.ndarray:
    """Distance in metres of each point from (lon0, lat0), equirectangular."""
    scale = np.cos(np.deg2rad(lat0)) * EARTH_RADIUS_M
    dx = np.deg2rad(lon.to_numpy(float) - lon0) * scale
    dy = np.deg2rad(lat.to_numpy(float) - lat0) * EARTH_RADIUS_M
    return np.asarray(np.hypot(dx, dy))


def rereports(
    facts: pd.DataFrame,
    params: RecurrenceParams | None = None,
    *,
    exclude_types: pd.Series | None = None,
    completions_in: pd.Series | None = None,
) -> Recurrence:
    """Find completions followed by re-reports.

    ``facts`` has ``request_id, job_id, service_name, family, ward, crew, status, public,
    lon, lat, created_at, closed_at``. ``exclude_types`` marks rows (True) whose type is
    not a problem that can come back (a scheduled pickup, a cart delivery): they are
    neither completions nor re-reports. ``completions_in`` (True rows) limits which
    completions are followed (a ward's month), every report still counting as a re-report.
    """
    params = params or RecurrenceParams()
    frame = facts[facts["lon"].notna() & facts["lat"].notna()]
    if exclude_types is not None:
        frame = frame[~exclude_types.reindex(frame.index, fill_value=False)]
    frame = frame.assign(
        unit=np.where(
            frame["job_id"].notna(),
            "job:" + frame["job_id"].astype("string").fillna(""),
            "request:" + frame["request_id"].astype(str),
        ),
        key=frame["family"] if params.related else frame["service_name"],
    )
    done = frame[
        (frame["status"] == RequestStatus.COMPLETED.value) & frame["closed_at"].notna()
    ].sort_values("closed_at")
    done = done.drop_duplicates("unit", keep="last")  # a job completes once, at its last close
    if completions_in is not None:
        done = done[completions_in.reindex(done.index, fill_value=False).to_numpy(dtype=bool)]
    later = frame[frame["public"].astype(bool)]
    pairs = [
        _pairs(group, later[later["key"] == key], params) for key, group in done.groupby("key")
    ]
    pair_frame = (
        pd.concat([p for p in pairs if not p.empty], ignore_index=True)
        if any(not p.empty for p in pairs)
        else pd.DataFrame(columns=list(PAIR_COLUMNS))
    )
    counts = pair_frame.groupby("unit").agg(
        rereports=("rereport_id", "size"), first_after_days=("days_after", "min")
    )
    completions = done.set_index("unit").join(counts, how="left").reset_index()
    completions["rereports"] = completions["rereports"].fillna(0).astype(int)
    return Recurrence(
        params=params,
        completions=completions[list(COMPLETION_COLUMNS)].reset_index(drop=True),
        pairs=pair_frame,
    )


def _pairs(done: pd.DataFrame, later: pd.DataFrame, params: RecurrenceParams) -> pd.DataFrame:
    if done.empty or later.empty:
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    points = local_metres(
        np.concatenate([done["lon"].to_numpy(float), later["lon"].to_numpy(float)]),
        np.concatenate([done["lat"].to_numpy(float), later["lat"].to_numpy(float)]),
    )
    origin, candidate = points[: len(done)], points[len(done) :]
    near = cKDTree(candidate).query_ball_point(origin, r=params.radius_m)
    left = np.repeat(np.arange(len(done)), [len(n) for n in near])
    right = np.fromiter((j for n in near for j in n), dtype=np.int64, count=len(left))
    if not len(left):
        return pd.DataFrame(columns=list(PAIR_COLUMNS))
    closed = done["closed_at"].to_numpy("datetime64[ns]")[left]
    opened = later["created_at"].to_numpy("datetime64[ns]")[right]
    days = (opened - closed) / np.timedelta64(1, "s") / _DAY_S
    same_unit = done["unit"].to_numpy()[left] == later["unit"].to_numpy()[right]
    keep = (days > 0) & (days <= params.window_days) & ~same_unit
    distance = np.hypot(*(origin[left] - candidate[right]).T)
    return pd.DataFrame(
        {
            "unit": done["unit"].to_numpy()[left][keep],
            "request_id": done["request_id"].to_numpy()[left][keep],
            "rereport_id": later["request_id"].to_numpy()[right][keep],
            "distance_m": distance[keep],
            "days_after": days[keep],
        }
    )
