"""Workflow, SLA, crew and API commands: ``jobs``, ``sla``, ``crews pin`` and ``serve``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors
from geodispatch.cli.plan import crews_app
from geodispatch.config import get_settings
from geodispatch.domain.errors import InputError
from geodispatch.services import field, sla, workflow

jobs_app = typer.Typer(help="Jobs: status changes, merges, splits, history.", no_args_is_help=True)
sla_app = typer.Typer(
    help="SLA: overdue and at-risk work, backlog, closure audit.", no_args_is_help=True
)

Actor = Annotated[str, typer.Option(help="who acts, for the audit trail")]


def register(app: typer.Typer) -> None:
    """Add the workflow commands to the main CLI (``crews pin`` joins the crews group)."""
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(sla_app, name="sla")
    app.command("serve")(serve)


@friendly_errors
def serve(
    host: Annotated[
        str, typer.Option(help="address to listen on (0.0.0.0: every network; use a proxy)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
) -> None:
    """Serve the Open311 GeoReport v2 and crew API (OpenAPI at /openapi.json, docs at /docs).

    Listens on this machine only unless ``--host`` says otherwise.
    """
    import uvicorn

    settings = get_settings()
    if settings.demo_mode:
        console.print(
            "[yellow]WARNING: demo mode is on (GEODISPATCH_DEMO_MODE): the demo API key "
            f"{', '.join(sorted(settings.api_key_set)) or '(none)'} is accepted. Turn it off "
            "and issue real keys with 'geodispatch keys add' before exposing this server.[/]"
        )
    if host not in {"127.0.0.1", "localhost", "::1"}:
        console.print(
            f"[yellow]listening on {host}: reachable from other machines. Put it behind a "
            "TLS proxy and list the proxy in GEODISPATCH_TRUSTED_PROXIES.[/]"
        )
    console.print(f"Open311 at http://{host}:{port}/open311/v2/services.json")
    console.print(f"Discovery announces {settings.public_base_url} (GEODISPATCH_PUBLIC_BASE_URL)")
    # loaded by import path: the CLI and the API are sibling edges and do not import each other
    uvicorn.run(
        "geodispatch.api:create_app",
        factory=True,
        host=host,
        port=port,
        server_header=False,
        proxy_headers=False,  # the API itself believes only GEODISPATCH_TRUSTED_PROXIES
    )


@jobs_app.command("list")
@friendly_errors
def jobs_list(limit: Annotated[int, typer.Option(help="rows to show")] = 30) -> None:
    """Open jobs, oldest first, with callers, due time and version."""
    jobs = workflow.list_open_jobs()
    table = Table(
        "job",
        "type",
        "status",
        "callers",
        "P",
        "due (UTC)",
        "address",
        "version",
        title=f"{len(jobs):,} open jobs",
    )
    for j in jobs[:limit]:
        table.add_row(
            str(j.id),
            Text(j.service_code),
            j.status.label,
            str(j.caller_count),
            str(int(j.priority)),
            "" if j.earliest_due_at is None else f"{j.earliest_due_at:%Y-%m-%d %H:%M}",
            Text(j.address[:40]),
            str(j.version),
        )
    console.print(table)


@jobs_app.command("show")
@friendly_errors
def jobs_show(job_id: int) -> None:
    """A job, its requests and its audit trail."""
    job = workflow.get_job(job_id)
    console.print(
        f"job {job.id} ({job.service_code}): {job.status.label}, version {job.version}, "
        f"{job.caller_count} caller(s), requests {workflow.job_requests(job_id)}",
        highlight=False,
        markup=False,  # the service code came from a data file or a client
    )
    table = Table("at (UTC)", "kind", "request", "from", "to", "actor", "note", "flags")
    for e in workflow.job_history(job_id):
        table.add_row(
            f"{e.at:%Y-%m-%d %H:%M}",
            e.kind.value,
            "" if e.request_id is None else str(e.request_id),
            e.from_status.value if e.from_status else "",
            e.to_status.value if e.to_status else "",
            Text(e.actor),
            Text(e.note[:60]),
            Text(e.flags),
        )
    console.print(table)


@jobs_app.command("move")
@friendly_errors
def jobs_move(
    job_id: int,
    status: Annotated[
        str, typer.Argument(help="reviewed, assigned, in_progress, completed, closed_*")
    ],
    version: Annotated[int, typer.Option(help="the version you saw (jobs list/show)")],
    note: Annotated[
        str, typer.Option(help="why (internal); required to close without a fix or reopen")
    ] = "",
    public_note: Annotated[
        str, typer.Option(help="what residents read on Open311 (no names or phone numbers)")
    ] = "",
    actor: Actor = "dispatch",
) -> None:
    """Move a job (and all its requests) to another status."""
    job = workflow.transition_job(
        job_id,
        status,
        expected_version=version,
        actor=actor,
        note=note,
        public_note=public_note,
    )
    console.print(f"job {job.id}: {job.status.label} (version {job.version})")


@jobs_app.command("merge")
@friendly_errors
def jobs_merge(
    target: int,
    others: Annotated[list[str], typer.Argument(help="duplicates as JOB:VERSION, e.g. 15:3")],
    version: Annotated[int, typer.Option(help="the target job's version")],
    note: Annotated[str, typer.Option()] = "",
    actor: Actor = "dispatch",
) -> None:
    """Merge duplicate jobs into TARGET; their callers move to it."""
    pairs: dict[int, int] = {}
    for text in others:
        job_text, _, version_text = text.partition(":")
        if not (job_text.isdigit() and version_text.isdigit()):
            raise InputError(f"{text!r}: write each duplicate as JOB:VERSION, e.g. 15:3")
        pairs[int(job_text)] = int(version_text)
    job = workflow.merge_jobs(target, pairs, target_version=version, actor=actor, note=note)
    console.print(f"job {job.id}: {job.caller_count} callers (version {job.version})")


@jobs_app.command("split")
@friendly_errors
def jobs_split(
    job_id: int,
    requests: Annotated[list[int], typer.Argument(help="request ids to take out")],
    version: Annotated[int, typer.Option(help="the job's version")],
    note: Annotated[str, typer.Option()] = "",
    actor: Actor = "dispatch",
) -> None:
    """Take requests out of a job into a new job."""
    job = workflow.split_requests(
        job_id, requests, expected_version=version, actor=actor, note=note
    )
    console.print(f"new job {job.id} with {job.caller_count} caller(s): {job.status.label}")


@jobs_app.command("group")
@friendly_errors
def jobs_group() -> None:
    """Group open requests that have no job yet (repeat reports become one job)."""
    report = workflow.group_new_requests()
    console.print(
        f"{report.requests:,} requests: {report.attached:,} joined open jobs, "
        f"{report.new_jobs:,} new jobs ({report.merged:,} repeat reports merged); "
        f"{report.due_filled:,} due times set from SLA targets"
    )


@sla_app.command("list")
@friendly_errors
def sla_list(
    show: Annotated[str, typer.Option(help="all, overdue or at_risk")] = "overdue",
    department: Annotated[str | None, typer.Option()] = None,
    ward: Annotated[int | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 30,
) -> None:
    """Incomplete work, most overdue first."""
    work = sla.incomplete_work(show=show, department=department, ward=ward)
    table = Table(
        "request",
        "job",
        "type",
        "department",
        "ward",
        "due (UTC)",
        "hours left",
        "callers",
        title=f"{len(work):,} requests ({show})",
    )
    for r in work.head(limit).to_dict("records"):
        table.add_row(
            str(r["request_id"]),
            str(r["job_id"]),
            Text(str(r["service_name"])),
            Text(str(r["department"])),
            str(r["ward"]),
            ""
            if r["due_at"] is None or str(r["due_at"]) == "NaT"
            else f"{r['due_at']:%Y-%m-%d %H:%M}",
            "" if r["hours_left"] != r["hours_left"] else f"{r['hours_left']:,.0f}",
            str(r["caller_count"]),
        )
    console.print(table)


@sla_app.command("backlog")
@friendly_errors
def sla_backlog(limit: Annotated[int, typer.Option()] = 40) -> None:
    """Open, overdue and at-risk counts by department and ward."""
    table = Table("department", "ward", "open", "overdue", "at risk", "oldest (days)")
    for r in sla.backlog_by_department_ward().head(limit).to_dict("records"):
        table.add_row(
            Text(str(r["department"])),
            str(r["ward"]),
            f"{r['open']:,}",
            f"{r['overdue']:,}",
            f"{r['at_risk']:,}",
            f"{r['oldest_days']:,.0f}",
        )
    console.print(table)


@sla_app.command("audit")
@friendly_errors
def sla_audit(limit: Annotated[int, typer.Option()] = 50) -> None:
    """Requests completed without a crew's field completion, and why each is listed."""
    audit = sla.closure_audit()
    table = Table(
        "request", "job", "type", "closed (UTC)", "reason", title=f"{len(audit):,} to audit"
    )
    for r in audit.head(limit).to_dict("records"):
        table.add_row(
            str(r["request_id"]),
            str(r["job_id"]),
            Text(str(r["service_code"])),
            f"{r['closed_at']:%Y-%m-%d %H:%M}",
            Text(str(r["reason"])),
        )
    console.print(table)


@sla_app.command("flags")
@friendly_errors
def sla_flags(limit: Annotated[int, typer.Option()] = 50) -> None:
    """Crew completions to check: done far from the site, without position or photo."""
    flagged = sla.flagged_completions()
    table = Table(
        "job",
        "type",
        "crew",
        "at (UTC)",
        "distance m",
        "flags",
        "note",
        title=f"{len(flagged):,} flagged completions",
    )
    for r in flagged.head(limit).to_dict("records"):
        distance = r["distance_m"]
        table.add_row(
            str(r["job_id"]),
            Text(str(r["service_code"])),
            Text(str(r["actor"])),
            f"{r['at']:%Y-%m-%d %H:%M}",
            "" if distance != distance else f"{distance:,.0f}",
            Text(str(r["flags"])),
            Text(str(r["note"])[:40]),
        )
    console.print(table)


@crews_app.command("pin")
@friendly_errors
def crews_pin(
    code: str,
    pin: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a crew's PIN (4-12 digits; stored only as an Argon2 hash)."""
    field.set_pin(code, pin)
    console.print(f"crew {code}: PIN set")
