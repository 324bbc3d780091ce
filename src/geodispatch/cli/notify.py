"""Resident mail: ``notify run [--once]`` sends the outbox through SMTP."""

from __future__ import annotations

from typing import Annotated

import typer

from geodispatch.cli.common import console, friendly_errors
from geodispatch.services import notify

app = typer.Typer(
    help="Resident mail: status steps and public notes, sent from the outbox by SMTP.",
    no_args_is_help=True,
)


@app.command("run")
@friendly_errors
def run(
    once: Annotated[bool, typer.Option(help="send what is due once, then stop")] = False,
    poll: Annotated[float, typer.Option(min=1.0, help="seconds between passes")] = 30.0,
) -> None:
    """Send due mails; a mail the server refuses stays queued and is retried later."""
    report = notify.run(once=once, poll_seconds=poll, log=console.print)
    if once:
        console.print(report.describe())
