"""Accounts on a real SQLite database: create, sign in, throttle, sessions, admin changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from geodispatch.config import Settings
from geodispatch.domain.accounts import Role, StaffUser
from geodispatch.domain.errors import InputError, PermissionDeniedError
from geodispatch.services import accounts
from geodispatch.services.accounts import REFUSED, THROTTLE_AFTER, THROTTLE_FOR

PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)


@pytest.fixture
def ana(settings: Settings) -> accounts.Account:
    return accounts.create_user(
        "ana", Role.DISPATCHER, password=PASSWORD, display_name="Ana Lopez", settings=settings
    )


def test_a_right_password_opens_a_session_that_names_the_account(
    settings: Settings, ana: accounts.Account
) -> None:
    signed = accounts.sign_in("ANA", PASSWORD, settings=settings, now=T0)
    assert signed.user == StaffUser("ana", "Ana Lopez", Role.DISPATCHER)
    assert signed.expires_at == T0 + timedelta(hours=settings.session_hours)
    assert accounts.user_for_token(signed.token, settings=settings, now=T0).username == "ana"
    listed = accounts.list_users(settings=settings)
    assert [(a.username, a.last_sign_in_at) for a in listed] == [("ana", T0)]


def test_the_password_is_stored_only_as_an_argon2_hash(
    settings: Settings, ana: accounts.Account
) -> None:
    from sqlalchemy import text

    from geodispatch.storage.db import get_engine

    with get_engine(settings.database_url).connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_unknown_user_and_wrong_password_get_the_same_answer(
    settings: Settings, ana: accounts.Account
) -> None:
    with pytest.raises(PermissionDeniedError) as unknown:
        accounts.sign_in("nobody", PASSWORD, settings=settings, now=T0)
    with pytest.raises(PermissionDeniedError) as wrong:
        accounts.sign_in("ana", "not the password", settings=settings, now=T0)
    assert str(unknown.value) == str(wrong.value) == REFUSED


def test_repeated_failures_pause_the_account_with_the_same_message(
    settings: Settings, ana: accounts.Account
) -> None:
    for _ in range(THROTTLE_AFTER):
        with pytest.raises(PermissionDeniedError):
            accounts.sign_in("ana", "wrong password!", settings=settings, now=T0)
    with pytest.raises(PermissionDeniedError) as paused:
        accounts.sign_in("ana", PASSWORD, settings=settings, now=T0 + timedelta(minutes=1))
    assert str(paused.value) == REFUSED  # the right password waits too, and says nothing more
    later = T0 + THROTTLE_FOR + timedelta(seconds=1)
    assert accounts.sign_in("ana", PASSWORD, settings=settings, now=later).user.username == "ana"
    assert accounts.list_users(settings=settings)[0].failed_attempts == 0


def test_sessions_end_on_expiry_sign_out_disable_new_role_and_new_password(
    settings: Settings, ana: accounts.Account
) -> None:
    def live(token: str, at: datetime = T0) -> bool:
        try:
            accounts.user_for_token(token, settings=settings, now=at)
        except PermissionDeniedError:
            return False
        return True

    first = accounts.sign_in("ana", PASSWORD, settings=settings, now=T0)
    assert live(first.token)
    assert not live(first.token, first.expires_at)
    accounts.sign_out(first.token, settings=settings)
    assert not live(first.token)
    token = accounts.sign_in("ana", PASSWORD, settings=settings).token
    accounts.set_role("ana", Role.SUPERVISOR, settings=settings)
    assert not live(token, datetime.now(UTC))
    token = accounts.sign_in("ana", PASSWORD, settings=settings).token
    accounts.reset_password("ana", "a new passphrase", settings=settings)
    assert not live(token, datetime.now(UTC))
    token = accounts.sign_in("ana", "a new passphrase", settings=settings).token
    accounts.set_disabled("ana", disabled=True, settings=settings)
    assert not live(token, datetime.now(UTC))


def test_a_disabled_account_cannot_sign_in(settings: Settings, ana: accounts.Account) -> None:
    accounts.set_disabled("ana", disabled=True, settings=settings)
    with pytest.raises(PermissionDeniedError, match="sign-in refused"):
        accounts.sign_in("ana", PASSWORD, settings=settings)
    accounts.set_disabled("ana", disabled=False, settings=settings)
    assert accounts.sign_in("ana", PASSWORD, settings=settings).user.username == "ana"


def test_only_an_admin_manages_accounts_from_the_app(
    settings: Settings, ana: accounts.Account
) -> None:
    dispatcher = StaffUser("ana", "Ana", Role.DISPATCHER)
    with pytest.raises(PermissionDeniedError, match="may not manage staff accounts"):
        accounts.create_user("eve", Role.ADMIN, password=PASSWORD, by=dispatcher, settings=settings)
    with pytest.raises(PermissionDeniedError):
        accounts.set_role("ana", Role.ADMIN, by=dispatcher, settings=settings)
    admin = StaffUser("root", "Root", Role.ADMIN)
    made = accounts.create_user(
        "wu", Role.COUNCIL, password=PASSWORD, wards=[3], by=admin, settings=settings
    )
    assert (made.role, made.wards) == (Role.COUNCIL, (3,))
    assert [a.username for a in accounts.list_users(by=admin, settings=settings)] == ["ana", "wu"]


def test_an_admin_cannot_lock_themselves_out(settings: Settings) -> None:
    accounts.create_user("root", Role.ADMIN, password=PASSWORD, settings=settings)
    root = StaffUser("root", "Root", Role.ADMIN)
    with pytest.raises(InputError, match="own account"):
        accounts.set_disabled("root", disabled=True, by=root, settings=settings)
    with pytest.raises(InputError, match="own admin role"):
        accounts.set_role("root", Role.MANAGER, by=root, settings=settings)


def test_usernames_and_emails_are_unique(settings: Settings, ana: accounts.Account) -> None:
    with pytest.raises(InputError, match="taken"):
        accounts.create_user("Ana", Role.MANAGER, password=PASSWORD, settings=settings)
    accounts.create_user("bo", Role.MANAGER, email="Bo@City.gov", settings=settings)
    with pytest.raises(InputError, match="already belongs"):
        accounts.create_user("bo2", Role.MANAGER, email="bo@city.gov", settings=settings)


def test_single_sign_on_maps_the_email_to_a_local_account(settings: Settings) -> None:
    accounts.create_user("bo", Role.SUPERVISOR, email="bo@city.gov", settings=settings)
    signed = accounts.sign_in_sso("Bo@City.gov", settings=settings)
    assert (signed.user.username, signed.user.role) == ("bo", Role.SUPERVISOR)
    with pytest.raises(PermissionDeniedError, match="no staff account"):
        accounts.sign_in_sso("stranger@example.org", settings=settings)
    with pytest.raises(PermissionDeniedError):  # SSO-only: no password sign-in
        accounts.sign_in("bo", "", settings=settings)


def test_demo_passwords_work_only_in_demo_mode(settings: Settings) -> None:
    made = accounts.create_demo_accounts(settings=settings)
    assert {d.role for d in made} == set(Role)
    assert accounts.create_demo_accounts(settings=settings) == []  # kept, not made twice
    demo = accounts.DEMO_ACCOUNTS[0]
    with pytest.raises(PermissionDeniedError, match="sign-in refused"):
        accounts.sign_in(demo.username, demo.password, settings=settings)
    in_demo = settings.model_copy(update={"demo_mode": True})
    assert accounts.sign_in(demo.username, demo.password, settings=in_demo).user.role is demo.role
