"""The ``geodispatch`` command: a thin typer layer over ``geodispatch.services``.

Each concept registers its commands from its own module; this file only assembles them.
"""

from __future__ import annotations

import typer

from geodispatch.cli import (
    accountability,
    db,
    geo,
    hotspots,
    intake,
    keys,
    models,
    notify,
    plan,
    users,
    workflow,
)

app = typer.Typer(
    name="geodispatch",
    help="Open 311 field operations: import requests, find hotspots, plan crew routes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(geo.app, name="geocode")
app.add_typer(hotspots.app, name="hotspots")
app.add_typer(users.app, name="users")
app.add_typer(models.app, name="models")
app.add_typer(keys.app, name="keys")
app.add_typer(notify.app, name="notify")
intake.register(app)
plan.register(app)
workflow.register(app)
accountability.register(app, sla_app=workflow.sla_app, jobs_app=workflow.jobs_app)


def main() -> None:
    """Entry point of the ``geodispatch`` console script."""
    app()
