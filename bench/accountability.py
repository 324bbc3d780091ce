"""Closed means fixed, measured: the note classifier and the Boston 2011 accountability figures.

1. Precision and recall per class of the closure-note classifier on the labelled sample
   (``tests/data/boston_closure_notes_labelled.csv``), on the strata read while writing the
   rules and, apart, on the held-out strata never tuned on; 95 % Wilson intervals; beside
   it the mapping before issue 23 (three patterns over the status), compared by status.
2. Boston 2011 imported into a fresh database through the product's import: completed
   count before (old patterns) and after, no-action and duplicate counts, duplicates
   linked to the case their note cites, and re-reports within 30 days of a completion by
   type (same type, 50 m; and with related types).

    .venv/bin/python bench/accountability.py            # ~2 min on 2 cores
    .venv/bin/python bench/accountability.py --home var  # reuse an imported database
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geodispatch.analysis.equity import wilson  # noqa: E402
from geodispatch.analysis.recurrence import RecurrenceParams  # noqa: E402
from geodispatch.domain.requests import RequestStatus  # noqa: E402
from geodispatch.intake.closure_notes import ClosureClass, ClosureRules, classify  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "boston_closure_notes_labelled.csv"
BOSTON = ROOT / "data" / "boston" / "311_service_requests_2011.csv.gz"

#: The city-export mapping before issue 23 (``intake/city_export.py`` at the time), kept
#: here as the baseline: duplicate, no-action and not-the-city patterns over the first
#: 160 characters of the note; everything else closed was completed.
BASELINE = (
    (
        r"case referred|roa:|refer(?:red)? to other agency|not (?:a )?city",
        RequestStatus.CLOSED_NOT_CITY,
    ),
    (
        r"case invalid|case noted|novio|no violation|adclsd|administratively closed|"
        r"noacc|no access|tenant failed|unable to locate|could not (?:locate|find)",
        RequestStatus.CLOSED_NO_ACTION,
    ),
    (
        r"duplicate|case exists already|already (?:been )?(?:reported|exists)",
        RequestStatus.CLOSED_DUPLICATE,
    ),
)


def baseline_status(notes: pd.Series) -> pd.Series:
    """Status by the old mapping (later patterns overwrite earlier ones, as it did)."""
    text = notes.fillna("").str.slice(0, 160)
    out = pd.Series(RequestStatus.COMPLETED.value, index=notes.index, dtype=object)
    for pattern, status in BASELINE:
        out[text.str.contains(pattern, case=False, regex=True)] = status.value
    return out


def per_class(truth: pd.Series, predicted: pd.Series, labels: list[str]) -> pd.DataFrame:
    """Precision and recall per label with 95 % Wilson intervals."""
    rows = []
    for label in labels:
        said = predicted == label
        real = truth == label
        hits = int((said & real).sum())
        p_low, p_high = wilson(np.array([hits]), np.array([int(said.sum())]))
        r_low, r_high = wilson(np.array([hits]), np.array([int(real.sum())]))
        rows.append(
            {
                "class": label,
                "labelled": int(real.sum()),
                "predicted": int(said.sum()),
                "precision": hits / said.sum() if said.sum() else np.nan,
                "p 95% CI": _ci(p_low[0], p_high[0]),
                "recall": hits / real.sum() if real.sum() else np.nan,
                "r 95% CI": _ci(r_low[0], r_high[0]),
            }
        )
    return pd.DataFrame(rows)


def _ci(low: float, high: float) -> str:
    return "–" if np.isnan(low) else f"{low:.2f}–{high:.2f}"


def classifier_report(rules: ClosureRules) -> None:
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    sample["predicted"] = classify(sample["note"], rules)
    sample["held_out"] = sample["stratum"].str.startswith("heldout")
    to_status = {c.value: c.status.value for c in ClosureClass}
    sample["true_status"] = sample["label"].map(to_status)
    sample["new_status"] = sample["predicted"].map(to_status)
    sample["old_status"] = baseline_status(sample["note"])
    labels = [c.value for c in ClosureClass]
    statuses = [s.value for s in RequestStatus if not s.is_open]
    print(f"== Closure-note classifier: {len(sample)} labelled Boston notes ==")
    for name, part in (
        ("rule-writing strata (read while writing the rules)", sample[~sample["held_out"]]),
        ("HELD-OUT strata (never tuned on)", sample[sample["held_out"]]),
    ):
        exact = (part["predicted"] == part["label"]).mean()
        new_ok = (part["new_status"] == part["true_status"]).mean()
        old_ok = (part["old_status"] == part["true_status"]).mean()
        print(f"\n-- {name}: {len(part)} notes; class accuracy {exact:.1%}")
        print(f"   status accuracy: classifier {new_ok:.1%}, old mapping {old_ok:.1%}")
        print(per_class(part["label"], part["predicted"], labels).to_string(index=False))
        print("   by status (classifier | old mapping):")
        new = per_class(part["true_status"], part["new_status"], statuses)
        old = per_class(part["true_status"], part["old_status"], statuses)
        both = new[["class", "labelled", "precision", "recall"]].merge(
            old[["class", "precision", "recall"]], on="class", suffixes=("", " old")
        )
        print(both.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    uniform = sample[sample["stratum"] == "heldout_uniform"]
    print(
        f"\nheld-out uniform stratum alone ({len(uniform)} notes, representative of all "
        f"closures): class accuracy {(uniform['predicted'] == uniform['label']).mean():.1%}; "
        f"status accuracy {(uniform['new_status'] == uniform['true_status']).mean():.1%} "
        f"(old mapping {(uniform['old_status'] == uniform['true_status']).mean():.1%})"
    )


def boston_report(home: Path, *, reuse: bool) -> None:
    os.environ["GEODISPATCH_HOME"] = str(home)
    os.environ["GEODISPATCH_WARM_UP"] = "false"
    from geodispatch.config import get_settings
    from geodispatch.services import closures
    from geodispatch.services.intake import import_file

    get_settings.cache_clear()
    raw = pd.read_csv(
        BOSTON, dtype=str, keep_default_na=False, usecols=["case_status", "closure_reason", "type"]
    )
    closed = raw["case_status"].str.lower().str.startswith("closed")
    before = baseline_status(raw.loc[closed, "closure_reason"])
    old = before.value_counts()
    print(f"\n== Boston 2011: {len(raw):,} requests, {int(closed.sum()):,} closed ==")
    if not reuse:
        wall, cpu = time.perf_counter(), time.process_time()
        summary = import_file(BOSTON)
        print(
            f"import: {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s "
            f"CPU (geocoding, wards, jobs, closure rules); closures: {summary.closures.describe()}"
        )
    wall, cpu = time.perf_counter(), time.process_time()
    counts = closures.closure_summary().counts
    facts = closures.recurrence_facts(get_settings())
    same = closures.recurrence(RecurrenceParams(50.0, 30.0), facts=facts)
    related = closures.recurrence(RecurrenceParams(50.0, 30.0, related=True), facts=facts)
    took = time.perf_counter() - wall, time.process_time() - cpu
    no_action = sum(
        n for c, n in counts.by_class.items() if c.status is RequestStatus.CLOSED_NO_ACTION
    )
    completed = counts.by_class.get(ClosureClass.COMPLETED, 0)
    old_no_action = int(old.get(RequestStatus.CLOSED_NO_ACTION.value, 0))
    print(f"{'':36}{'old mapping':>14}{'closure rules':>16}")
    for label, old_n, new_n in (
        ("completed", int(old.get("completed", 0)), completed),
        ("no action (all reasons)", old_no_action, no_action),
        (
            "duplicate",
            int(old.get(RequestStatus.CLOSED_DUPLICATE.value, 0)),
            counts.by_class.get(ClosureClass.DUPLICATE, 0),
        ),
        (
            "not the city's",
            int(old.get(RequestStatus.CLOSED_NOT_CITY.value, 0)),
            counts.by_class.get(ClosureClass.NOT_CITY, 0),
        ),
    ):
        print(f"{label:36}{old_n:>14,}{new_n:>16,}")
    print(
        "no action by reason: "
        + ", ".join(
            f"{c.value} {counts.by_class.get(c, 0):,}"
            for c in ClosureClass
            if c.status is RequestStatus.CLOSED_NO_ACTION
        )
    )
    print(f"duplicates linked to the stored case their note cites: {counts.duplicates_linked:,}")
    from geodispatch.services.closures import closure_rules

    after = classify(raw.loc[closed, "closure_reason"], closure_rules(get_settings()))
    moved = (before == RequestStatus.COMPLETED.value) & (after != ClosureClass.COMPLETED.value)
    vehicles = raw.loc[closed, "type"] == "Abandoned Vehicles"
    print(
        f"stored as completed by the old mapping, closed without work by the notes: "
        f"{int(moved.sum()):,} (abandoned vehicles {int((moved & vehicles).sum()):,}); by class: "
        + ", ".join(f"{k} {v:,}" for k, v in after[moved].value_counts().items())
    )
    back = (before != RequestStatus.COMPLETED.value) & (after == ClosureClass.COMPLETED.value)
    print(
        f"counted as not fixed by the old mapping, completed by the notes: {int(back.sum()):,} "
        "(mostly 'Case Noted' followed by the work done, e.g. 'Case Noted cart delivered')"
    )
    print(
        f"\nre-reports within 30 days and 50 m of a completion (same type): {same.rereported:,} of "
        f"{same.completed:,} located completions ({same.rereported / same.completed:.1%}); "
        f"with related types (catalogue category): {related.rereported:,} "
        f"({related.rereported / related.completed:.1%})"
    )
    print(f"(figures and both re-report runs: {took[0]:.1f} s wall, {took[1]:.1f} s CPU)")
    table = same.by("service_name")
    print(
        table[table["rereported"] > 0]
        .head(25)
        .to_string(index=False, float_format=lambda v: f"{v:.1%}")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="GEODISPATCH_HOME holding an imported database")
    parser.add_argument("--classifier-only", action="store_true")
    args = parser.parse_args()
    classifier_report(ClosureRules.load())
    if args.classifier_only:
        return
    if args.home is not None:
        boston_report(args.home, reuse=True)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-accountability-") as home:
            boston_report(Path(home), reuse=False)


if __name__ == "__main__":
    main()
