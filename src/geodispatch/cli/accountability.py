"""Accountability commands: ``sla closures|rereports|equity``, ``report``, ``jobs closures``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.analysis.recurrence import RecurrenceParams
from geodispatch.cli.common import console, friendly_errors
from geodispatch.config import get_settings
from geodispatch.domain.requests import RequestStatus
from geodispatch.intake.closure_notes import ClosureClass
from geodispatch.reporting.ward_report import equity_geojson
from geodispatch.services import closures, reports
from geodispatch.services.hotspots import ward_outlines

report_app = typer.Typer(help="Reports for council offices.", no_args_is_help=True)


def register(app: typer.Typer, *, sla_app: typer.Typer, jobs_app: typer.Typer) -> None:
    """Add the commands: three under ``sla``, one under ``jobs``, and the ``report`` group."""
    sla_app.command("closures")(sla_closures)
    sla_app.command("rereports")(sla_rereports)
    sla_app.command("equity")(sla_equity)
    jobs_app.command("closures")(jobs_closures)
    app.add_typer(report_app, name="report")


@friendly_errors
def sla_closures(
    apply: Annotated[
        bool, typer.Option(help="read every stored note again with the current rules first")
    ] = False,
    types: Annotated[int, typer.Option(help="how many types to list")] = 15,
) -> None:
    """What closed requests' notes say: completed, no action (and why), duplicate, elsewhere."""
    summary = closures.closure_summary(apply=apply)
    counts = summary.counts
    table = Table("outcome", "requests", "share", title=f"closures (rules: {summary.rules_name})")
    for cls in ClosureClass:
        n = counts.by_class.get(cls, 0)
        share = n / counts.closed if counts.closed else 0.0
        table.add_row(cls.label, f"{n:,}", f"{share:.1%}")
    table.add_row("[bold]all closed[/]", f"{counts.closed:,}", "")
    console.print(table)
    console.print(
        f"closed without work: {counts.without_work:,}; duplicates linked to the case their "
        f"note cites: {counts.duplicates_linked:,}"
        + (f" of {counts.duplicates_cited:,} citing one" if apply else ""),
        highlight=False,
    )
    if apply:
        console.print(f"statuses corrected: {counts.status_changed:,}", highlight=False)
    groups = {
        "completed": [ClosureClass.COMPLETED],
        "no action": [c for c in ClosureClass if c.status is RequestStatus.CLOSED_NO_ACTION],
        "duplicate": [ClosureClass.DUPLICATE],
        "not city": [ClosureClass.NOT_CITY],
    }
    by_type = Table("type", "closed", *groups, title="by type (no action: every other class)")
    for r in summary.by_type.head(types).to_dict("records"):
        cells = [f"{sum(r[c.value] for c in members):,}" for members in groups.values()]
        by_type.add_row(Text(str(r["service_name"])), f"{r['total']:,}", *cells)
    console.print(by_type)


@friendly_errors
def sla_rereports(
    days: Annotated[float | None, typer.Option(help="window after completion (settings)")] = None,
    radius: Annotated[float | None, typer.Option(help="metres (settings)")] = None,
    related: Annotated[
        bool, typer.Option(help="count reports of the same type family, not only the same type")
    ] = False,
    by: Annotated[str, typer.Option(help="type, ward or crew")] = "type",
    limit: Annotated[int, typer.Option()] = 25,
) -> None:
    """Completions followed by a new report of the same problem nearby within N days."""
    column = {"type": "service_name", "ward": "ward", "crew": "crew"}.get(by)
    if column is None:
        raise typer.BadParameter(f"--by {by!r}: use type, ward or crew")
    settings = get_settings()
    params = RecurrenceParams(
        radius_m=radius if radius is not None else settings.rereport_radius_m,
        window_days=days if days is not None else settings.rereport_window_days,
        related=related,
    )
    found = closures.recurrence(params, settings=settings)
    title = (
        f"{found.rereported:,} of {found.completed:,} located completions re-reported within "
        f"{params.window_days:g} days and {params.radius_m:g} m"
        + (" (same type family)" if related else " (same type)")
    )
    table = Table(by, "completed", "re-reported", "share", "re-reports", title=title)
    for r in found.by(column).head(limit).to_dict("records"):
        table.add_row(
            Text(str(r[column])),
            f"{r['completed']:,}",
            f"{r['rereported']:,}",
            f"{r['share']:.1%}",
            f"{r['rereports']:,}",
        )
    console.print(table)


