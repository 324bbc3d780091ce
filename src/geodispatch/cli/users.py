"""Staff account commands: ``geodispatch users add|list|set-role|disable|reset-password``.

Run on the server by its operator, who may manage every account (the first admin is made
here). Passwords are read from standard input with ``--password-stdin`` (for scripts) or
asked for twice without echo; they are never taken as an argument, which would leave them
in the shell history and the process list.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from geodispatch.cli.common import console, friendly_errors
from geodispatch.domain.errors import InputError
from geodispatch.services import accounts

app = typer.Typer(help="Staff accounts: roles, council wards, passwords.", no_args_is_help=True)

Username = Annotated[str, typer.Argument(help="the account's username, e.g. ana.lopez")]
RoleOption = Annotated[
    str, typer.Option("--role", help="dispatcher, supervisor, manager, admin or council")
]
Wards = Annotated[
    list[int] | None, typer.Option("--ward", help="a council member's ward (repeat for several)")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]


def _password(from_stdin: bool) -> str:
    """The new password, from stdin (first line) or asked for twice without echo."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise InputError('no password on standard input (e.g. `echo "$PW" | ...`)')
        return line
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise InputError("the two passwords differ; nothing changed")
    return str(first)


@app.command("add")
@friendly_errors
def add(
    username: Username,
    role: RoleOption,
    ward: Wards = None,
    name: Annotated[str, typer.Option(help="the person's name, shown in the app")] = "",
    email: Annotated[
        str | None, typer.Option(help="e-mail the city's single sign-on vouches for")
    ] = None,
    password_stdin: PasswordStdin = False,
    sso_only: Annotated[
        bool, typer.Option("--sso-only", help="no password: sign in by single sign-on only")
    ] = False,
) -> None:
    """Create a staff account (the first admin is made this way)."""
    password = None if sso_only else _password(password_stdin)
    made = accounts.create_user(
        username, role, password=password, display_name=name, email=email, wards=ward or ()
    )
    console.print("created", Text(made.username, style="bold"), f"({made.role.value})")


@app.command("list")
@friendly_errors
def list_accounts() -> None:
    """Every account with its role, wards, state and last sign-in."""
    table = Table("username", "name", "role", "wards", "e-mail", "state", "last sign-in")
    for a in accounts.list_users():
        table.add_row(
            Text(a.username),
            Text(a.display_name),
            a.role.value,
            ", ".join(map(str, a.wards)) or "all",
            Text(a.email or ""),
            "disabled" if a.disabled else "active",
            f"{a.last_sign_in_at:%Y-%m-%d %H:%M} UTC" if a.last_sign_in_at else "never",
        )
    console.print(table)


@app.command("set-role")
@friendly_errors
def set_role(username: Username, role: RoleOption, ward: Wards = None) -> None:
    """Give an account a new role (and council wards); its open sign-ins end."""
    changed = accounts.set_role(username, role, wards=ward or ())
    console.print(Text(changed.username, style="bold"), f"is now {changed.role.value}")


@app.command("disable")
@friendly_errors
def disable(username: Username) -> None:
    """Disable an account; its open sign-ins end at once."""
    accounts.set_disabled(username, disabled=True)
    console.print(Text(username), "disabled")


@app.command("enable")
@friendly_errors
def enable(username: Username) -> None:
    """Enable a disabled account again."""
    accounts.set_disabled(username, disabled=False)
    console.print(Text(username), "enabled")


@app.command("reset-password")
@friendly_errors
def reset_password(username: Username, password_stdin: PasswordStdin = False) -> None:
    """Set a new password; failed attempts clear and open sign-ins end."""
    accounts.reset_password(username, _password(password_stdin))
    console.print("password of", Text(username), "reset")
