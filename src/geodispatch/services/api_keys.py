"""Open311 API keys per client: create (the secret is shown once), list, revoke, check.

Keys are 256-bit random secrets, so a SHA-256 of the key is enough to store (no slow
password hash is needed for a secret nobody can guess); the database never holds a key
that works. The settings' plain ``api_keys`` are demo keys: accepted only in demo mode.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Final

from geodispatch.config import Settings, get_settings
from geodispatch.domain.accounts import Action, StaffUser, require
from geodispatch.domain.api_keys import ApiKey, NewApiKey
from geodispatch.domain.errors import InputError, NotFoundError
from geodispatch.services.credentials import token_hash
from geodispatch.services.workflow import database_url
from geodispatch.storage import api_keys_repo
from geodispatch.storage.db import session_scope

#: Every key starts with this, so a leaked one is easy to recognise (and to scan for).
KEY_PREFIX: Final = "gd_"
NAME_MAX: Final = 100
CONTACT_MAX: Final = 200


def create_key(
    name: str,
    *,
    contact: str = "",
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> NewApiKey:
    """A new key for the client ``name``; the returned secret is shown once, never stored.

    A signed-in ``by`` (the admin page) must be allowed to manage accounts and keys; None is
    the server's operator (the CLI).

    Raises
    ------
    InputError
        An empty or too long name or contact.
    """
    _allowed(by)
    settings = settings or get_settings()
    name, contact = name.strip(), contact.strip()
    if not name:
        raise InputError("name the client this key is for (e.g. 'BOS:311 app')")
    if len(name) > NAME_MAX or len(contact) > CONTACT_MAX:
        raise InputError(
            f"the name is at most {NAME_MAX} characters and the contact {CONTACT_MAX}; shorten them"
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope(database_url(settings)) as session:
        key = api_keys_repo.add_key(
            session,
            name=name,
            contact=contact,
            prefix=secret[:10],
            key_hash=token_hash(secret),
            now=now or datetime.now(UTC),
        )
    return NewApiKey(key, secret)


def list_keys(*, by: StaffUser | None = None, settings: Settings | None = None) -> list[ApiKey]:
    """Every key (revoked ones too), newest first."""
    _allowed(by)
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        return api_keys_repo.list_keys(session)


def revoke_key(
    key_id: int,
    *,
    by: StaffUser | None = None,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> ApiKey:
    """Revoke a key at once: its client's next POST is refused (403).

    Raises
    ------
    NotFoundError
        No key has this id.
    """
    _allowed(by)
    settings = settings or get_settings()
    with session_scope(database_url(settings)) as session:
        key = api_keys_repo.revoke_key(session, key_id, now=now or datetime.now(UTC))
    if key is None:
        raise NotFoundError(f"no API key {key_id}; 'geodispatch keys list' shows them")
    return key


def _allowed(by: StaffUser | None) -> None:
    """Refuse a signed-in account whose role may not manage keys (None: the CLI operator)."""
    if by is not None:
        require(by, Action.MANAGE_ACCOUNTS)


def check_key(
    secret: str | None, *, settings: Settings | None = None, now: datetime | None = None
) -> str | None:
    """The client name an API key belongs to (its last use recorded); None if not valid.

    A demo key from the settings counts only in demo mode, as the client "demo".
    """
    settings = settings or get_settings()
    if not secret or len(secret) > 200:
        return None
    if settings.demo_mode and any(
        hmac.compare_digest(secret.encode(), demo.encode()) for demo in settings.api_key_set
    ):
        return "demo"
    if not secret.startswith(KEY_PREFIX):
        return None
    with session_scope(database_url(settings)) as session:
        key = api_keys_repo.use_key(session, token_hash(secret), now=now or datetime.now(UTC))
    return None if key is None else key.name
