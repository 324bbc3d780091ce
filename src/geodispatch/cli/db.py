"""``geodispatch db ...``: schema migrations."""

from __future__ import annotations

import typer

from geodispatch.cli.common import console, friendly_errors
from geodispatch.services import admin

app = typer.Typer(
    help="Database schema: create or upgrade it, show its revision.", no_args_is_help=True
)


@app.command("upgrade")
@friendly_errors
def upgrade() -> None:
    """Create the schema or bring it to the newest revision (safe to run repeatedly)."""
    status = admin.upgrade_database()
    console.print(f"database {status.url_display}: schema at revision {status.revision}")


@app.command("current")
@friendly_errors
def current() -> None:
    """Show which schema revision the database is at."""
    status = admin.database_status()
    state = "up to date" if status.up_to_date else f"behind (newest is {status.head})"
    console.print(f"database {status.url_display}: revision {status.revision or 'none'}, {state}")
