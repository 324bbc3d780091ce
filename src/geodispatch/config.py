"""Settings, read only at the edges (CLI, API, app, services) and passed into the core."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AreaLayer(BaseModel):
    """One polygon layer requests are assigned to (``name`` 'ward' also fills requests.ward).

    ``path`` is relative to ``data_dir`` unless absolute; ``crs`` states the CRS of a file
    that declares none (Boston's precinct and neighbourhood files are EPSG:2249, US feet).
    """

    name: str
    path: Path
    id_column: str
    crs: str | None = None


#: Boston's bundled layers; a city replaces them with GEODISPATCH_AREA_LAYERS (JSON list).
BOSTON_LAYERS = [
    AreaLayer(name="ward", path=Path("boundaries/wards_2012-2022.geojson"), id_column="WARD"),
    AreaLayer(
        name="precinct",
        path=Path("boundaries/precincts_2012-2022_epsg2249.geojson"),
        id_column="WARD_PRECINCT",
        crs="EPSG:2249",
    ),
    AreaLayer(
        name="neighborhood",
        path=Path("boundaries/neighborhoods_epsg2249.geojson"),
        id_column="Name",
        crs="EPSG:2249",
    ),
]


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
    models_dir: Path = Field(
        default=Path("models"),
        description="trained model artefacts (empty or missing: rules and no suggestions)",
    )
    working_crs: str = Field(default="EPSG:26986", description="metric CRS for distances")
    seed: int = 0
    clock: str = Field(
        default="",
        description="pin the product's day: 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM' (time fixed); "
        "empty = the real time, or the day the demo pinned when it loaded its data",
    )
    road_network: Path | None = Field(
        default=None,
        description="OpenStreetMap extract (.osm.pbf or .osm) for road travel times; "
        "unset = straight-line times",
    )
    max_age_days: int = Field(
        default=180,
        description="jobs older than this go to backlog review instead of routes, unless "
        "their service type sets its own limit",
    )
    # workflow, SLA and API (issue 6)
    api_keys: str = Field(
        default="geodispatch-demo",
        description="comma-separated demo Open311 API keys; accepted only in demo mode "
        "(real clients get keys from 'geodispatch keys add')",
    )
    demo_mode: bool = Field(default=False, description="demo data and demo credentials are enabled")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="the API's public address (scheme, host, port, path prefix) for Open311 "
        "discovery; never taken from a request's Host header",
    )
    service_area_margin_m: float = Field(
        default=1000.0,
        ge=0,
        description="points farther than this outside the ward layer are refused at intake",
    )
    # abuse limits (issue 18); "N/period" as the limits library writes them
    rate_limit_posts: str = Field(
        default="30/minute", description="POSTs per client address (Open311 reports, crew updates)"
    )
    rate_limit_sign_ins: str = Field(
        default="10/minute;60/hour", description="crew sign-in attempts per client address"
    )
    sign_in_failures_per_source: str = Field(
        default="5/15 minutes",
        description="failed crew sign-ins one client address may make before it must wait "
        "(checked before any crew's lockout counts, so strangers cannot lock crews out)",
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated proxy addresses whose X-Forwarded-For is believed; empty: "
        "the connecting address is the client",
    )
    photo_daily_quota_bytes: int = Field(
        default=200_000_000, ge=0, description="photo bytes one crew may store per local day"
    )
    jurisdiction_id: str = Field(default="", description="Open311 jurisdiction_id; empty = any")
    sla_calendar: str = Field(
        default="", description="working hours for SLA clocks, e.g. 'mon-fri 07:00-15:30'"
    )
    dedup_radius_m: float = Field(default=30.0, description="repeat reports within this radius")
    dedup_window_days: float = Field(default=14.0, description="... and this many days")
    done_radius_m: float = Field(default=150.0, description="'done' farther away is flagged")
    photo_max_bytes: int = Field(default=8_000_000, description="largest crew photo accepted")
    warm_up: bool = Field(
        default=True, description="the app fills its pages' caches in the background at start"
    )
    address_index: Path = Field(
        default=Path("geocoding/boston_addresses.csv.gz"),
        description="address points (OpenAddresses columns), relative to data_dir",
    )
    intersection_index: Path = Field(
        default=Path("geocoding/boston_intersections.csv.gz"),
        description="street intersections (street_a, street_b, city, postcode, lon, lat)",
    )
    place_table: Path = Field(
        default=Path("geocoding/boston_places.csv"),
        description="street aliases, landmarks, neighbouring towns (kind, name, means, lon, "
        "lat, source); empty for none",
    )
    online_geocoder: str = Field(
        default="", description="'' (off) or 'nominatim': asked only when offline finds nothing"
    )
    online_user_agent: str = Field(default="geodispatch", description="sent to online geocoders")
    # staff accounts (issue 18)
    session_hours: float = Field(
        default=10.0, gt=0, le=24 * 14, description="a staff sign-in lasts this many hours"
    )
    closure_rules: Path | None = Field(
        default=None,
        description="TOML rules reading source closure notes (unset: Boston's shipped rules)",
    )
    rereport_radius_m: float = Field(
        default=50.0, description="a report this close to a completed job may be a re-report"
    )
    rereport_window_days: float = Field(
        default=30.0, description="... within this many days after it was completed"
    )
    # residents in the loop (issue 25); mail is off while smtp_host is empty
    public_app_url: str = Field(
        default="http://localhost:8501",
        description="the web app's public address, for tracking links in mails and receipts",
    )
    smtp_host: str = Field(default="", description="SMTP server for resident mail; empty = off")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    smtp_tls: str = Field(
        default="starttls", description="'starttls', 'ssl' (implicit TLS) or 'none' (local relay)"
    )
    smtp_user: str = Field(default="", description="SMTP login; empty = no login")
    smtp_password: str = Field(default="", description="SMTP password")
    smtp_sender: str = Field(
        default="", description="From address of resident mail, e.g. 311@city.example"
    )
    notify_max_age_hours: float = Field(
        default=72.0, gt=0, description="a mail not sent within this many hours is dropped"
    )
    area_layers: list[AreaLayer] = Field(
        default_factory=lambda: list(BOSTON_LAYERS),
        description="polygon layers every request is assigned to",
    )

    def data_path(self, path: Path) -> Path:
        """``path`` resolved against ``data_dir`` unless it is absolute."""
        return path if path.is_absolute() else self.data_dir / path

    @property
    def database_url(self) -> str:
        """The URL to connect to: ``db_url`` if set, else a SQLite file under ``home``."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'geodispatch.db').as_posix()}"

    @property
    def api_key_set(self) -> frozenset[str]:
        """The accepted Open311 API keys."""
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
