"""Routing commands: ``plan`` (plan, list, show, publish, re-plan, map, sheet) and ``crews``."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors, progress_bar
from geodispatch.dispatch.matrix import matrix_label
from geodispatch.dispatch.problem import PlanParams
from geodispatch.domain.errors import InputError, ShiftOverError
from geodispatch.domain.plans import PlanDiff, RoutePlan
from geodispatch.io.crew_roster import read_roster
from geodispatch.services import backlog as backlog_service
from geodispatch.services import clock
from geodispatch.services import dispatch as service
from geodispatch.services import workflow as workflow_service

plan_app = typer.Typer(
    help="Plan crew routes for a day; list, show, publish and re-plan plans.",
    invoke_without_command=True,
)
crews_app = typer.Typer(
    help="Field crews: list them or seed the Boston roster.", no_args_is_help=True
)


backlog_app = typer.Typer(
    help="Backlog review: open jobs past their age limit, which plans leave off the routes.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the routing commands to the main CLI."""
    app.add_typer(plan_app, name="plan")
    app.add_typer(crews_app, name="crews")
    app.add_typer(backlog_app, name="backlog")


def _day(text: str | None) -> date:
    if text is None:
        return clock.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date {text!r} is not a date; write it as YYYY-MM-DD") from None


@plan_app.callback()
@friendly_errors
def plan_command(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", help="day to plan, YYYY-MM-DD (default today)")
    ] = None,
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 5.0,
    publish: Annotated[
        bool, typer.Option("--publish", help="publish the plan to the crews")
    ] = False,
    show: Annotated[int, typer.Option(help="dropped jobs to list")] = 10,
    balance: Annotated[
        int, typer.Option(help="workload balance: cost per second between first and last return")
    ] = 0,
) -> None:
    """Plan the day's routes for all active crews over the open jobs (stored as a draft)."""
    if ctx.invoked_subcommand is not None:
        return
    print_clock()
    when = _day(day)
    with progress_bar(f"planning {when:%Y-%m-%d} ({time_limit:g} s search)") as progress:
        progress(0, None)
        try:
            outcome = service.plan_day(
                when, time_limit_s=time_limit, params=PlanParams(balance_coefficient=balance)
            )
        except ShiftOverError as exc:
            raise InputError(f"{exc} ('geodispatch plan --date {exc.next_day}')") from None
        progress(1, 1)
    print_plan(outcome.plan, show=show)
    if outcome.backlog:
        console.print(
            f"{outcome.backlog:,} open jobs are past their type's age limit and wait in backlog "
            "review ('geodispatch backlog list'), not on routes",
            highlight=False,
        )
    if publish:
        published = service.publish_plan(outcome.plan_id)
        print_published(outcome.plan_id, published)
    else:
        console.print(
            f"draft plan {outcome.plan_id}; publish it with "
            f"'geodispatch plan publish {outcome.plan_id}'"
        )


@plan_app.command("list")
@friendly_errors
def list_command(
    day: Annotated[str | None, typer.Option("--date", help="only this day, YYYY-MM-DD")] = None,
) -> None:
    """List plans, newest first."""
    table = Table("id", "date", "status", "parent", "served", "dropped", "driving h", "violations")
    for p in service.plan_summaries(day=None if day is None else _day(day)):
        s = p.summary
        table.add_row(
            str(p.id),
            f"{p.plan_date}",
            p.status,
            "" if p.parent_id is None else str(p.parent_id),
            str(s.get("served", "")),
            str(s.get("dropped", "")),
            f"{int(s.get('travel_s', 0)) / 3600:.1f}",
            str(len(s.get("violations", []))),
        )
    console.print(table)


