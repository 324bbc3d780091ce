"""Settings, read only at the edges (CLI, API, app, services) and passed into the core."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator may set, from ``GEODISPATCH_*`` variables or a ``.env`` file.

    ``home`` holds the SQLite database and uploaded photos; ``db_url`` overrides the
    database with any SQLAlchemy URL (e.g. ``postgresql+psycopg://user@host/geodispatch``).
    """

    model_config = SettingsConfigDict(env_prefix="GEODISPATCH_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="folder for the database and photos")
    db_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in home")
    timezone: str = Field(default="America/New_York", description="the city's local time zone")
    data_dir: Path = Field(default=Path("data"), description="bundled data: sample, boundaries")
    working_crs: str = Field(default="EPSG:26986", description="metric CRS for distances")
    seed: int = 0

    @property
    def database_url(self) -> str:
        """The URL to connect to: ``db_url`` if set, else a SQLite file under ``home``."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'geodispatch.db').as_posix()}"


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
