"""Road-network travel times: a directed drive graph, stops snapped to it, Dijkstra matrices.

The graph's edges carry driving seconds (length ÷ speed), one direction per allowed
direction of travel, so one-way streets and one-way tunnels give an asymmetric matrix
and a river is crossed only where a bridge or tunnel is. Stops are snapped to the
nearest node of the graph's largest strongly connected part (so every stop can reach
every other); the walk-in from the stop to that node is added at a slow kerbside speed.
The many-to-many matrix is one Dijkstra per distinct source node
(``scipy.sparse.csgraph``), done in blocks so memory stays bounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from geodispatch.domain.errors import InputError, PlanningError

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8
#: Speed (km/h) between a stop and the nearest road node: parking, a driveway, a short walk.
ACCESS_KMH = 10.0
#: Dijkstra sources per block: bounds memory to block × nodes float64s.
BLOCK = 64


@dataclass(frozen=True, slots=True)
class RoadGraph:
    """A directed drive graph: node positions (lon, lat) and edges with driving seconds."""

    lon: np.ndarray  # (n,) float64
    lat: np.ndarray  # (n,) float64
    tail: np.ndarray  # (m,) int64: edge from
    head: np.ndarray  # (m,) int64: edge to
    seconds: np.ndarray  # (m,) float64: driving time of the edge

    def __post_init__(self) -> None:
        if not (len(self.tail) == len(self.head) == len(self.seconds)):
            raise InputError("road graph: tail, head and seconds must have one entry per edge")
        if len(self.lon) != len(self.lat):
            raise InputError("road graph: lon and lat must have one entry per node")
        if len(self.seconds) and float(self.seconds.min()) < 0:
            raise InputError("road graph: an edge has negative driving seconds")

    @property
    def nodes(self) -> int:
        """Number of nodes."""
        return len(self.lon)

    def csr(self) -> csr_matrix:
        """The graph as a sparse matrix of seconds (the fastest of parallel edges kept)."""
        n = self.nodes
        order = np.lexsort((self.seconds, self.head, self.tail))
        tail, head, secs = self.tail[order], self.head[order], self.seconds[order]
        first = np.ones(len(tail), dtype=bool)
        first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
        # a zero-second edge would vanish in a sparse matrix: give it a tiny weight
        weights = np.maximum(secs[first], 1e-3)
        return csr_matrix((weights, (tail[first], head[first])), shape=(n, n))


def edge_seconds(
    lon: np.ndarray, lat: np.ndarray, a: np.ndarray, b: np.ndarray, kmh: np.ndarray
) -> np.ndarray:
    """Driving seconds along straight segments from nodes ``a`` to nodes ``b`` at ``kmh``."""
    return _metres(lon[a], lat[a], lon[b], lat[b]) / (kmh / 3.6)


def _metres(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


class RoadMatrix:
    """Snaps points to a road graph and answers travel-second matrices between them."""

    def __init__(self, graph: RoadGraph, *, access_kmh: float = ACCESS_KMH) -> None:
        if graph.nodes == 0 or len(graph.tail) == 0:
            raise PlanningError("the road network has no drivable roads; check the extract")
        self.graph = graph
        self.access_mps = access_kmh / 3.6
        self._csr = graph.csr()
        _, labels = connected_components(self._csr, directed=True, connection="strong")
        biggest = np.bincount(labels).argmax()
        self.core = np.flatnonzero(labels == biggest)
        self._lat0 = float(np.mean(graph.lat))
        self._tree = cKDTree(self._xy(graph.lon[self.core], graph.lat[self.core]))

    def _xy(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        k = math.radians(1.0) * EARTH_RADIUS_M
        return np.column_stack([lon * k * math.cos(math.radians(self._lat0)), lat * k])

    def snap(self, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(node index, metres from the point to that node) for each point (n, 2)."""
        pts = np.asarray(lonlat, dtype=float).reshape(-1, 2)
        dist, idx = self._tree.query(self._xy(pts[:, 0], pts[:, 1]))
        return self.core[np.asarray(idx, dtype=np.int64)], np.asarray(dist, dtype=float)

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Integer travel seconds (n, n) between the points, zero diagonal."""
        nodes, off_m = self.snap(lonlat)
        len(nodes)
        access = off_m / self.access_mps
        unique, inverse = np.unique(nodes, return_inverse=True)
        drive = np.empty((len(unique), len(unique)), dtype=float)
        for start in range(0, len(unique), BLOCK):
            rows = dijkstra(self._csr, directed=True, indices=unique[start : start + BLOCK])
            drive[start : start + BLOCK] = rows[:, unique]
        if not np.isfinite(drive).all():
            raise PlanningError(
                "the road network has stops that cannot reach each other; check the extract "
                "covers every stop"
            )
        full = drive[np.ix_(inverse, inverse)] + access[:, None] + access[None, :]
        out = np.rint(full).astype(np.int64)
        same = nodes[:, None] == nodes[None, :]  # same node: only the walk-ins
        out[same] = np.rint(access[:, None] + access[None, :]).astype(np.int64)[same]
        np.fill_diagonal(out, 0)
        return out
