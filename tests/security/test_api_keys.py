"""Open311 API keys: per client, stored hashed, revocable, last use recorded; demo key only in
demo mode; the command line manages them."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from geodispatch.api import create_app
from geodispatch.cli import app, common
from geodispatch.config import Settings, get_settings
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.services import api_keys
from geodispatch.storage.db import session_scope
from geodispatch.storage.tables import ApiKeyRow
from tests.workflow.workflow_helpers import import_and_group, item, make_settings

V2 = "/open311/v2"
REPORT = {"service_code": "pothole", "lat": "42.34", "long": "-71.07"}


def test_a_key_is_shown_once_stored_only_as_a_hash_and_works_until_revoked(
    client: TestClient, settings: Settings
) -> None:
    import_and_group(settings, [item("a")])
    created = api_keys.create_key("BOS:311 app", contact="it@city.example", settings=settings)
    assert created.secret.startswith("gd_")
    assert len(created.secret) > 40
    with session_scope(settings.database_url) as session:
        stored = session.execute(select(ApiKeyRow)).scalars().one()
        assert created.secret not in {stored.key_hash, stored.prefix, stored.name}
        assert stored.last_used_at is None
    answer = client.post(f"{V2}/requests.json", data=REPORT | {"api_key": created.secret})
    assert answer.status_code == 200, answer.text
    (listed,) = api_keys.list_keys(settings=settings)
    assert (listed.name, listed.contact, listed.active) == ("BOS:311 app", "it@city.example", True)
    assert listed.last_used_at is not None
    api_keys.revoke_key(listed.id, settings=settings)
    refused = client.post(f"{V2}/requests.json", data=REPORT | {"api_key": created.secret})
    assert refused.status_code == 403
    assert not api_keys.list_keys(settings=settings)[0].active


def test_a_guessed_or_forged_key_is_refused(client: TestClient, settings: Settings) -> None:
    import_and_group(settings, [item("a")])
    real = api_keys.create_key("partner", settings=settings).secret
    for forged in ("gd_" + "A" * 43, real[:-1], real.upper(), "x" * 5000, ""):
        answer = client.post(f"{V2}/requests.json", data=REPORT | {"api_key": forged})
        assert answer.status_code in {403, 413}, (forged[:10], answer.text)


def test_the_demo_key_works_only_in_demo_mode(tmp_path: Path) -> None:
    for demo, expected in ((True, 200), (False, 403)):
        config = make_settings(tmp_path / str(demo), demo_mode=demo)
        import_and_group(config, [item("a")])
        client = TestClient(create_app(config))
        answer = client.post(f"{V2}/requests.json", data=REPORT | {"api_key": "geodispatch-demo"})
        assert answer.status_code == expected, answer.text


def test_names_are_required_and_unknown_keys_cannot_be_revoked(settings: Settings) -> None:
    with pytest.raises(InputError, match="name the client"):
        api_keys.create_key("  ", settings=settings)
    with pytest.raises(NotFoundError, match="no API key 99"):
        api_keys.revoke_key(99, settings=settings)


def test_the_keys_command_adds_lists_and_revokes(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common.console, "width", 250)
    runner = CliRunner()
    added = runner.invoke(app, ["keys", "add", "Partner app", "--contact", "ops@partner.example"])
    assert added.exit_code == 0, added.output
    secret = next(w for w in added.output.split() if w.startswith("gd_"))
    assert api_keys.check_key(secret, settings=get_settings()) == "Partner app"
    listed = runner.invoke(app, ["keys", "list"])
    assert "Partner app" in listed.output
    assert "ops@partner.example" in listed.output
    assert secret not in listed.output
    assert "active" in listed.output
    revoked = runner.invoke(app, ["keys", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    assert api_keys.check_key(secret, settings=get_settings()) is None
    missing = runner.invoke(app, ["keys", "revoke", "7"])
    assert missing.exit_code == 1
    assert "no API key 7" in missing.output


def test_serve_listens_on_localhost_and_warns_in_demo_mode(
    env_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.update(kwargs))
    monkeypatch.setattr(common.console, "width", 250)
    monkeypatch.setenv("GEODISPATCH_DEMO_MODE", "true")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert started["host"] == "127.0.0.1"
    assert started["server_header"] is False
    assert "WARNING: demo mode is on" in result.output
    monkeypatch.setenv("GEODISPATCH_DEMO_MODE", "false")
    get_settings.cache_clear()
    quiet = CliRunner().invoke(app, ["serve"])
    assert "demo mode" not in quiet.output
