"""Staff accounts: create and manage them, sign in and out, check a sign-in (issue 18).

Passwords are stored only as Argon2 hashes and sign-in tokens only as their SHA-256.
After five wrong passwords in a row an account's sign-in pauses for five minutes; every
refusal says the same thing (unknown user, wrong password, disabled, paused) and costs
the same hash, so the answer never tells whether an account exists. Account changes
made from the app pass the acting account as ``by`` and need the admin's
``MANAGE_ACCOUNTS`` right; ``by=None`` is the operator on the server (the CLI).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from argon2.exceptions import InvalidHashError, VerificationError

from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import (
    MAX_PASSWORD,
    Action,
    Role,
    StaffUser,
    check_password,
    check_username,
    check_wards,
    parse_role,
    require,
)
from geodispatch.domain.errors import InputError, NotFoundError, PermissionDeniedError
from geodispatch.services.credentials import HASHER, decoy_hash, token_hash
from geodispatch.storage import accounts_repo as repo
from geodispatch.storage.accounts_repo import UserRecord
from geodispatch.storage.db import Session, ensure_schema, session_scope

THROTTLE_AFTER: Final = 5  # wrong passwords in a row
THROTTLE_FOR: Final = timedelta(minutes=5)
#: The one answer to every refused sign-in, so it never tells whether an account exists.
REFUSED: Final = (
    "sign-in refused: wrong username or password, or too many attempts (wait five "
    "minutes and try again; an admin can reset the password)"
)


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the admin page and CLI list it (never its password hash)."""

    username: str
    display_name: str
    email: str | None
    role: Role
    wards: tuple[int, ...]
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None
    failed_attempts: int
    has_password: bool


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in: the bearer token for this browser session, its expiry, who."""

    token: str
    expires_at: datetime
    user: StaffUser


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """One demo account per role; its password works only while demo mode is on."""

    username: str
    role: Role
    password: str
    wards: tuple[int, ...] = ()


#: The demo's accounts. Their passwords are public, so sign-in refuses them outside demo mode.
DEMO_ACCOUNTS: Final = (
    DemoAccount("dispatcher", Role.DISPATCHER, "demo-dispatcher-pass"),
    DemoAccount("supervisor", Role.SUPERVISOR, "demo-supervisor-pass"),
    DemoAccount("manager", Role.MANAGER, "demo-manager-pass"),
    DemoAccount("admin", Role.ADMIN, "demo-admin-pass"),
    DemoAccount("council", Role.COUNCIL, "demo-council-pass", wards=(3, 8)),
)


def _url(settings: Settings) -> str:
    return ensure_schema(settings.database_url)


def _staff(record: UserRecord) -> StaffUser:
    return StaffUser(
        username=record.username,
        display_name=record.display_name or record.username,
        role=Role(record.role),
        wards=record.wards,
    )


def _account(record: UserRecord) -> Account:
    return Account(
        username=record.username,
        display_name=record.display_name,
        email=record.email,
        role=Role(record.role),
        wards=record.wards,
        disabled=record.disabled,
        created_at=record.created_at,
        last_sign_in_at=record.last_sign_in_at,
        failed_attempts=record.failed_attempts,
        has_password=bool(record.password_hash),
    )


def _allowed(by: StaffUser | None) -> None:
    if by is not None:
        require(by, Action.MANAGE_ACCOUNTS)


def _email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    text = email.strip().lower()
    if "@" not in text or len(text) > 254 or any(c.isspace() for c in text):
        raise InputError(f"e-mail {email[:60]!r} is not an address like 'ana@city.gov'")
    return text


def create_user(
    username: str,
    role: Role | str,
    *,
    password: str | None = None,
    display_name: str = "",
    email: str | None = None,
    wards: Iterable[int] = (),
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Account:
    """Create a staff account; ``password`` None leaves sign-in to single sign-on (e-mail).

    Raises InputError for a bad username, password, role, wards or a username or e-mail
    already taken.
    """
    _allowed(by)
    settings = settings or get_settings()
    name = check_username(username)
    chosen = role if isinstance(role, Role) else parse_role(role)
    ward_set = check_wards(chosen, wards)
    mail = _email(email)
    if password is None and mail is None:
        raise InputError(
            f"account {name!r} needs a password or an e-mail for single sign-on (or both)"
        )
    hashed = HASHER.hash(check_password(password)) if password is not None else ""
    with session_scope(_url(settings)) as session:
        if repo.get_user(session, name) is not None:
            raise InputError(f"username {name!r} is taken; choose another or change that account")
        if mail is not None and repo.user_by_email(session, mail) is not None:
            raise InputError(f"e-mail {mail!r} already belongs to another account")
        record = repo.add_user(
            session,
            username=name,
            display_name=display_name.strip()[:120],
            email=mail,
            role=chosen.value,
            wards=ward_set,
            password_hash=hashed,
            now=now or datetime.now(UTC),
        )
    return _account(record)


def list_users(*, by: StaffUser | None = None, settings: Settings | None = None) -> list[Account]:
    """Every account, by username (no password hashes)."""
    _allowed(by)
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        return [_account(r) for r in repo.list_users(session)]


def has_users(settings: Settings | None = None) -> bool:
    """True when at least one staff account exists (the sign-in page says how to add one)."""
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        return repo.count_users(session) > 0


def _existing(session: Session, username: str) -> UserRecord:
    record = repo.get_user(session, username.strip().lower())
    if record is None:
        raise NotFoundError(f"no account {username[:70]!r}; see 'geodispatch users list'")
    return record


def _change(
    username: str,
    values: Mapping[str, object],
    *,
    by: StaffUser | None,
    settings: Settings | None,
    now: datetime | None,
    end_sessions: bool = True,
    refuse_self: str = "",
) -> Account:
    """Store ``values`` on an account and (by default) end its open sign-ins.

    ``refuse_self`` is the message refusing an admin this change of their own account.
    """
    _allowed(by)
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        record = _existing(session, username)
        if refuse_self and by is not None and record.username == by.username:
            raise InputError(refuse_self)
        repo.update_user(session, record.id, **values)
        if end_sessions:
            repo.revoke_user_sessions(session, record.id, now=now or datetime.now(UTC))
        return _account(_existing(session, record.username))


def set_role(
    username: str,
    role: Role | str,
    *,
    wards: Iterable[int] = (),
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Account:
    """Give an account a new role (and council wards); its open sign-ins end."""
    chosen = role if isinstance(role, Role) else parse_role(role)
    values = {"role": chosen.value, "wards": check_wards(chosen, wards)}
    demotes = chosen is not Role.ADMIN
    refusal = "an admin cannot take away their own admin role; ask another admin"
    return _change(
        username,
        values,
        by=by,
        settings=settings,
        now=now,
        refuse_self=refusal if demotes else "",
    )


def reset_password(
    username: str,
    password: str,
    *,
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Account:
    """Set a new password; the failure count and pause clear and open sign-ins end."""
    _allowed(by)
    hashed = HASHER.hash(check_password(password))
    values = {"password_hash": hashed, "failed_attempts": 0, "locked_until": None}
    return _change(username, values, by=by, settings=settings, now=now)


def set_disabled(
    username: str,
    *,
    disabled: bool,
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Account:
    """Disable an account (its sign-ins end at once) or enable it again."""
    return _change(
        username,
        {"disabled": disabled},
        by=by,
        settings=settings,
        now=now,
        end_sessions=disabled,
        refuse_self="an admin cannot disable their own account; ask another admin"
        if disabled
        else "",
    )


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(HASHER.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def _spend_a_verification(password: str) -> None:
    """Verify against a decoy hash, so a refusal costs what a wrong password costs."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        HASHER.verify(decoy_hash(), password)