@friendly_errors
def sla_equity(
    service_type: Annotated[str | None, typer.Option("--type", help="one type's name")] = None,
    since: Annotated[datetime | None, typer.Option(help="reported from (YYYY-MM-DD)")] = None,
    until: Annotated[datetime | None, typer.Option(help="reported until (YYYY-MM-DD)")] = None,
    csv: Annotated[Path | None, typer.Option(help="write the type × ward table as CSV")] = None,
    geojson: Annotated[Path | None, typer.Option(help="write the ward figures as GeoJSON")] = None,
    limit: Annotated[int, typer.Option()] = 30,
) -> None:
    """Time to close and on-time share by ward against the city, per type, with 95 % CIs."""
    view = closures.equity(since=since, until=until, service_name=service_type)
    ranked = view.table[view.table["verdict"] != "in line"]
    ranked = ranked[ranked["verdict"] != "too few to rank"]
    small = int(view.table["small_sample"].sum())
    table = Table(
        "type",
        "ward",
        "n",
        "median d (95% CI)",
        "city",
        "on time (95% CI)",
        "city",
        "verdict",
        title=f"wards that differ from the city ({view.period}); {small:,} type × ward "
        "cells too small to rank",
    )
    for r in ranked.sort_values("median_gap_days", ascending=False).head(limit).to_dict("records"):
        table.add_row(
            Text(str(r["service_name"])),
            str(r["ward"]),
            f"{r['completed']:,}",
            f"{r['median_days']:.1f} ({r['median_low']:.1f}–{r['median_high']:.1f})",
            f"{r['city_median_days']:.1f}",
            f"{r['on_time_share']:.0%} ({r['on_time_low']:.0%}–{r['on_time_high']:.0%})",
            f"{r['city_on_time_share']:.0%}",
            Text(str(r["verdict"])),
        )
    console.print(table)
    if csv is not None:
        view.table.to_csv(csv, index=False)
        console.print(f"wrote {csv}", highlight=False)
    if geojson is not None:
        geojson.write_text(json.dumps(equity_geojson(ward_outlines(), view.wards)))
        console.print(f"wrote {geojson}", highlight=False)


@report_app.command("ward")
@friendly_errors
def report_ward(
    ward: Annotated[list[int], typer.Option(help="ward number (repeat for several)")],
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[Path | None, typer.Option(help="HTML file to write")] = None,
    pdf: Annotated[bool, typer.Option(help="also write a PDF when WeasyPrint is installed")] = True,
) -> None:
    """Write the month's report for a council office: one self-contained HTML file."""
    target = out or Path(f"ward-{'-'.join(map(str, sorted(ward)))}-{month}.html")
    written = reports.write_ward_report(ward, month, target, pdf=pdf)
    console.print(f"wrote {written.html}", highlight=False)
    if written.pdf is not None:
        console.print(f"wrote {written.pdf}", highlight=False)
    elif written.pdf_note and pdf:
        console.print(written.pdf_note, highlight=False)


@friendly_errors
def jobs_closures(job_id: int) -> None:
    """Earlier completions at a job's place (it may be a re-report) and linked duplicates."""
    found = closures.job_closures(job_id)
    table = Table(
        "request",
        "source id",
        "outcome",
        "reported",
        "closed",
        "metres",
        title=f"job {job_id}: earlier closures of its type at its place",
    )
    for r in found.earlier.to_dict("records"):
        table.add_row(
            str(r["request_id"]),
            Text(str(r["source_id"])),
            Text(str(r["closure_class"] or "")),
            f"{r['created_at']:%Y-%m-%d}",
            f"{r['closed_at']:%Y-%m-%d}",
            f"{r['distance_m']:.0f}",
        )
    console.print(table)
    if not found.duplicates.empty:
        dups = Table("request", "source id", "duplicate of request", title="linked duplicates")
        for r in found.duplicates.to_dict("records"):
            dups.add_row(str(r["request_id"]), Text(str(r["source_id"])), str(r["duplicate_of"]))
        console.print(dups)
