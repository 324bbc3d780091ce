"""How secrets are kept: one Argon2 hasher for passwords and PINs, SHA-256 for tokens.

Staff passwords (services.accounts), crew PINs (services.field) and random tokens (staff
sessions, crew sign-ins, Open311 API keys) share these, so every refusal costs the same
work wherever it is made.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from typing import Final

from argon2 import PasswordHasher

#: The Argon2 hasher of passwords and PINs (argon2-cffi's recommended parameters).
HASHER: Final = PasswordHasher()


def token_hash(token: str) -> str:
    """The stored form of a random token: its SHA-256, hex (the token has all the entropy)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def decoy_hash() -> str:
    """An Argon2 hash nothing matches, made once.

    Verifying against it costs what a real check costs, so a refusal does not tell an
    unknown account or crew from a wrong secret.
    """
    return HASHER.hash(secrets.token_hex(16))
