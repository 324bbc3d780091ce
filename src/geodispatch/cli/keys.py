"""Open311 API keys: ``keys add NAME``, ``keys list``, ``keys revoke ID``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors
from geodispatch.config import get_settings
from geodispatch.services import api_keys

app = typer.Typer(
    help="Open311 API keys, one per client application (stored hashed, revocable).",
    no_args_is_help=True,
)


@app.command("add")
@friendly_errors
def add(
    name: Annotated[str, typer.Argument(help="the client application, e.g. 'BOS:311 app'")],
    contact: Annotated[str, typer.Option(help="who runs that client (e-mail, phone)")] = "",
) -> None:
    """Create a key for a client; the key is printed once and cannot be shown again."""
    created = api_keys.create_key(name, contact=contact)
    console.print(f"key {created.key.id} for", Text(created.key.name + ":"))
    console.print(Text(created.secret, style="bold"), soft_wrap=True)
    console.print("Give it to the client now: only its hash is stored.")


@app.command("list")
@friendly_errors
def list_keys() -> None:
    """Every key with its client, contact, creation, last use and whether it is revoked."""
    zone = ZoneInfo(get_settings().timezone)
    table = Table("id", "client", "contact", "starts with", "created", "last used", "status")

    def when(value: datetime | None) -> str:
        return "-" if value is None else f"{value.astimezone(zone):%Y-%m-%d %H:%M}"

    for key in api_keys.list_keys():
        table.add_row(
            str(key.id),
            Text(key.name),
            Text(key.contact),
            Text(key.prefix + "…"),
            when(key.created_at),
            when(key.last_used_at),
            "active" if key.active else f"revoked {when(key.revoked_at)}",
        )
    console.print(table)


@app.command("revoke")
@friendly_errors
def revoke(key_id: Annotated[int, typer.Argument(help="the key's id ('keys list')")]) -> None:
    """Revoke a key at once: its client's next POST is refused."""
    key = api_keys.revoke_key(key_id)
    console.print(f"key {key.id} of", Text(key.name), "is revoked")