def _is_demo_password(username: str, password: str) -> bool:
    return any(d.username == username and d.password == password for d in DEMO_ACCOUNTS)


def _open_session(session: Session, record: UserRecord, at: datetime, hours: float) -> SignIn:
    token = secrets.token_urlsafe(32)
    expires = at + timedelta(hours=hours)
    repo.add_session(session, record.id, token_hash(token), now=at, expires=expires)
    repo.record_good_sign_in(session, record.id, at=at)
    return SignIn(token, expires, _staff(record))


def sign_in(
    username: str, password: str, *, settings: Settings | None = None, now: datetime | None = None
) -> SignIn:
    """Check a username and password and open a session of ``settings.session_hours``.

    Raises
    ------
    PermissionDeniedError
        With the same message for an unknown user, a wrong password, a disabled or
        SSO-only account, a paused account, and demo passwords outside demo mode.
    """
    if len(password) > MAX_PASSWORD:  # never a valid password: refuse without hashing it
        raise PermissionDeniedError(REFUSED)
    settings = settings or get_settings()
    at = now or datetime.now(UTC)
    name = username.strip().lower()[:64]
    url = _url(settings)
    attempt = 0
    with session_scope(url) as session:
        record = repo.get_user(session, name)
        usable = record is not None and not record.disabled and bool(record.password_hash)
        if record is not None and usable:
            attempt = repo.count_sign_in_attempt(
                session, record.id, now=at, throttle_after=THROTTLE_AFTER, pause=THROTTLE_FOR
            )
    demo_refused = not settings.demo_mode and _is_demo_password(name, password)
    if record is None or not usable or attempt > THROTTLE_AFTER or demo_refused:
        _spend_a_verification(password)
        raise PermissionDeniedError(REFUSED)
    if not _verify(record.password_hash, password):
        raise PermissionDeniedError(REFUSED)
    with session_scope(url) as session:
        return _open_session(session, record, at, settings.session_hours)


