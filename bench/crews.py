"""Benchmark crew updates: N crews in N processes post to one SQLite database at once.

Run from the project root (``make bench-crews`` or ``.venv/bin/python bench/crews.py``).
Each crew (one OS process, started with spawn so no connection crosses a fork) signs in
with its PIN, then for each of its stops posts "arrive" and "done" with the versions it
loaded, plus one replay of an old "arrive" that must be refused as stale. Afterwards the
database is checked: every post was applied or refused (none lost, none applied twice),
every applied post has its audit event, and stop versions add up. Prints throughput and
latency. Seeded; the jobs are real open Boston requests.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = ROOT / "data" / "boston" / "311_open_backlog_2025_subset.csv"
PIN = "24680"
DAY = date(2025, 6, 2)


def setup(home: Path, crews: int, stops: int) -> dict[str, list[tuple[int, int]]]:
    """Import the open backlog, group it, make crews and one published plan of stops."""
    from argon2 import PasswordHasher

    from geodispatch.config import Settings
    from geodispatch.services import dispatch, field, intake, workflow
    from geodispatch.storage.db import session_scope
    from geodispatch.storage.tables import CrewRow, JobRow, PlanRow, StopRow

    settings = Settings(home=home)
    intake.import_file(BACKLOG, settings=settings)
    workflow.group_new_requests(settings=settings)
    template = dispatch.boston_crews(settings)[0]
    dispatch.seed_crews(
        [dataclasses.replace(template, code=f"B{i:02d}", name=f"Bench {i}") for i in range(crews)],
        settings=settings,
    )
    routes: dict[str, list[tuple[int, int]]] = {}
    now = datetime.now(UTC)
    with session_scope(settings.database_url) as session:
        job_ids = session.scalars(
            select(JobRow.id)
            .where(JobRow.lon.is_not(None))
            .order_by(JobRow.id)
            .limit(crews * stops)
        ).all()
        if len(job_ids) < crews * stops:
            sys.exit(f"only {len(job_ids)} located jobs; ask for fewer crews or stops")
        plan = PlanRow(plan_date=DAY, status="published", created_at=now, created_by="bench")
        session.add(plan)
        session.flush()
        crew_ids = dict(session.execute(select(CrewRow.code, CrewRow.id)).all())
        for i in range(crews):
            code = f"B{i:02d}"
            routes[code] = []
            for k in range(stops):
                job_id = job_ids[i * stops + k]
                stop = StopRow(
                    plan_id=plan.id,
                    crew_id=crew_ids[code],
                    job_id=job_id,
                    sequence=k + 1,
                    eta=now,
                    departs_at=now,
                )
                session.add(stop)
                session.flush()
                routes[code].append((stop.id, job_id))
        plan_id = plan.id
    workflow.assign_plan_jobs(plan_id, settings=settings)
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    for code in routes:
        field.set_pin(code, PIN, settings=settings, hasher=cheap)
    return routes


def crew_worker(
    home: str, code: str, stops: list[tuple[int, int]], barrier: Any, results: Any
) -> None:
    """One crew's phone: sign in, then post arrive/done per stop and one stale replay."""
    from geodispatch.config import Settings
    from geodispatch.domain.errors import StaleVersionError
    from geodispatch.services import field

    settings = Settings(home=Path(home))
    crew = field.authenticate(code, PIN, settings=settings)
    barrier.wait()  # every crew is loaded and signed in: all start posting together
    began_all = time.time()
    applied = stale = 0
    latencies = []
    for stop_id, _job in stops:
        for outcome, version in (("arrive", 1), ("done", 2), ("arrive", 1)):
            began = time.perf_counter()
            try:
                field.record_update(
                    crew,
                    stop_id,
                    outcome,
                    expected_version=version,
                    note=f"{code} {outcome}",
                    settings=settings,
                )
                applied += 1
            except StaleVersionError:
                stale += 1
            latencies.append(time.perf_counter() - began)
    results.put(
        {
            "applied": applied,
            "stale": stale,
            "latencies": latencies,
            "began": began_all,
            "ended": time.time(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--crews", type=int, default=50)
    parser.add_argument("--stops", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crews-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        routes = setup(home, args.crews, args.stops)
        print(f"setup: {args.crews} crews x {args.stops} stops in {time.perf_counter() - t0:.1f} s")
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(args.crews)
        queue = context.Queue()
        workers = [
            context.Process(target=crew_worker, args=(str(home), code, stops, barrier, queue))
            for code, stops in routes.items()
        ]
        for w in workers:
            w.start()
        results = [queue.get(timeout=600) for _ in workers]
        for w in workers:
            w.join()
        wall = max(float(r["ended"]) for r in results) - min(float(r["began"]) for r in results)
        applied = sum(int(r["applied"]) for r in results)  # type: ignore[call-overload]
        stale = sum(int(r["stale"]) for r in results)  # type: ignore[call-overload]
        latencies = sorted(x for r in results for x in r["latencies"])  # type: ignore[attr-defined]
        attempts = args.crews * args.stops * 3

        from geodispatch.config import Settings
        from geodispatch.storage.db import session_scope
        from geodispatch.storage.tables import JobRow, StatusEventRow, StopRow

        settings = Settings(home=home)
        with session_scope(settings.database_url) as session:
            events = session.scalar(
                select(func.count())
                .select_from(StatusEventRow)
                .where(StatusEventRow.stop_id.is_not(None))
            )
            versions = session.scalar(select(func.sum(StopRow.version)))
            done_stops = session.scalar(
                select(func.count()).select_from(StopRow).where(StopRow.status == "done")
            )
            completed = session.scalar(
                select(func.count())
                .select_from(JobRow)
                .join(StopRow, StopRow.job_id == JobRow.id)
                .where(JobRow.status == "completed")
            )
        n_stops = args.crews * args.stops
        checks = {
            "every post applied or refused as stale": applied + stale == attempts,
            "no replay applied": stale == n_stops,
            "every applied post in the audit log": events == applied,
            "stop versions add up": versions == n_stops + applied,
            "every stop done and its job completed": done_stops == completed == n_stops,
        }
        print(
            f"{args.crews} crew processes, {attempts} posts in {wall:.2f} s "
            f"({attempts / wall:.0f} posts/s): {applied} applied, {stale} refused as stale"
        )
        print(
            f"latency per post: median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {latencies[int(0.95 * len(latencies))] * 1000:.0f} ms, "
            f"max {latencies[-1] * 1000:.0f} ms"
        )
        for name, ok in checks.items():
            print(f"  {'ok ' if ok else 'FAIL'} {name}")
        if not all(checks.values()):
            sys.exit(1)


if __name__ == "__main__":
    main()
