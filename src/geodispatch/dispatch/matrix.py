"""Travel-time matrices: integer seconds between every pair of points.

The default source needs no road data: great-circle distance × a circuity factor at a
constant speed. Measured on city grids, the road distance between two points is about
1.3× the straight line (a Manhattan-like grid gives 4/π ≈ 1.27; Boston's irregular
streets, rivers and bridges push it a little above); 25 km/h is a typical average for
a city work truck including turns, signals and parking. Both are parameters.

A road-network source (an OSRM ``table`` service) sits behind the same
:class:`MatrixSource` interface. Matrices are computed once per set of points and kept in a
:class:`MatrixCache`, so a re-plan that reuses the morning's points does not recompute.
Every source returns *integer* seconds: the planner, the solver and the checker all read
the same integers, so rounding can never make a checked plan differ from a solved one.
"""

from __future__ import annotations

import hashlib
import json
import math
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from geodispatch.domain.errors import InputError, PlanningError

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8


class MatrixSource(Protocol):
    """Anything that turns points into an integer travel-time matrix."""

    @property
    def key(self) -> str:
        """A text that changes whenever the source would give different numbers."""
        ...

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Travel seconds, shape (n, n), int64, zero diagonal, for points (n, 2) lon/lat."""
        ...


def haversine_m(lonlat: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between every pair of WGS84 points (n, 2)."""
    pts = np.radians(np.asarray(lonlat, dtype=float))
    lon, lat = pts[:, 0][:, None], pts[:, 1][:, None]
    dlat = lat - lat.T
    dlon = lon - lon.T
    a = np.sin(dlat / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


@dataclass(frozen=True, slots=True)
class StraightLineParams:
    """Straight-line travel model.

    ``circuity``: road distance / straight-line distance (1.3, see module docstring).
    ``speed_kmh``: average driving speed in the city (25 km/h).
    """

    circuity: float = 1.3
    speed_kmh: float = 25.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.circuity <= 3.0:
            raise InputError(
                f"StraightLineParams.circuity must be in [1, 3]. Got {self.circuity} instead."
            )
        if not 1.0 <= self.speed_kmh <= 130.0:
            raise InputError(
                f"StraightLineParams.speed_kmh must be in [1, 130]. Got {self.speed_kmh} instead."
            )


@dataclass(frozen=True, slots=True)
class StraightLineSource:
    """Great-circle metres × circuity ÷ speed, rounded to the nearest whole second."""

    params: StraightLineParams = StraightLineParams()

    @property
    def key(self) -> str:
        """Identifies the model and its parameters."""
        return f"straight:{self.params.circuity}:{self.params.speed_kmh}"

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Travel seconds between every pair of points."""
        metres = haversine_m(lonlat) * self.params.circuity
        return np.rint(metres / (self.params.speed_kmh / 3.6)).astype(np.int64)


@dataclass(frozen=True, slots=True)
class OsrmTableSource:
    """Road travel times from an OSRM server's ``table`` service (durations, seconds).

    ``base_url`` is the server, e.g. ``http://localhost:5000``. Large matrices are fetched
    in blocks of ``block`` × ``block`` points (OSRM's default ``max-table-size`` is 100).
    Durations are rounded to whole seconds; a pair OSRM cannot route raises
    :class:`PlanningError` naming the points.
    """

    base_url: str
    profile: str = "driving"
    block: int = 100
    timeout_s: float = 30.0

    @property
    def key(self) -> str:
        """Identifies the server and profile."""
        return f"osrm:{self.base_url.rstrip('/')}:{self.profile}"

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Travel seconds between every pair of points, fetched block by block."""
        pts = np.asarray(lonlat, dtype=float)
        n = len(pts)
        out = np.zeros((n, n), dtype=np.int64)
        for i0 in range(0, n, self.block):
            for j0 in range(0, n, self.block):
                rows = list(range(i0, min(n, i0 + self.block)))
                cols = list(range(j0, min(n, j0 + self.block)))
                out[np.ix_(rows, cols)] = self._fetch(pts, rows, cols)
        np.fill_diagonal(out, 0)
        return out

    def _fetch(self, pts: np.ndarray, rows: list[int], cols: list[int]) -> np.ndarray:
        ids = sorted(set(rows) | set(cols))
        pos = {p: k for k, p in enumerate(ids)}
        coords = ";".join(f"{pts[p, 0]:.6f},{pts[p, 1]:.6f}" for p in ids)
        url = (
            f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}"
            f"?sources={';'.join(str(pos[r]) for r in rows)}"
            f"&destinations={';'.join(str(pos[c]) for c in cols)}&annotations=duration"
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise PlanningError(
                f"OSRM table request to {self.base_url} failed ({exc}); check the server is "
                "running, or plan with the straight-line matrix"
            ) from exc
        if body.get("code") != "Ok":
            raise PlanningError(
                f"OSRM answered {body.get('code')!r}: {body.get('message', '')}; "
                "check the points lie inside the server's map extract"
            )
        block = body["durations"]
        out = np.zeros((len(rows), len(cols)), dtype=np.int64)
        for a, row in enumerate(block):
            for b, value in enumerate(row):
                if value is None:
                    raise PlanningError(
                        f"OSRM finds no road from point {rows[a]} ({pts[rows[a]].tolist()}) to "
                        f"point {cols[b]} ({pts[cols[b]].tolist()}); check both locations"
                    )
                out[a, b] = math.floor(float(value) + 0.5)
        return out


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Integer travel seconds between ``points`` (n, 2 lon/lat), from ``source_key``."""

    points: np.ndarray
    seconds: np.ndarray
    source_key: str

    def __post_init__(self) -> None:
        n = len(self.points)
        if self.seconds.shape != (n, n):
            raise InputError(
                f"travel matrix is {self.seconds.shape} for {n} points; it must be square"
            )
        if (self.seconds < 0).any():
            raise InputError("travel matrix holds negative seconds; check the source")


class MatrixCache:
    """Keeps the last ``size`` matrices, keyed by source and the exact points."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._store: OrderedDict[str, TravelMatrix] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, source: MatrixSource, lonlat: np.ndarray) -> TravelMatrix:
        """The matrix for these points, computed on first request."""
        pts = np.ascontiguousarray(np.asarray(lonlat, dtype=float).reshape(-1, 2))
        digest = hashlib.sha1(np.round(pts, 7).tobytes(), usedforsecurity=False).hexdigest()
        key = f"{source.key}|{len(pts)}|{digest}"
        found = self._store.get(key)
        if found is not None:
            self.hits += 1
            self._store.move_to_end(key)
            return found
        self.misses += 1
        matrix = TravelMatrix(pts, np.asarray(source.seconds(pts), dtype=np.int64), source.key)
        self._store[key] = matrix
        while len(self._store) > self.size:
            self._store.popitem(last=False)
        return matrix


def matrix_label(key: str) -> str:
    """How a travel-time source (by its ``key``) reads on a page or in the CLI."""
    kind, _, rest = key.partition(":")
    if kind == "straight":
        circuity, _, speed = rest.partition(":")
        return f"straight line × {circuity} at {speed} km/h (no road network set)"
    if kind == "road":
        name, _, digest = rest.partition(":")
        return f"road network {name} ({digest})"
    if kind == "osrm":
        return f"OSRM road times ({rest})"
    return key or "unknown"


#: One cache per process (the CLI, the app and the API each plan from one process).
DEFAULT_CACHE = MatrixCache()
