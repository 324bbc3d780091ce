"""Intake commands: ``import``, ``demo``, ``rejected`` and ``catalogue``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors, progress_bar
from geodispatch.config import get_settings
from geodispatch.intake.generic_csv import ColumnMapping
from geodispatch.services import catalogue as catalogue_service
from geodispatch.services import clock
from geodispatch.services import demo as demo_service
from geodispatch.services.intake import ImportSummary, InputFormat, import_file, rejected_rows

catalogue_app = typer.Typer(
    help="The service-type catalogue: SLA targets, skills, minutes.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the intake commands to the main CLI."""
    app.command("import")(import_command)
    app.command("demo")(demo_command)
    app.command("rejected")(rejected_command)
    app.add_typer(catalogue_app, name="catalogue")


@friendly_errors
def import_command(
    path: Annotated[Path, typer.Argument(help="CSV (.csv/.csv.gz) or Open311 JSON file")],
    fmt: Annotated[InputFormat, typer.Option("--format", help="input format")] = (InputFormat.AUTO),
    source: Annotated[
        str | None, typer.Option(help="id space of the rows (default: by format, e.g. 'boston')")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="generic CSV: field=column, e.g. --map source_id='Case ID'"),
    ] = None,
    mapping_file: Annotated[
        Path | None, typer.Option(help="generic CSV: TOML file with a [columns] table")
    ] = None,
    encoding: Annotated[str, typer.Option(help="text encoding of the file")] = "utf-8",
    show: Annotated[int, typer.Option(help="rejected rows to print")] = 10,
) -> None:
    """Import requests from a file; every row is accepted or kept as a rejected row."""
    column_mapping = None
    if mapping_file is not None:
        column_mapping = ColumnMapping.from_toml(mapping_file)
    elif mapping:
        column_mapping = ColumnMapping.from_pairs(mapping)
    with progress_bar(f"importing {path.name}") as progress:
        summary = import_file(
            path,
            fmt=fmt,
            source=source,
            mapping=column_mapping,
            encoding=encoding,
            progress=progress,
        )
    print_summary(summary)
    if summary.rejected and show:
        print_rejected(summary.source, summary.file_name, limit=show, import_id=summary.import_id)


def demo_command(
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty",
            help="load nothing when the database already holds requests (a day without a "
            "plan still gets one)",
        ),
    ] = False,
) -> None:
    """Load the bundled Boston sample (2011 requests and the 2025 open backlog)."""
    with progress_bar("loading the Boston sample") as progress:
        report = demo_service.load_demo(if_empty=if_empty, progress=progress)
    if report.skipped:  # its steps, if any, made today's plan (a new day)
        console.print("the database already holds requests; demo data not loaded again")
    for step in report.steps:
        console.print(f"[green]✓[/] {step}")
    for summary in report.imports:
        print_summary(summary)
    print_demo_accounts(report)
    banner = clock.city_clock().banner()
    if banner:
        console.print(f"[yellow]{banner}[/]", highlight=False)


def print_demo_accounts(report: demo_service.DemoReport) -> None:
    """The demo's staff accounts and passwords, and whether demo mode lets them sign in."""
    made = f" ({report.accounts_created} created now)" if report.accounts_created else ""
    console.print(f"demo staff accounts{made}, one per role:")
    for account in report.accounts:
        wards = f", wards {', '.join(map(str, account.wards))}" if account.wards else ""
        console.print(f"  {account.username:<11} {account.password}  ({account.role.value}{wards})")
    if not get_settings().demo_mode:
        console.print(
            "[yellow]these passwords work only in demo mode: set GEODISPATCH_DEMO_MODE=true "
            "(`make run` does)[/]"
        )


@friendly_errors
def rejected_command(
    source: Annotated[str | None, typer.Option(help="only this source")] = None,
    file: Annotated[str | None, typer.Option(help="only this file name")] = None,
    limit: Annotated[int, typer.Option(help="rows to show")] = 50,
) -> None:
    """List rejected rows with their line, field, value, problem and fix."""
    print_rejected(source, file, limit=limit)