def sign_in_sso(
    email: str, *, settings: Settings | None = None, now: datetime | None = None
) -> SignIn:
    """Open a session for the account whose e-mail the city's single sign-on vouched for.

    Raises PermissionDeniedError when no enabled account has that e-mail: the identity
    provider says who someone is, only a local account says what they may do.
    """
    settings = settings or get_settings()
    at = now or datetime.now(UTC)
    mail = email.strip().lower()
    with session_scope(_url(settings)) as session:
        record = repo.user_by_email(session, mail) if mail else None
        if record is None or record.disabled:
            raise PermissionDeniedError(
                f"{email[:80]!r} has no staff account here; ask an admin to add one with "
                "this e-mail (the public pages need no account)"
            )
        return _open_session(session, record, at, settings.session_hours)


def sign_out(token: str, *, settings: Settings | None = None, now: datetime | None = None) -> None:
    """End a session (no effect when it already ended)."""
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        repo.revoke_session(session, token_hash(token), now=now or datetime.now(UTC))


def user_for_token(
    token: str, *, settings: Settings | None = None, now: datetime | None = None
) -> StaffUser:
    """The signed-in account of a live session; PermissionDeniedError when not valid.

    A session ends when it expires, is signed out, or its account is disabled, given a
    new role or a new password.
    """
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        record = repo.user_for_session(session, token_hash(token), now=now or datetime.now(UTC))
    if record is None:
        raise PermissionDeniedError("your sign-in has ended; sign in again")
    return _staff(record)


def create_demo_accounts(*, settings: Settings | None = None) -> list[DemoAccount]:
    """One account per role with the demo's public passwords; existing ones are kept.

    Returns the accounts created now. Their passwords work only while demo mode is on.
    """
    settings = settings or get_settings()
    with session_scope(_url(settings)) as session:
        taken = {r.username for r in repo.list_users(session)}
    made = []
    for demo in DEMO_ACCOUNTS:
        if demo.username in taken:
            continue
        create_user(
            demo.username,
            demo.role,
            password=demo.password,
            display_name=f"Demo {demo.role.label.lower()}",
            wards=demo.wards,
            settings=settings,
        )
        made.append(demo)
    return made
