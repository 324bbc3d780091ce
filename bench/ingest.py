"""Benchmark intake: Boston 2011 import time, and a seeded 1M-row file (time, peak memory).

Run from the project root (``make bench-ingest`` or ``.venv/bin/python bench/ingest.py``).
Each measurement runs in a fresh child process against a fresh SQLite database, so peak
memory (ru_maxrss of the child) covers exactly one import. Goals (issue 2): Boston 2011
≤ 5 s; 1M rows ≤ 60 s with peak memory ≤ 2 GB.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BOSTON_2011 = ROOT / "data" / "boston" / "311_service_requests_2011.csv.gz"
OUTPUT = ROOT / "bench" / "output"


def make_synthetic(rows: int, seed: int, path: Path) -> Path:
    """Write a Boston-layout CSV of ``rows`` records resampled from the 2011 file.

    Ids are new and unique; open times are spread over two years; 0.5 % of rows get a
    planted defect (bad date, text in a coordinate, empty type) so rejects are exercised.
    """
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    template = pd.read_csv(BOSTON_2011, dtype=str, keep_default_na=False)
    picks = rng.integers(0, len(template), size=rows)
    opened = pd.Timestamp("2010-01-01") + pd.to_timedelta(
        rng.integers(0, 2 * 365 * 86400, size=rows), unit="s"
    )
    defects = rng.random(rows) < 0.005
    kinds = rng.integers(0, 3, size=rows)
    cols = list(template.columns)
    i_id, i_open, i_lat, i_type = (
        cols.index(c) for c in ("case_enquiry_id", "open_dt", "latitude", "type")
    )
    i_target, i_closed = cols.index("target_dt"), cols.index("closed_dt")
    values = template.to_numpy(dtype=object)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(cols)
        open_text = opened.strftime("%Y-%m-%d %H:%M:%S")
        for n in range(rows):
            row = list(values[picks[n]])
            row[i_id] = str(300_000_000_000 + n)
            row[i_open] = open_text[n]
            row[i_target] = row[i_closed] = ""
            if defects[n]:
                if kinds[n] == 0:
                    row[i_open] = "31/02/2011 25:00"
                elif kinds[n] == 1:
                    row[i_lat] = "forty-two"
                else:
                    row[i_type] = ""
            writer.writerow(row)
    tmp.rename(path)
    return path


def run_child(path: Path, db: Path) -> dict[str, float]:
    """Import ``path`` in a fresh process; return its seconds, rows and peak RSS."""
    env = dict(os.environ, GEODISPATCH_DB_URL=f"sqlite:///{db}", GEODISPATCH_HOME=str(db.parent))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(path: Path) -> None:
    from geodispatch.config import get_settings
    from geodispatch.services.intake import import_file
    from geodispatch.storage.db import upgrade

    upgrade(get_settings().database_url)  # schema creation is not part of the import
    start = time.perf_counter()
    summary = import_file(path)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows_read": summary.rows_read,
                "accepted": summary.accepted,
                "rejected": summary.rejected,
                "inserted": summary.inserted,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(
        "intake benchmark (fresh process and database per run; median of repeats; the runs "
        "share one home folder, so the first builds the address index and area grids and "
        "caches them, as an installation's first import does)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = [run_child(BOSTON_2011, Path(tmp) / f"b{i}.db") for i in range(args.repeats)]
        again = runs[-1]
        secs = sorted(r["seconds"] for r in runs)
        print(
            f"Boston 2011: {again['rows_read']:,} rows read, {again['accepted']:,} accepted, "
            f"{again['rejected']:,} rejected; import {secs[len(secs) // 2]:.2f} s median "
            f"(runs {', '.join(f'{s:.2f}' for s in secs)}; first run, cold cache "
            f"{runs[0]['seconds']:.2f} s; goal ≤ 5 s); peak {again['peak_mb']:.0f} MB"
        )
        if args.skip_large:
            return
        big = make_synthetic(
            args.rows, args.seed, OUTPUT / f"synthetic_{args.rows}_{args.seed}.csv"
        )
        r = run_child(big, Path(tmp) / "big.db")
        print(
            f"synthetic {args.rows:,} rows (seed {args.seed}): {r['rows_read']:,} read, "
            f"{r['accepted']:,} accepted, {r['rejected']:,} rejected; import "
            f"{r['seconds']:.1f} s (goal ≤ 60 s), peak memory {r['peak_mb']:.0f} MB "
            f"(goal ≤ 2048 MB)"
        )


if __name__ == "__main__":
    main()
