"""One-to-one scoring of detected hotspots against planted ones (bench only).

A planted hotspot and a detection of the same type can pair when the detection's
centroid lies within the planted radius + 50 m, or its polygon contains the planted
centre. Pairs are chosen by a minimum-distance assignment, so each planted hotspot
matches at most one detection and each detection at most one planted hotspot: ten
fragments of one planted area count as one hit and nine false detections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.stats import poisson

#: A planted hotspot is "detectable" when its disc count is this improbable under its
#: true background (Poisson upper tail): the subset a good detector must find.
DETECTABLE_P = 1e-6
SLACK_M = 50.0
_FAR = 1e12


@dataclass(frozen=True, slots=True)
class Score:
    """Counts of a one-to-one match and the rates they give."""

    detections: int
    matched: int
    planted: int
    detectable: int
    detectable_found: int

    @property
    def precision(self) -> float:
        return self.matched / self.detections if self.detections else float("nan")

    @property
    def recall(self) -> float:
        return self.detectable_found / self.detectable if self.detectable else float("nan")


def pairs(found: pd.DataFrame, truth: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one pairs (detection row, planted row) of the same type, nearest first."""
    if found.empty or truth.empty:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    cx, cy = found["centroid_x"].to_numpy(), found["centroid_y"].to_numpy()
    tx, ty, tr = truth["x"].to_numpy(), truth["y"].to_numpy(), truth["radius"].to_numpy()
    d = np.hypot(cx[:, None] - tx[None], cy[:, None] - ty[None])
    same = found["type"].to_numpy()[:, None] == truth["type"].to_numpy()[None]
    near = d <= tr[None] + SLACK_M
    if "geometry" in found.columns:
        geoms = found.geometry.to_numpy()
        centres = shapely.points(tx, ty)
        near |= shapely.contains(geoms[:, None], centres[None])
    allowed = same & near
    cost = np.where(allowed, d, _FAR)
    rows, cols = linear_sum_assignment(cost)
    ok = allowed[rows, cols]
    return rows[ok], cols[ok]


def detectable(truth: pd.DataFrame, *, recent: bool = False) -> np.ndarray:
    """Planted hotspots whose disc count is significant against the true background."""
    bg = truth["exp_bg_recent"] if recent else truth["exp_bg"]
    return np.asarray(poisson.sf(np.round(truth["n"] + bg) - 1, bg) < DETECTABLE_P)


def score(found: pd.DataFrame, truth: pd.DataFrame, strong: np.ndarray) -> Score:
    """Precision over all detections, recall over the detectable planted hotspots."""
    _, cols = pairs(found, truth)
    hit = np.zeros(len(truth), dtype=bool)
    hit[cols] = True
    return Score(
        detections=len(found),
        matched=int(cols.size),
        planted=len(truth),
        detectable=int(strong.sum()),
        detectable_found=int((hit & strong).sum()),
    )


def inside_places(found: pd.DataFrame, places: pd.DataFrame) -> np.ndarray:
    """Which detections have their centroid inside a dense-but-normal place."""
    x = found["centroid_x"].to_numpy()
    y = found["centroid_y"].to_numpy()
    inside = np.zeros(len(found), dtype=bool)
    for row in places.itertuples():
        if row.shape == "disc":
            inside |= (x - row.x) ** 2 + (y - row.y) ** 2 <= row.half**2
        else:
            inside |= (np.abs(x - row.x) <= row.w / 2) & (np.abs(y - row.y) <= row.h / 2)
    return inside


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson 95 % interval of a proportion k / n (small samples)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