@catalogue_app.command("list")
@friendly_errors
def catalogue_list() -> None:
    """Show every service type with its department, SLA target and field work."""
    table = Table(
        "code",
        "name",
        "department",
        "SLA h",
        "minutes",
        "skill",
        "P",
        "shown to",
        "requests",
        "edited",
    )
    for t, count in catalogue_service.list_types():
        table.add_row(
            Text(t.code),
            Text(t.name),
            Text(t.department),
            "" if t.sla_hours is None else f"{t.sla_hours:g}",
            str(t.service_minutes),
            Text(t.skill),
            str(int(t.priority)),
            "public" if t.public else "staff only",
            f"{count:,}",
            "yes" if t.edited else "",
        )
    console.print(table)


@catalogue_app.command("set")
@friendly_errors
def catalogue_set(
    code: Annotated[str, typer.Argument(help="service type code (see catalogue list)")],
    sla_hours: Annotated[float | None, typer.Option(help="SLA target in hours; 0 = none")] = (None),
    minutes: Annotated[int | None, typer.Option(help="typical on-site minutes")] = None,
    skill: Annotated[str | None, typer.Option(help="crew skill the job needs")] = None,
    priority: Annotated[int | None, typer.Option(help="1 (emergency) to 3 (routine)")] = None,
    department: Annotated[str | None, typer.Option(help="responsible department")] = None,
    public: Annotated[
        bool | None,
        typer.Option(
            "--public/--internal",
            help="residents report this type (--public), or it is the city's own work order "
            "(--internal: left off the public page and the Open311 API)",
        ),
    ] = None,
) -> None:
    """Edit a service type; edited values survive later imports."""
    updated = catalogue_service.edit_type(
        code,
        sla_hours=sla_hours,
        service_minutes=minutes,
        skill=skill,
        priority=priority,
        department=department,
        public=public,
    )
    console.print(
        f"{updated.code}: SLA {updated.sla_hours or 'none'} h, "
        f"{updated.service_minutes} min, skill {updated.skill}, "
        f"P{int(updated.priority)}, {'public' if updated.public else 'internal'}"
    )


def print_summary(summary: ImportSummary) -> None:
    """The import's counts: read, accepted (inserted/updated/unchanged), rejected by reason."""
    console.print(
        f"[bold]{summary.file_name}[/] ({summary.source}): {summary.rows_read:,} rows read, "
        f"{summary.accepted:,} accepted ({summary.inserted:,} new, {summary.updated:,} updated, "
        f"{summary.unchanged:,} unchanged), {summary.rejected:,} rejected",
        highlight=False,
        soft_wrap=True,
    )
    for reason, n in sorted(summary.rejected_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(f"  rejected {n:,}: {reason}", highlight=False, markup=False, soft_wrap=True)
    located = summary.located
    if located.tried:
        console.print(
            f"  geocoded {located.geocoded:,} of {located.tried:,} requests without coordinates "
            f"({located.flagged:,} flagged for review); ward assigned to "
            f"{located.assigned.get('ward', 0):,}",
            highlight=False,
        )
    for reason, n in sorted(summary.unknown_location_by_reason.items(), key=lambda kv: -kv[1]):
        console.print(
            f"  location unknown {n:,}: {reason}", highlight=False, markup=False, soft_wrap=True
        )
    if summary.in_hotspots:
        console.print(f"  in a known hotspot (tagged): {summary.in_hotspots:,}", highlight=False)
    console.print(f"  jobs: {summary.grouping.describe()}", highlight=False)
    if summary.closures.closed:
        console.print(f"  closures: {summary.closures.describe()}", highlight=False)
    if summary.grouping_problem:
        console.print(f"  [yellow]{summary.grouping_problem}[/]", highlight=False)


def print_rejected(
    source: str | None, file_name: str | None, *, limit: int, import_id: int | None = None
) -> None:
    """Print stored rejected rows as a table."""
    rows, total = rejected_rows(
        source=source, file_name=file_name, limit=limit, import_id=import_id
    )
    if not total:
        console.print("no rejected rows")
        return
    table = Table(
        "line",
        "field",
        "value",
        "problem",
        "fix",
        title=f"{total:,} rejected rows" + (f" (first {limit})" if total > limit else ""),
    )
    for r in rows:
        table.add_row(str(r.line), Text(r.field), Text(r.value[:40]), Text(r.problem), Text(r.fix))
    console.print(table)
