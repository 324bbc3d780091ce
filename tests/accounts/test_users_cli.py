"""``geodispatch users``: the operator makes the first admin and manages accounts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from geodispatch.cli import app, common
from geodispatch.config import Settings
from geodispatch.domain.accounts import Role
from geodispatch.services import accounts

runner = CliRunner()
PASSWORD = "a long admin passphrase"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setattr(common.err_console, "width", 250)


def test_add_list_set_role_disable_and_reset_password(env_settings: Settings) -> None:
    made = runner.invoke(
        app,
        ["users", "add", "root", "--role", "admin", "--name", "City IT", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert made.exit_code == 0, made.output
    assert accounts.sign_in("root", PASSWORD).user.role is Role.ADMIN

    council = runner.invoke(
        app,
        [
            "users",
            "add",
            "wu",
            "--role",
            "council",
            "--ward",
            "3",
            "--ward",
            "8",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert council.exit_code == 0, council.output
    listed = runner.invoke(app, ["users", "list"])
    assert "root" in listed.output
    assert "City IT" in listed.output
    assert "3, 8" in listed.output

    moved = runner.invoke(app, ["users", "set-role", "wu", "--role", "manager"])
    assert moved.exit_code == 0, moved.output
    assert next(a for a in accounts.list_users() if a.username == "wu").role is Role.MANAGER

    reset = runner.invoke(
        app, ["users", "reset-password", "wu", "--password-stdin"], input="another passphrase\n"
    )
    assert reset.exit_code == 0, reset.output
    assert accounts.sign_in("wu", "another passphrase").user.username == "wu"

    assert runner.invoke(app, ["users", "disable", "wu"]).exit_code == 0
    assert next(a for a in accounts.list_users() if a.username == "wu").disabled


def test_bad_input_is_one_clear_line(env_settings: Settings) -> None:
    short = runner.invoke(
        app, ["users", "add", "ana", "--role", "dispatcher", "--password-stdin"], input="x\n"
    )
    assert short.exit_code == 1
    assert "password must be 12-256 characters" in short.output
    council = runner.invoke(
        app, ["users", "add", "wu", "--role", "council", "--password-stdin"], input=PASSWORD
    )
    assert "needs its wards" in council.output
    mayor = runner.invoke(app, ["users", "set-role", "nobody", "--role", "mayor"])
    assert mayor.exit_code == 1
    assert "not one of: dispatcher, supervisor, manager, admin, council" in mayor.output
