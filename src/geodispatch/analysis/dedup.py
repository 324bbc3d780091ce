"""Repeat reports of one problem -> one job.

Two reports are the same problem when they have the same type, lie within ``radius_m`` of
the job's first report (its anchor) and arrive within ``window`` of the job's latest report.
Reports without a point match on their normalised address text instead.

Why anchors rather than plain DBSCAN: DBSCAN links neighbours of neighbours, so a street
with a report every 25 m becomes one job a kilometre long. Measuring every report against
the job's anchor bounds a job to a ``radius_m`` disc around it, still uses metric
distances in the working CRS (as the research note asks), and works the same in a nightly
batch and for one new report arriving through the API: the result does not depend on
how the reports were batched, only on their arrival order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geodispatch.domain.errors import InputError, SchemaError

#: Columns :func:`group_reports` needs in ``reports`` and ``jobs``.
REPORT_COLUMNS: Final = ("request_id", "service_code", "x", "y", "created_at", "address")
JOB_COLUMNS: Final = ("job_id", "service_code", "x", "y", "last_report_at", "address")


@dataclass(frozen=True, slots=True)
class DedupParams:
    """How close in space and time two reports must be to count as one job.

    Attributes
    ----------
    radius_m
        Largest distance, in metres, from the job's first report. 30 m covers GPS scatter
        on a phone and "in front of number 12" versus "number 14" without merging the next
        pothole down the street.
    window
        Largest gap between a report and the job's latest report. Two weeks: a report a
        month later about a light that is still out is still the same job only while the
        job stays open, and the window keeps long-closed problems from absorbing new ones.
    never_merge
        Service codes whose reports are never merged: a housing inspection at "80 Fenway"
        concerns one flat, and the next report from the same building is another flat.
    """

    radius_m: float = 30.0
    window: timedelta = timedelta(days=14)
    never_merge: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 0 < self.radius_m <= 500:
            raise InputError(
                f"DedupParams.radius_m must be in (0, 500] metres. Got {self.radius_m} instead."
            )
        if not timedelta(0) < self.window <= timedelta(days=365):
            raise InputError(
                f"DedupParams.window must be between 0 and 365 days. Got {self.window} instead."
            )


def address_key(address: str) -> str:
    """Address text folded for matching: lower case, punctuation and extra spaces removed."""
    return re.sub(r"\s+", " ", re.sub(r"[^0-9a-z]+", " ", address.lower())).strip()


@dataclass(slots=True)
class _Anchor:
    label: int
    x: float
    y: float
    last: pd.Timestamp


def group_reports(
    reports: pd.DataFrame, jobs: pd.DataFrame, params: DedupParams | None = None
) -> pd.DataFrame:
    """Assign each report to an existing open job, or to a new job shared with its repeats.

    Parameters
    ----------
    reports
        New reports: :data:`REPORT_COLUMNS`; ``x``/``y`` in metres of a metric CRS (NaN when
        the location is unknown), ``created_at`` timezone-aware.
    jobs
        Open jobs they may join: :data:`JOB_COLUMNS` (``x``/``y`` of the job's anchor).
    params
        Distance and time limits; defaults as documented on :class:`DedupParams`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``reports`` with ``job_id`` (an existing job, or <NA>), ``group``
        (a negative number shared by the new reports that form one new job, or <NA>) and
        ``distance_m`` from the anchor (NaN for address matches and anchors themselves).

    Raises
    ------
    SchemaError
        A column is missing.
    """
    params = params or DedupParams()
    _require(reports, REPORT_COLUMNS, "reports")
    _require(jobs, JOB_COLUMNS, "jobs")
    job_id = pd.Series(pd.NA, index=reports.index, dtype="Int64")
    group = pd.Series(pd.NA, index=reports.index, dtype="Int64")
    distance = pd.Series(np.nan, index=reports.index, dtype=float)
    next_group = -1
    order = reports.sort_values(["created_at", "request_id"], kind="stable")
    for code, batch in order.groupby("service_code", sort=True):
        if code in params.never_merge:
            for index in batch.index:
                group.at[index] = next_group
                next_group -= 1
            continue
        grid = _Grid(params.radius_m)
        by_address: dict[str, list[_Anchor]] = {}
        candidates = jobs.loc[jobs["service_code"] == code]
        for j in _records(candidates):
            anchor = _Anchor(int(j["job_id"]), j["x"], j["y"], pd.Timestamp(j["last_report_at"]))
            _remember(anchor, str(j["address"]), grid, by_address)
        for index, r in zip(batch.index, _records(batch), strict=True):
            at = pd.Timestamp(r["created_at"])
            x, y = r["x"], r["y"]
            match, dist = (
                (_by_address(by_address, str(r["address"]), at, params), math.nan)
                if math.isnan(x) or math.isnan(y)
                else grid.nearest(x, y, at, params)
            )
            if match is None:
                match = _Anchor(next_group, x, y, at)
                next_group -= 1
                _remember(match, str(r["address"]), grid, by_address)
            else:
                match.last = max(match.last, at)
                distance.at[index] = dist
            if match.label > 0:
                job_id.at[index] = match.label
            else:
                group.at[index] = match.label
    return pd.DataFrame({"job_id": job_id, "group": group, "distance_m": distance})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts, with x/y as floats (NaN when unknown or not finite).

    A point that projects to infinity (a pole, a corrupt value) is grouped like a report
    without a point, by its address, instead of stopping the grouping of every report.
    """
    x = frame["x"].astype(float)
    y = frame["y"].astype(float)
    placed = np.isfinite(x) & np.isfinite(y)
    out = frame.assign(x=x.where(placed), y=y.where(placed))
    return [{str(k): v for k, v in row.items()} for row in out.to_dict("records")]


def _remember(
    anchor: _Anchor, address: str, grid: _Grid, by_address: dict[str, list[_Anchor]]
) -> None:
    if math.isnan(anchor.x) or math.isnan(anchor.y):
        key = address_key(address)
        if key:
            by_address.setdefault(key, []).append(anchor)
        return
    grid.add(anchor)


def _by_address(
    by_address: dict[str, list[_Anchor]], address: str, at: pd.Timestamp, params: DedupParams
) -> _Anchor | None:
    key = address_key(address)
    if not key:
        return None
    for anchor in by_address.get(key, []):
        if abs(at - anchor.last) <= params.window:
            return anchor
    return None


class _Grid:
    """Anchors bucketed in square cells one radius wide: a lookup scans 3 × 3 cells."""

    def __init__(self, size: float) -> None:
        self.size = size
        self.cells: dict[tuple[int, int], list[_Anchor]] = {}

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        return math.floor(x / self.size), math.floor(y / self.size)

    def add(self, anchor: _Anchor) -> None:
        self.cells.setdefault(self._cell(anchor.x, anchor.y), []).append(anchor)

    def nearest(
        self, x: float, y: float, at: pd.Timestamp, params: DedupParams
    ) -> tuple[_Anchor | None, float]:
        cx, cy = self._cell(x, y)
        best: _Anchor | None = None
        best_d = math.inf
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for anchor in self.cells.get((cx + dx, cy + dy), ()):
                    d = math.hypot(anchor.x - x, anchor.y - y)
                    recent = abs(at - anchor.last) <= params.window
                    if d <= params.radius_m and d < best_d and recent:
                        best, best_d = anchor, d
        return best, best_d


def _require(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"dedup {what}: missing column(s) {', '.join(missing)}; found "
            f"{', '.join(map(str, frame.columns))}. Build the frame with every column listed "
            f"in analysis.dedup.{what.upper()[:-1]}_COLUMNS."
        )


#: Columns :func:`near_duplicates` needs in ``jobs``.
CANDIDATE_COLUMNS: Final = ("job_id", "service_code", "x", "y", "created_at", "address")


@dataclass(frozen=True, slots=True)
class CandidateParams:
    """Which pairs of open jobs a dispatcher is asked to review as possible duplicates.

    Automatic grouping (:class:`DedupParams`) merges only what is surely one problem. The
    review list is wider, so a person decides the doubtful cases.

    Attributes
    ----------
    radius_m
        Largest distance in metres between the two jobs' points (default 100 m: the same
        light reported from across a wide junction, a pothole "near" a corner).
    window
        Largest gap between the two jobs' first reports (default 30 days).
    never_merge
        Service codes never offered (one address holds many flats for an inspection).
    max_pairs
        At most this many pairs are returned, closest first (default 500).
    """

    radius_m: float = 100.0
    window: timedelta = timedelta(days=30)
    never_merge: frozenset[str] = frozenset()
    max_pairs: int = 500

    def __post_init__(self) -> None:
        if not 0 < self.radius_m <= 1000:
            raise InputError(
                f"CandidateParams.radius_m must be in (0, 1000] metres. Got {self.radius_m} "
                "instead."
            )
        if not timedelta(0) < self.window <= timedelta(days=365):
            raise InputError(
                f"CandidateParams.window must be between 0 and 365 days. Got {self.window} instead."
            )
        if self.max_pairs < 1:
            raise InputError(f"CandidateParams.max_pairs must be >= 1. Got {self.max_pairs}.")


def near_duplicates(jobs: pd.DataFrame, params: CandidateParams | None = None) -> pd.DataFrame:
    """Pairs of open jobs of one type that may be the same problem, closest first.

    Two jobs pair up when they are of the same type, their first reports are at most
    ``window`` apart, and their points are within ``radius_m`` (or, for jobs without a
    point, their addresses read the same).

    Parameters
    ----------
    jobs
        :data:`CANDIDATE_COLUMNS`; ``x``/``y`` in metres of a metric CRS (NaN when unknown).
    params
        Limits; defaults as documented on :class:`CandidateParams`.

    Returns
    -------
    pandas.DataFrame
        ``job_a`` (the older job, the natural one to keep), ``job_b``, ``distance_m``
        (NaN for address matches), ``days_apart`` and ``same_address``.
    """
    params = params or CandidateParams()
    _require(jobs, CANDIDATE_COLUMNS, "candidates")
    pairs: list[tuple[int, int]] = []
    frame = jobs.reset_index(drop=True)
    keys = frame["address"].astype(str).map(address_key)
    for code, batch in frame.groupby("service_code", sort=True):
        if code in params.never_merge or len(batch) < 2:
            continue
        xy = batch[["x", "y"]].to_numpy(dtype=float)
        located = np.isfinite(xy).all(axis=1)
        index = batch.index.to_numpy()
        if located.sum() >= 2:
            tree = cKDTree(xy[located])
            found = tree.query_pairs(params.radius_m, output_type="ndarray")
            where = index[located]
            pairs += [(int(where[a]), int(where[b])) for a, b in found]
        unlocated = index[~located]
        by_key: dict[str, list[int]] = {}
        for i in unlocated:
            key = str(keys.iat[i])
            if key:
                by_key.setdefault(key, []).append(int(i))
        for same in by_key.values():
            pairs += [(a, b) for n, a in enumerate(same) for b in same[n + 1 :]]
    columns = ["job_a", "job_b", "distance_m", "days_apart", "same_address"]
    if not pairs:
        return pd.DataFrame(columns=columns)
    left = np.array([p[0] for p in pairs])
    right = np.array([p[1] for p in pairs])
    created = frame["created_at"]
    gap = (created.iloc[right].to_numpy() - created.iloc[left].to_numpy()) / np.timedelta64(1, "D")
    keep = np.abs(gap) <= params.window / timedelta(days=1)
    left, right, gap = left[keep], right[keep], gap[keep]
    older_first = gap >= 0
    a = np.where(older_first, left, right)
    b = np.where(older_first, right, left)
    x, y = frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "job_a": frame["job_id"].to_numpy()[a].astype(int),
            "job_b": frame["job_id"].to_numpy()[b].astype(int),
            "distance_m": np.hypot(x[a] - x[b], y[a] - y[b]),
            "days_apart": np.abs(gap),
            "same_address": keys.to_numpy()[a] == keys.to_numpy()[b],
        }
    )
    out = out.sort_values(["distance_m", "days_apart", "job_a", "job_b"], na_position="last")
    return out.head(params.max_pairs).reset_index(drop=True)


def group_by_score(
    count: int, earlier: np.ndarray, later: np.ndarray, score: np.ndarray, threshold: float
) -> np.ndarray:
    """Jobs from scored report pairs (the learned alternative to :func:`group_reports`).

    Each report joins the job of its best-scoring earlier report when that score reaches
    ``threshold``, else starts a job.

    Reports are positions ``0 .. count-1`` in arrival order; ``earlier[i] < later[i]`` name
    the i-th scored pair. Returns, per report, the position of its job's first report. A
    report joins at most one job, so the result is the same however the pairs are ordered.
    """
    earlier = np.asarray(earlier, dtype=int)
    later = np.asarray(later, dtype=int)
    score = np.asarray(score, dtype=float)
    if (earlier >= later).any():
        raise InputError("group_by_score: every pair must name the earlier report first")
    job = np.arange(count)
    strong = score >= threshold
    order = np.lexsort((-score[strong], later[strong]))
    best_later = later[strong][order]
    best_earlier = earlier[strong][order]
    first = np.r_[True, best_later[1:] != best_later[:-1]] if len(best_later) else np.zeros(0, bool)
    for b, a in zip(best_later[first], best_earlier[first], strict=True):
        job[b] = job[a]
    return job
