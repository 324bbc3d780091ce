"""Open311 API keys: one per client system (a city app, a partner), revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A client's key as the city manages it; the secret itself is never kept.

    ``prefix`` is the key's first characters, so an operator can tell keys apart.
    """

    id: int
    name: str
    contact: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the key is still accepted."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just created: ``secret`` is shown once and cannot be read back later."""

    key: ApiKey
    secret: str
