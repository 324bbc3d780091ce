"""Held-out figures of the learned models against their baselines (issue 24's checks).

Fits each model on the export's months before the last two (July-October 2011 for the
bundled data; every choice, including the duplicate threshold, is made on those months)
and scores November-December, which nothing was tuned on.

    PYTHONPATH=src python bench/models.py [--data FILE] [--seed N] [--test-months 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from geodispatch.learn.evaluation import model_jobs, score_grouping
from geodispatch.services import models

CHECKS = {
    "coverage": (0.75, 0.85),
    "auc": 0.8,
    "recall": 0.85,
    "confirmed": 0.9,
}


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=Path("data/boston/311_service_requests_2011.csv.gz")
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-months", type=int, default=2)
    args = parser.parse_args()

    wall, cpu = time.perf_counter(), time.process_time()
    stages: list[tuple[str, float, float]] = []

    def say(stage: str) -> None:
        stages.append((stage, time.perf_counter() - wall, time.process_time() - cpu))

    fitted = models.fit_on_split(
        args.data, seed=args.seed, test_months=args.test_months, progress=say
    )
    result = models.evaluate(fitted, args.data, progress=say)
    say("done")
    print(f"data {args.data.name}, seed {args.seed}; {result.split.describe()}")
    print("tuned on: training months only; every figure below is on the held-out months\n")

    t = result.triage
    assert t is not None
    print("TRIAGE (top-k accuracy, Wilson 95 % CI)")
    print(f"  top-1  model {t.top1}   baseline (ward's most frequent) {t.baseline_top1}")
    print(f"  top-3  model {t.top3}   baseline {t.baseline_top3}")
    print(
        f"  rows whose text is not the type's own name: top-1 {t.free_text_top1}, "
        f"top-3 {t.free_text_top3}"
    )

    c = result.close_time
    assert c is not None
    low, high = CHECKS["coverage"]
    print("\nTIME TO CLOSE (held-out requests closed by the export's end)")
    print(
        f"  MAE hours   model {c.mae_hours}   baseline (type median) {c.baseline_mae_hours}"
        f"  {_mark(c.mae_hours.value < c.baseline_mae_hours.value)}"
    )
    print(
        f"  80 % interval coverage {c.coverage80}  target {low}-{high} "
        f"{_mark(low <= c.coverage80.value <= high)}; never closed: {c.never_closed:,}"
    )
    print(
        f"  breach AUC {c.breach_auc}  target >= {CHECKS['auc']} "
        f"{_mark(c.breach_auc.value >= CHECKS['auc'])}"
    )
    print(f"  breach Brier model {c.breach_brier}   baseline (training rate) {c.baseline_brier}")
    print(
        "  calibration: "
        + "; ".join(
            f"{b}: n={n:,} predicted {p:.2f} observed {o:.2f}" for b, n, p, o in c.calibration
        )
    )
    print(
        f"  censored training rows below the predicted 90 % quantile: {c.censored_below_high:.3f}"
    )

    d = result.duplicates
    assert d is not None
    print(f"\nDUPLICATES (threshold {d.threshold} chosen on the training months)")
    print(
        f"  held-out recall on city-named pairs  model {d.model.recall}   "
        f"rule 30 m / 14 d {d.rule.recall}  target >= {CHECKS['recall']} "
        f"{_mark(d.model.recall.value >= CHECKS['recall'])}"
    )
    print(
        f"  held-out merges the city calls duplicates  model {d.model.confirmed} "
        f"({d.model.merges:,} merges)   rule {d.rule.confirmed} ({d.rule.merges:,} merges)  "
        f"target >= {CHECKS['confirmed']} {_mark(d.model.confirmed.value >= CHECKS['confirmed'])}"
    )
    print(
        f"  training months: model recall {d.train_model.recall}, confirmed "
        f"{d.train_model.confirmed}; rule recall {d.train_rule.recall}, confirmed "
        f"{d.train_rule.confirmed}"
    )
    print("  no hand check of unconfirmed merges was made (confirmed = city notes only)")
    test = fitted.split.test(fitted.frame).reset_index(drop=True)
    print("  held-out sweep, for reading only (not used to choose the threshold):")
    for threshold in (0.05, 0.1, 0.2, 0.3):
        s = score_grouping(test, model_jobs(test, fitted.duplicates, threshold))
        print(
            f"    {threshold:.2f}: recall {s.recall}  confirmed {s.confirmed}  merges {s.merges:,}"
        )

    print("\nstage timings (cumulative wall s / CPU s):")
    for stage, w, p in stages:
        print(f"  {stage:<28} {w:7.1f} {p:7.1f}")


if __name__ == "__main__":
    main()
