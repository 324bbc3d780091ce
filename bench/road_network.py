"""Road-network bench: read an OSM extract, snap 1,000 stops, compute their travel matrix.

No real Boston extract can be downloaded on the build machine, so the bench writes a
generated city network as an ``.osm.pbf`` (``--nodes`` nodes, 100,000 by default): a
street grid over Boston's bounding box, ``--shape`` shape points on each block side (most
nodes of a real OSM extract only draw a street's curve), every other street one-way,
an arterial every tenth street, and a harbour line that only ``--bridges`` bridges
cross. It then times, wall and CPU (``time.process_time``):

1. reading the extract (first load: osmium parse + graph build, then the ``.npz`` cache);
2. building the matrix source (strongly connected core, snapping index);
3. the many-to-many matrix for ``--stops`` random stops (Dijkstra per distinct node).

With ``--plan-demo`` it also plans one day of Boston's 2025 backlog (first N jobs, the
20-crew roster) with the straight-line matrix and with the generated network, and prints
both plans' total driving side by side, each measured under both matrices. The network
is generated, not Boston's roads: the figures show the mechanism, not Boston's times.

Run: ``PYTHONPATH=src python bench/road_network.py [--nodes 100000 --stops 1000]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from geodispatch.dispatch.matrix import MatrixCache, StraightLineSource
from geodispatch.io.road_network import load_graph, road_network_source

WEST, EAST, SOUTH, NORTH = -71.19, -70.99, 42.23, 42.40
HARBOUR_LAT = 42.355  # streets crossing this latitude are cut except at the bridges


def write_grid_pbf(path: Path, nodes: int, bridges: int, shape: int) -> tuple[int, int]:
    """Write the generated network; returns (nodes, ways) written.

    Junctions form a square grid; each block side carries ``shape`` shape points (as OSM
    streets do: most nodes of a real extract only draw the road's curve).
    """
    import osmium

    side = math.isqrt(int(nodes / (1 + 2 * shape)))
    lons = np.linspace(WEST, EAST, side)
    lats = np.linspace(SOUTH, NORTH, side)
    bridge_cols = set(np.linspace(side // 8, side - side // 8, bridges).astype(int).tolist())
    cut_row = int(np.searchsorted(lats, HARBOUR_LAT))
    next_id = side * side + 1
    written = side * side
    writer = osmium.SimpleWriter(str(path), overwrite=True)

    def junction(r: int, c: int) -> int:
        return r * side + c + 1

    def street(cells: list[tuple[int, int]]) -> list[int]:
        """Node ids along junctions ``cells`` with shape points between each pair."""
        nonlocal next_id, written
        refs = [junction(*cells[0])]
        for (r0, c0), (r1, c1) in itertools.pairwise(cells):
            for k in range(1, shape + 1):
                t = k / (shape + 1)
                lon = lons[c0] + t * (lons[c1] - lons[c0])
                lat = lats[r0] + t * (lats[r1] - lats[r0])
                jitter = 0.00005 * math.sin(next_id)  # a street is never quite straight
                writer.add_node(
                    osmium.osm.mutable.Node(
                        id=next_id, location=(float(lon + jitter), float(lat + jitter))
                    )
                )
                refs.append(next_id)
                next_id += 1
                written += 1
            refs.append(junction(r1, c1))
        return refs

    way_id = 1
    try:
        for r in range(side):
            for c in range(side):
                writer.add_node(
                    osmium.osm.mutable.Node(
                        id=junction(r, c), location=(float(lons[c]), float(lats[r]))
                    )
                )
        for r in range(side):  # east-west streets: alternate one-way directions
            tags = {"highway": "primary" if r % 10 == 0 else "residential"}
            if r % 10:
                tags["oneway"] = "yes" if r % 2 else "-1"
            refs = street([(r, c) for c in range(side)])
            writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
            way_id += 1
        for c in range(side):  # north-south streets, cut at the harbour but for bridges
            tags = {"highway": "primary" if c % 10 == 0 else "residential"}
            rows = list(range(side))
            pieces = [rows] if c in bridge_cols else [rows[: cut_row - 1], rows[cut_row:]]
            for piece in pieces:
                if len(piece) >= 2:
                    refs = street([(r, c) for r in piece])
                    writer.add_way(osmium.osm.mutable.Way(id=way_id, nodes=refs, tags=tags))
                    way_id += 1
    finally:
        writer.close()
    return written, way_id - 1


def timed(label: str, work):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    print(
        f"{label:<44} {time.perf_counter() - wall:7.2f} s wall  "
        f"{time.process_time() - cpu:7.2f} s CPU"
    )
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--stops", type=int, default=1_000)
    parser.add_argument("--bridges", type=int, default=3)
    parser.add_argument("--shape", type=int, default=2, help="shape points per block side")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--plan-demo", type=int, default=0, help="jobs of the 2025 backlog")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pbf = folder / "generated.osm.pbf"
        n, ways = timed(
            "write generated extract",
            lambda: write_grid_pbf(pbf, args.nodes, args.bridges, args.shape),
        )
        print(f"  {n:,} nodes, {ways:,} ways, {pbf.stat().st_size / 1e6:.1f} MB")
        cache = folder / "cache"
        graph, _ = timed("read extract (osmium, first load)", lambda: load_graph(pbf, cache))
        print(
            f"  {graph.nodes:,} junction nodes (shape points contracted), "
            f"{len(graph.tail):,} directed edges"
        )
        timed("read extract (from the .npz cache)", lambda: load_graph(pbf, cache))
        source = timed(
            "matrix source (core, snapping index)", lambda: road_network_source(pbf, cache)
        )
        stops = np.column_stack(
            [rng.uniform(WEST, EAST, args.stops), rng.uniform(SOUTH, NORTH, args.stops)]
        )
        road = timed(f"matrix {args.stops:,} × {args.stops:,} stops", lambda: source.seconds(stops))
        line = StraightLineSource().seconds(stops)
        off = ~np.eye(len(stops), dtype=bool)
        ratio = road[off] / np.maximum(line[off], 1)
        asym = np.abs(road - road.T)[off]
        print(
            f"  road / straight-line time: median {np.median(ratio):.2f}, "
            f"90th pct {np.percentile(ratio, 90):.2f}; pairs with A→B ≠ B→A: "
            f"{(asym > 0).mean():.0%} (median gap {np.median(asym[asym > 0]):.0f} s)"
        )
        if args.plan_demo:
            plan_demo(args.plan_demo, source)


def plan_demo(jobs: int, road) -> None:  # type: ignore[no-untyped-def]
    """Plan the first ``jobs`` of the 2025 backlog with both matrices; print the driving."""
    import csv
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from geodispatch.config import Settings
    from geodispatch.dispatch.planner import PlanRequest, plan_routes
    from geodispatch.dispatch.solver import SolveParams
    from geodispatch.domain.plans import WorkOrder
    from geodispatch.domain.requests import Priority
    from geodispatch.services.dispatch import boston_crews

    tz = ZoneInfo("America/New_York")
    day = date(2025, 5, 20)
    path = Path(__file__).resolve().parents[1] / "data/boston/311_open_backlog_2025_subset.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["longitude"] and r["latitude"]][:jobs]
    orders = [
        WorkOrder(
            job_id=i + 1,
            service_code=r["type"],
            title=r["type"],
            address=r["location"],
            lon=float(r["longitude"]),
            lat=float(r["latitude"]),
            skill="general",
            service_minutes=30,
            priority=Priority.P3,
            created_at=datetime.fromisoformat(r["open_dt"]).replace(tzinfo=tz),
        )
        for i, r in enumerate(rows)
    ]
    crews = boston_crews(Settings(data_dir=Path(__file__).resolve().parents[1] / "data"))
    straight = StraightLineSource()
    plans = {}
    for name, source in (("straight line", straight), ("generated road network", road)):
        plan, _ = plan_routes(
            PlanRequest(orders, crews, day, tz),
            solve=SolveParams(time_limit_s=5.0),
            source=source,
            cache=MatrixCache(),
        )
        plans[name] = plan
    print(f"\nplan of {jobs} backlog jobs, 20 crews; driving hours measured under each matrix:")
    print(f"{'planned with':<26}{'served':>8}{'straight-line h':>18}{'road h':>10}")
    for name, plan in plans.items():
        cells = []
        for source in (straight, road):
            secs = 0
            for route in plan.routes:
                pts = [(route.start_lon, route.start_lat)]
                pts += [(s.order.lon, s.order.lat) for s in route.stops]
                pts += [(route.crew.depot.lon, route.crew.depot.lat)]
                m = source.seconds(np.asarray(pts, dtype=float))
                secs += int(sum(m[i, i + 1] for i in range(len(pts) - 1)))
            cells.append(secs / 3600)
        print(f"{name:<26}{plan.served:>8}{cells[0]:>18.1f}{cells[1]:>10.1f}")


if __name__ == "__main__":
    main()
