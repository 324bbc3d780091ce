"""Model cards: a Markdown page beside each artefact saying what it is and how good it is."""

from __future__ import annotations

from geodispatch.learn.evaluation import Evaluation
from geodispatch.learn.metrics import Estimate

_COMMON_DATA = (
    "Trained on `{data}` (SHA-256 `{sha}`), seed {seed}. The shipped artefact is refitted "
    "on every month; the figures below come from the same recipe fitted on the earlier "
    "months only and scored on the held-out later months ({split}). Intervals are 95 % "
    "(Wilson for shares, bootstrap for means and AUC)."
)


def _ward_lines(by_ward: dict[str, Estimate], what: str) -> list[str]:
    rows = [f"| ward | {what} |", "|---|---|"]
    rows += [
        f"| {w or '(none)'} | {e} |"
        for w, e in sorted(by_ward.items(), key=lambda kv: (len(kv[0]), kv[0]))
    ]
    return rows


def render_card(name: str, result: Evaluation, *, seed: int, data_sha256: str) -> str:
    """The Markdown card of model ``name`` from its held-out evaluation."""
    head = _COMMON_DATA.format(
        data=result.data_file, sha=data_sha256[:16], seed=seed, split=result.split.describe()
    )
    if name == "triage" and result.triage is not None:
        t = result.triage
        lines = [
            "# Model card: triage (service type suggestions)",
            "",
            "## Data and split",
            head,
            "",
            "## Features",
            "TF-IDF of the description (words 1-2, characters 3-4), one-hot ward, "
            "neighbourhood and channel; SGD logistic regression. Types with fewer than 5 "
            "training rows are never suggested.",
            "",
            "## Metrics (held-out months)",
            "| | model | baseline: most frequent types of the ward |",
            "|---|---|---|",
            f"| top-1 | {t.top1} | {t.baseline_top1} |",
            f"| top-3 | {t.top3} | {t.baseline_top3} |",
            f"| top-1, descriptions not equal to the type name | {t.free_text_top1} | |",
            f"| top-3, same rows | {t.free_text_top3} | |",
            "",
            "## Known failure modes",
            "- In the 2011 export the text is the case title, which for most cases is the "
            "type's own name: the high overall accuracy says little about free resident text. "
            "The 'descriptions not equal to the type name' row is the fairer figure.",
            "- Suggestions only: a call-taker confirms the type; nothing is changed silently.",
            "",
            "## Fairness by ward (top-1, held-out)",
            *_ward_lines(t.by_ward, "top-1"),
        ]
    elif name == "close_time" and result.close_time is not None:
        c = result.close_time
        lines = [
            "# Model card: time to close and breach risk",
            "",
            "## Data and split",
            head,
            "",
            "## Features",
            "Type, category, ward, channel (categorical), SLA hours, hour and weekday of "
            "arrival, open backlog of the same type and category at arrival; gradient-boosted "
            "quantile regressors (10 %, 50 %, 90 % of log hours) and a breach classifier.",
            "",
            "## Censoring",
            "Open requests have no close time. Quantile regressors keep them with their age "
            "as the target (the pinball loss only sees whether a value is above or below the "
            "quantile, so an age already past the quantile counts as the true time would) and "
            "train on rows followed up at least 28 days before the labels were read. Labels "
            "of the held-out fit are read at the split (no close time from the test months "
            "leaks in). Share of censored training rows whose age is below the predicted 90 % "
            f"quantile (the only ones that could bias it): {c.censored_below_high:.3f}.",
            "",
            "## Metrics (held-out months)",
            f"- MAE (hours, closed requests): {c.mae_hours}; baseline per-type median: "
            f"{c.baseline_mae_hours}",
            f"- 80 % interval coverage (closed requests): {c.coverage80}; never closed in the "
            f"export: {c.never_closed:,}",
            f"- breach AUC: {c.breach_auc}",
            f"- breach Brier: {c.breach_brier}; baseline (training breach rate): "
            f"{c.baseline_brier}",
            "",
            "## Calibration (held-out)",
            "| predicted | n | mean predicted | observed |",
            "|---|---|---|---|",
            *[f"| {b} | {n:,} | {p:.3f} | {o:.3f} |" for b, n, p, o in c.calibration],
            "",
            "## Known failure modes",
            "- Closing speed differs between months: intervals fitted "
            "on earlier months cover less than 80 % of later ones; see coverage above.",
            "- A queue closed in bulk (administrative closing) looks like fast work.",
            "",
            "## Fairness by ward (breach AUC, held-out)",
            *_ward_lines(c.breach_auc_by_ward, "breach AUC"),
        ]
    elif name == "duplicates" and result.duplicates is not None:
        d = result.duplicates
        lines = [
            "# Model card: duplicate scoring",
            "",
            "## Data and split",
            head,
            "",
            "## Labels and features",
            "Positive pairs: a case whose closure note calls it a duplicate and names the "
            "original case (full id or 6-digit CRM number). Candidates: same category within "
            "250 m and 45 days. Features: distance, time gap, same type, same address, word "
            "overlap of descriptions, earlier case still open, callers at the spot, type and "
            "category. Gradient-boosted classifier.",
            "",
            f"Threshold {d.threshold} chosen on the training months (best harmonic mean of "
            "recall and confirmed share).",
            "",
            "## Metrics",
            "recall: city-named pairs put in one job; confirmed: merges whose report the "
            "city's notes call a duplicate (of the job or a named member).",
            "",
            "| months | grouping | recall | confirmed share | merges |",
            "|---|---|---|---|---|",
            f"| held-out | model | {d.model.recall} | {d.model.confirmed} | {d.model.merges:,} |",
            f"| held-out | 30 m / 14 d rule | {d.rule.recall} | {d.rule.confirmed} | "
            f"{d.rule.merges:,} |",
            f"| training | model | {d.train_model.recall} | {d.train_model.confirmed} | "
            f"{d.train_model.merges:,} |",
            f"| training | 30 m / 14 d rule | {d.train_rule.recall} | {d.train_rule.confirmed} | "
            f"{d.train_rule.merges:,} |",
            "",
            "## Known failure modes",
            "- Most real repeats are never marked by the city (both closed as resolved), so "
            "the confirmed share understates precision for both groupings; no hand check of "
            "unconfirmed merges has been made yet.",
            "- Per-household types (bulk-item pickup) merge only when the score says so.",
        ]
    else:
        lines = [f"# Model card: {name}", "", "Not evaluated in this run."]
    return "\n".join(lines) + "\n"
