"""Read an OpenStreetMap extract into a directed drive graph, cached by the file's content.

``GEODISPATCH_ROAD_NETWORK`` names a ``.osm.pbf`` or ``.osm`` file (a city's extract:
see the README, "Road-network travel times"). Ways with a drivable ``highway`` tag
become edges in each direction they may be driven: ``oneway=yes/true/1`` (and
roundabouts and motorways, one-way by default) forward only, ``oneway=-1`` backward only,
so one-way streets and one-way tunnels are respected. Shape points between junctions
are contracted into one edge, so the graph holds junctions only. Speed is the way's ``maxspeed``
(km/h, or mph when it says so) else a road-class default, times a city-traffic factor.
The parsed graph is kept under ``settings.home/cache`` as a NumPy ``.npz`` (no pickle)
keyed by the SHA-256 of the file, so a new process loads it in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from geodispatch.dispatch.road_graph import RoadGraph, RoadMatrix, edge_seconds
from geodispatch.domain.errors import InputError
from geodispatch.io.tables import file_sha256

#: Free-flow speed (km/h) by OSM highway class when a way has no usable ``maxspeed``.
DEFAULT_KMH: Final = {
    "motorway": 90.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 35.0,
    "secondary": 45.0,
    "secondary_link": 30.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 35.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
}
#: Share of the posted or default speed a work truck averages in city traffic (signals,
#: turns, parking); keeps road times comparable with the straight-line model's 25 km/h.
TRAFFIC_FACTOR: Final = 0.65
#: Bumped when the cache layout or the reading rules change.
GRAPH_FORMAT: Final = 2

_NO_ACCESS = frozenset({"no", "private"})
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph)?\s*$")


def way_kmh(highway: str, maxspeed: str | None) -> float:
    """The speed of a way: its ``maxspeed`` (km/h, or mph) else the class default."""
    if maxspeed:
        found = _SPEED.match(maxspeed)
        if found:
            value = float(found.group(1)) * (1.609344 if found.group(2) else 1.0)
            if value > 0:
                return value
    return DEFAULT_KMH.get(highway, 30.0)


def directions(tags: dict[str, str]) -> tuple[bool, bool]:
    """(forward allowed, backward allowed) for a way's tags."""
    oneway = tags.get("oneway", "").lower()
    if oneway == "-1" or oneway == "reverse":
        return False, True
    if oneway in _ONEWAY_YES:
        return True, False
    if oneway == "no":
        return True, True
    implied = tags.get("junction") in {"roundabout", "circular"} or tags.get("highway") in {
        "motorway",
        "motorway_link",
    }
    return True, not implied


