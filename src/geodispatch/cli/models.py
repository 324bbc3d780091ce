"""``geodispatch models ...``: train, evaluate and show the learned models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors, progress_bar
from geodispatch.config import get_settings
from geodispatch.learn.evaluation import Evaluation
from geodispatch.services import models as service

app = typer.Typer(
    help="Learned models: triage suggestions, time to close, duplicate scoring.",
    no_args_is_help=True,
)

DEFAULT_DATA = Path("data/boston/311_service_requests_2011.csv.gz")
DataOption = Annotated[Path, typer.Option("--data", help="city 311 export (Boston layout)")]
SeedOption = Annotated[int, typer.Option("--seed", help="random seed (training is reproducible)")]
MonthsOption = Annotated[
    int, typer.Option("--test-months", help="last calendar months held out for evaluation")
]
ModelOption = Annotated[
    list[service.ModelName] | None, typer.Option("--model", help="model to train (repeatable)")
]


def _print(result: Evaluation) -> None:
    console.print(Text(f"time split: {result.split.describe()}"))
    table = Table("model", "figure", "model (95 % CI)", "baseline (95 % CI)")
    if result.triage is not None:
        t = result.triage
        table.add_row("triage", "top-1", str(t.top1), str(t.baseline_top1))
        table.add_row("triage", "top-3", str(t.top3), str(t.baseline_top3))
        table.add_row("triage", "top-1, free text", str(t.free_text_top1), "")
    if result.close_time is not None:
        c = result.close_time
        table.add_row("close_time", "MAE hours", str(c.mae_hours), str(c.baseline_mae_hours))
        table.add_row("close_time", "80 % coverage", str(c.coverage80), "")
        table.add_row("close_time", "breach AUC", str(c.breach_auc), "")
        table.add_row("close_time", "breach Brier", str(c.breach_brier), str(c.baseline_brier))
    if result.duplicates is not None:
        d = result.duplicates
        table.add_row("duplicates", "recall (named pairs)", str(d.model.recall), str(d.rule.recall))
        table.add_row(
            "duplicates", "confirmed share", str(d.model.confirmed), str(d.rule.confirmed)
        )
    console.print(table)


@app.command("train")
@friendly_errors
def train_command(
    data: DataOption = DEFAULT_DATA,
    out: Annotated[Path | None, typer.Option("--out", help="models folder")] = None,
    seed: SeedOption = 0,
    test_months: MonthsOption = 2,
    model: ModelOption = None,
) -> None:
    """Evaluate on a time split, refit on all months, write artefacts and model cards."""
    folder = out or get_settings().models_dir
    chosen = tuple(model or service.ModelName)
    with progress_bar("training") as step:
        done = [0]

        def say(stage: str) -> None:
            done[0] += 1
            console.print(Text(f"· {stage}"))
            step(done[0], None)

        result = service.train(
            data, folder, seed=seed, test_months=test_months, models=chosen, progress=say
        )
    _print(result)
    console.print(Text(f"wrote {', '.join(str(m) for m in chosen)} to {folder}/"))


@app.command("evaluate")
@friendly_errors
def evaluate_command(
    data: DataOption = DEFAULT_DATA,
    seed: SeedOption = 0,
    test_months: MonthsOption = 2,
    model: ModelOption = None,
) -> None:
    """Fit on the earlier months and print held-out figures beside baselines (writes nothing)."""
    chosen = tuple(model or service.ModelName)
    with progress_bar("evaluating") as step:
        done = [0]

        def say(stage: str) -> None:
            done[0] += 1
            step(done[0], None)

        fitted = service.fit_on_split(
            data, seed=seed, test_months=test_months, models=chosen, progress=say
        )
        result = service.evaluate(fitted, data, progress=say)
    _print(result)


@app.command("show")
@friendly_errors
def show_command(
    folder: Annotated[Path | None, typer.Option("--dir", help="models folder")] = None,
) -> None:
    """List the models in the folder, what they were trained on, and whether they load."""
    table = Table("model", "status", "trained", "data", "seed", "sklearn")
    for info in service.show(folder):
        m = info.manifest
        if info.problem:
            status = f"refused: {info.problem}"
        else:
            status = "ok" if info.present else "absent (rule / no suggestion)"
        table.add_row(
            info.name,
            Text(status),
            m.trained_at if m else "",
            f"{m.data_file} {m.data_sha256[:12]}" if m else "",
            str(m.seed) if m else "",
            m.sklearn_version if m else "",
        )
    console.print(table)