@plan_app.command("show")
@friendly_errors
def show_command(
    plan_id: Annotated[int, typer.Argument(help="plan id (see 'plan list')")],
    crew: Annotated[str | None, typer.Option(help="show this crew's stops")] = None,
    show: Annotated[int, typer.Option(help="dropped jobs to list")] = 10,
) -> None:
    """Show a plan: per crew totals, dropped jobs by reason; with --crew its stops."""
    plan = service.load_plan(plan_id)
    print_plan(plan, show=show)
    if crew is not None:
        route = plan.route_of(crew)
        if route is None:
            raise InputError(f"crew {crew!r} has no route in plan {plan_id}")
        table = Table("#", "ETA", "job", "work", "address", "P", "min", "drive", "status")
        for s in route.stops:
            table.add_row(
                str(s.sequence),
                f"{s.eta:%H:%M}",
                str(s.order.job_id),
                Text(s.order.title),
                Text(s.order.address),
                str(int(s.order.priority)),
                str(s.service_s // 60),
                str(s.travel_s // 60),
                s.status,
            )
        console.print(table)


@plan_app.command("publish")
@friendly_errors
def publish_command(
    plan_id: Annotated[int, typer.Argument(help="plan id")],
    confirm: Annotated[
        bool,
        typer.Option("--confirm", help="publish even though it takes jobs off the crews' routes"),
    ] = False,
) -> None:
    """Publish a plan to the crews (the day's earlier published plan is superseded).

    A plan with no stops is refused; one that takes jobs off the crews' published routes
    is refused unless --confirm is given (the message lists what leaves which crew).
    """
    published = service.publish_plan(plan_id, confirm_removals=confirm)
    print_published(plan_id, published)


def print_published(plan_id: int, published: service.PlanOutcome) -> None:
    """What publishing did: jobs assigned, jobs sent back to the queue."""
    console.print(
        f"[green]✓[/] plan {plan_id} published; {published.assigned} jobs now Work assigned"
        + (
            f"; {len(published.released)} jobs on no published route went back to the queue"
            if published.released
            else ""
        )
    )


def print_clock() -> None:
    """Say which day the product runs on when it is not the real date (the demo)."""
    banner = clock.city_clock().banner()
    if banner:
        console.print(f"[yellow]{banner}[/]", highlight=False)


@plan_app.command("replan")
@friendly_errors
def replan_command(
    plan_id: Annotated[int, typer.Argument(help="the plan crews are working from")],
    urgent: Annotated[
        int | None, typer.Option(help="job id to insert as urgent (must be served)")
    ] = None,
    at: Annotated[str | None, typer.Option(help="re-plan time, ISO (default now)")] = None,
    time_limit: Annotated[float, typer.Option(help="solver time limit, seconds")] = 1.0,
) -> None:
    """Re-plan mid-day: keep done/in-progress stops, insert an urgent job, list the changes."""
    now = None
    if at is not None:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise InputError(f"--at {at!r} is not a time; write 2025-06-02T11:30-04:00") from None
        if now.tzinfo is None:
            raise InputError("--at needs a UTC offset, e.g. 2025-06-02T11:30-04:00")
    print_clock()
    with progress_bar("re-planning") as progress:
        progress(0, None)
        outcome = service.replan_with_urgent_job(
            plan_id, urgent_job_id=urgent, now=now, time_limit_s=time_limit
        )
        progress(1, 1)
    print_plan(outcome.plan, show=5)
    if outcome.diff is not None:
        print_diff(outcome.diff)
    if outcome.urgent_fit is not None:
        console.print(f"[red]{escape(outcome.urgent_fit.advice())}[/]", highlight=False)
    elif urgent is not None:
        console.print(f"[green]✓[/] urgent job {urgent} is on a route", highlight=False)
    console.print(f"draft plan {outcome.plan_id} (re-plan of {plan_id})")


@backlog_app.command("list")
@friendly_errors
def backlog_list_command(
    limit: Annotated[int, typer.Option(help="jobs to show, oldest first")] = 30,
) -> None:
    """Open jobs past their type's age limit: no plan routes them until you decide."""
    print_clock()
    aged = backlog_service.backlog_review()
    table = Table(
        "job",
        "type",
        "address",
        "age d",
        "limit d",
        "status",
        title=f"{len(aged):,} open jobs past their age limit",
    )
    for a in aged[:limit]:
        table.add_row(
            str(a.job.id),
            Text(a.job.service_code),
            Text(a.job.address),
            f"{a.age_days:.0f}",
            str(a.limit_days),
            a.job.status.label,
        )
    console.print(table)
    console.print(
        "close one: 'geodispatch backlog close JOB --as closed_no_action --note ...'; keep it: "
        "'geodispatch backlog confirm JOB'; or book an appointment for it"
    )


@backlog_app.command("close")
@friendly_errors
def backlog_close_command(
    job_id: Annotated[int, typer.Argument(help="job id")],
    outcome: Annotated[
        str,
        typer.Option("--as", help="closed_no_action, closed_duplicate or closed_not_city"),
    ],
    note: Annotated[str, typer.Option(help="why (required)")],
    actor: Annotated[str, typer.Option(help="who decides")] = "dispatcher",
) -> None:
    """Close an old job without a fix, with a note (audited)."""
    job = backlog_service.close_stale_job(
        job_id,
        outcome,
        note=note,
        actor=actor,
        expected_version=workflow_service.get_job(job_id).version,
    )
    console.print(f"[green]✓[/] job {job.id} is now {job.status.label}")


@backlog_app.command("confirm")
@friendly_errors
def backlog_confirm_command(
    job_id: Annotated[int, typer.Argument(help="job id")],
    note: Annotated[str, typer.Option(help="why it still needs a crew")] = "",
    actor: Annotated[str, typer.Option(help="who decides")] = "dispatcher",
) -> None:
    """Re-confirm an old job still needs a crew: the next plan routes it (audited)."""
    job = backlog_service.reconfirm_job(job_id, note=note, actor=actor)
    console.print(f"[green]✓[/] job {job.id} re-confirmed; the next plan may route it")


@plan_app.command("map")
@friendly_errors
def map_command(
    plan_id: Annotated[int, typer.Argument(help="plan id")],
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("route_map.html"),
) -> None:
    """Write the plan's route map (folium HTML)."""
    out.write_text(service.plan_map_html(plan_id), encoding="utf-8")
    console.print(f"[green]✓[/] map written to {out}")


@plan_app.command("sheet")
@friendly_errors
def sheet_command(
    plan_id: Annotated[int, typer.Argument(help="plan id")],
    crew: Annotated[str | None, typer.Option(help="only this crew")] = None,
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("route_sheet.html"),
) -> None:
    """Write the printable route sheet (HTML; print it from a browser)."""
    out.write_text(service.plan_sheet_html(plan_id, crew_code=crew), encoding="utf-8")
    console.print(f"[green]✓[/] route sheet written to {out}")


@crews_app.command("list")
@friendly_errors
def crews_list() -> None:
    """List crews with yard, shift, lunch window and skills."""
    table = Table("code", "name", "yard", "shift", "lunch", "skills", "max jobs", "active")
    for c in service.list_crews():
        lunch = (
            ""
            if c.lunch is None
            else (
                f"{c.lunch.minutes} min in {c.lunch.window_start:%H:%M}-{c.lunch.window_end:%H:%M}"
            )
        )
        table.add_row(
            Text(c.code),
            Text(c.name),
            Text(c.depot.name),
            f"{c.shift_start:%H:%M}-{c.shift_end:%H:%M}",
            lunch,
            Text(", ".join(sorted(c.skills))),
            "" if c.max_jobs is None else str(c.max_jobs),
            "yes" if c.active else "no",
        )
    console.print(table)


@crews_app.command("seed")
@friendly_errors
def crews_seed(
    roster: Annotated[
        Path | None,
        typer.Option(help="roster CSV (columns as data/boston/crews.csv); default: Boston's"),
    ] = None,
) -> None:
    """Add (or update) crews from a roster file (default: Boston's 20 crews at 7 yards)."""
    crews = None if roster is None else read_roster(roster)
    total = service.seed_crews(crews)
    what = "Boston roster" if roster is None else f"roster {roster.name}"
    console.print(f"[green]✓[/] {what} seeded; {total} crews in the database")


def print_plan(plan: RoutePlan, *, show: int) -> None:
    """Per crew totals, dropped jobs by reason, and the checker's verdict."""
    table = Table(
        "crew",
        "stops",
        "leaves",
        "back",
        "lunch",
        "driving min",
        "on site min",
        title=(
            f"Plan {plan.id or ''} for {plan.plan_date}: {plan.served} jobs on routes, "
            f"{len(plan.dropped)} not planned, {plan.travel_s / 3600:.1f} h driving; "
            f"travel times: {matrix_label(plan.stats.matrix)}"
        ),
    )
    for r in plan.routes:
        table.add_row(
            Text(r.crew.code),
            str(len(r.stops)),
            f"{r.starts_at:%H:%M}",
            f"{r.ends_at:%H:%M}",
            "" if r.break_start is None else f"{r.break_start:%H:%M}",
            str(r.travel_s // 60),
            str(r.service_s // 60),
        )
    console.print(table)
    reasons = Counter(d.reason for d in plan.dropped)
    for reason, n in reasons.most_common():
        console.print(f"  not planned {n:,}: {reason.label}", highlight=False, markup=False)
    for d in plan.dropped[:show]:
        console.print(
            f"    job {d.order.job_id} P{int(d.order.priority)} {d.order.title}: {d.detail}",
            highlight=False,
            markup=False,
        )
    if plan.violations:
        console.print(f"[bold red]checker: {len(plan.violations)} violations[/]")
        for v in plan.violations[:20]:
            console.print(f"  {v.kind} {v.crew_code} {v.job_id}: {v.detail}", markup=False)
    else:
        console.print("[green]✓[/] checker: every time recomputed, no violation")
    if plan.stats.solve_s or plan.stats.solver_status:
        console.print(
            f"  solver {plan.solver}: {plan.stats.solve_s} s search, "
            f"{plan.stats.repair_inserted} inserted and "
            f"{plan.stats.repair_swapped} swapped by repair",
            highlight=False,
        )


def print_diff(diff: PlanDiff) -> None:
    """What a re-plan changed."""
    kinds = Counter(c.kind for c in diff.changes)
    console.print(
        f"changes: {dict(kinds) or 'none'}; driving saved vs keeping the old order with "
        "the new work squeezed in: "
        f"{diff.travel_saved_s / 60:.0f} min",
        highlight=False,
    )
    for c in diff.changes[:20]:
        console.print(f"  job {c.job_id}: {c.kind} {c.detail}", markup=False, highlight=False)
    for risk in diff.sla_risks[:20]:
        console.print("  [yellow]SLA risk[/]", Text(risk), highlight=False)
