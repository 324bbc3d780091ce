"""Travel-time matrices: integer seconds between every pair of points.

The default source needs no road data: great-circle distance × a circuity factor at a
constant speed. Measured on city grids, the road distance between two points is about
1.3× the straight line (a Manhattan-like grid gives 4/π ≈ 1.27; Boston's irregular
streets, rivers and bridges push it a little above); 25 km/h is a typical average for
a city work truck including turns, signals and parking. Both are parameters.

Road-network sources sit behind the same :class:`MatrixSource` interface: an
OpenStreetMap extract read from disk (:mod:`geodispatch.io.road_network`, graph and
Dijkstra in :mod:`geodispatch.dispatch.road_graph`) or an OSRM ``table`` server
(:mod:`geodispatch.io.osrm`); the network I/O lives in ``io/``, not here. Matrices are
computed once per set of points and kept in a :class:`MatrixCache` (one lock around
its store, as the app plans from several threads), so a re-plan that reuses the
morning's points does not recompute.
Every source returns *integer* seconds: the planner, the solver and the checker all read
the same integers, so rounding can never make a checked plan differ from a solved one.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from geodispatch.domain.errors import InputError

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
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, source: MatrixSource, lonlat: np.ndarray) -> TravelMatrix:
        """The matrix for these points, computed on first request."""
        pts = np.ascontiguousarray(np.asarray(lonlat, dtype=float).reshape(-1, 2))
        digest = hashlib.sha1(np.round(pts, 7).tobytes(), usedforsecurity=False).hexdigest()
        key = f"{source.key}|{len(pts)}|{digest}"
        with self._lock:
            found = self._store.get(key)
            if found is not None:
                self.hits += 1
                self._store.move_to_end(key)
                return found
            self.misses += 1
        # computed outside the lock: another thread may compute the same matrix meanwhile
        matrix = TravelMatrix(pts, np.asarray(source.seconds(pts), dtype=np.int64), source.key)
        with self._lock:
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