def read_osm(path: Path) -> RoadGraph:
    """The drive graph of an OSM file (.osm.pbf or .osm), shape points contracted.

    Graph nodes are the ends of ways and the nodes two or more ways share (junctions);
    the points between them only shape the road, so each run between two junctions
    becomes one edge with the driving seconds summed along its shape.
    """
    import osmium  # only needed when a road network is configured

    ways: list[tuple[list[int], list[float], list[float], bool, bool, float]] = []
    uses: Counter[int] = Counter()
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for way in processor.with_locations().with_filter(osmium.filter.KeyFilter("highway")):
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = {t.k: t.v for t in way.tags}
        highway = tags.get("highway", "")
        if highway not in DEFAULT_KMH:
            continue
        if tags.get("access") in _NO_ACCESS or tags.get("motor_vehicle") in _NO_ACCESS:
            continue
        forward, backward = directions(tags)
        kmh = way_kmh(highway, tags.get("maxspeed")) * TRAFFIC_FACTOR
        refs, lons, lats = [], [], []
        for n in way.nodes:
            if n.location.valid():
                refs.append(n.ref)
                lons.append(n.location.lon)
                lats.append(n.location.lat)
        if len(refs) < 2:
            continue
        ways.append((refs, lons, lats, forward, backward, kmh))
        uses.update(refs)
        uses.update((refs[0], refs[-1]))  # a way's ends are always graph nodes
    if not ways:
        raise InputError(
            f"road network {path}: no drivable ways (highway=residential, primary, ...) found; "
            "check it is an OpenStreetMap extract of the city"
        )
    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    seconds: list[float] = []
    for refs, lons, lats, forward, backward, kmh in ways:
        x, y = np.asarray(lons), np.asarray(lats)
        index = np.arange(len(refs))
        step = edge_seconds(x, y, index[:-1], index[1:], np.full(len(refs) - 1, kmh))
        run = 0.0
        last = -1
        for k, ref in enumerate(refs):
            if k:
                run += float(step[k - 1])
            if uses[ref] < 2:
                continue  # a shape point
            node = ids.get(ref)
            if node is None:
                node = ids[ref] = len(lon)
                lon.append(lons[k])
                lat.append(lats[k])
            if last >= 0 and node != last:
                if forward:
                    tails.append(last)
                    heads.append(node)
                    seconds.append(run)
                if backward:
                    tails.append(node)
                    heads.append(last)
                    seconds.append(run)
            last, run = node, 0.0
    return RoadGraph(
        np.asarray(lon),
        np.asarray(lat),
        np.asarray(tails, dtype=np.int64),
        np.asarray(heads, dtype=np.int64),
        np.asarray(seconds, dtype=float),
    )


def load_graph(path: Path, cache_dir: Path | None) -> tuple[RoadGraph, str]:
    """The file's drive graph and content hash, from the ``.npz`` cache when it holds it."""
    if not path.is_file():
        raise InputError(
            f"GEODISPATCH_ROAD_NETWORK={path} is not a file; point it at the city's "
            ".osm.pbf extract, or unset it to plan with straight-line times"
        )
    sha = file_sha256(path)
    cached = None if cache_dir is None else cache_dir / f"road-{GRAPH_FORMAT}-{sha[:32]}.npz"
    if cached is not None and cached.is_file():
        with contextlib.suppress(Exception), np.load(cached, allow_pickle=False) as data:
            return RoadGraph(
                data["lon"], data["lat"], data["tail"], data["head"], data["seconds"]
            ), sha
    graph = read_osm(path)
    if cached is not None:
        with contextlib.suppress(OSError):
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp.npz")
            np.savez(
                tmp,
                lon=graph.lon,
                lat=graph.lat,
                tail=graph.tail,
                head=graph.head,
                seconds=graph.seconds,
            )
            tmp.replace(cached)
    return graph, sha


@dataclass(frozen=True, slots=True, eq=False)
class RoadNetworkSource:
    """Travel seconds on a city's OSM road network (a :class:`MatrixSource`)."""

    name: str
    sha256: str
    matrix: RoadMatrix

    @property
    def key(self) -> str:
        """Identifies the extract by its content."""
        return f"road:{self.name}:{self.sha256[:12]}"

    def seconds(self, lonlat: np.ndarray) -> np.ndarray:
        """Travel seconds between every pair of points along the roads."""
        return self.matrix.seconds(lonlat)


@functools.lru_cache(maxsize=2)
def _source(path: Path, cache_dir: Path | None, mtime_ns: int, size: int) -> RoadNetworkSource:
    graph, sha = load_graph(path, cache_dir)
    return RoadNetworkSource(path.name, sha, RoadMatrix(graph))


def road_network_source(path: Path, cache_dir: Path | None = None) -> RoadNetworkSource:
    """The road-network source for ``path`` (kept per process while the file is unchanged)."""
    try:
        stat = path.stat()
    except OSError:
        raise InputError(
            f"GEODISPATCH_ROAD_NETWORK={path} is not a file; point it at the city's "
            ".osm.pbf extract, or unset it to plan with straight-line times"
        ) from None
    return _source(path, cache_dir, stat.st_mtime_ns, stat.st_size)
