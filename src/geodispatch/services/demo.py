"""Load the bundled Boston sample so a new installation has real data on first start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from geodispatch.config import Settings, get_settings
from geodispatch.services import clock
from geodispatch.services.accounts import DEMO_ACCOUNTS, DemoAccount, create_demo_accounts
from geodispatch.services.dispatch import (
    list_crews,
    plan_day,
    plan_summaries,
    publish_plan,
    seed_crews,
)
from geodispatch.services.field import DEMO_PIN, give_demo_pins
from geodispatch.services.hotspots import hotspot_map_html, refresh_hotspots
from geodispatch.services.intake import ImportSummary, Progress, import_file
from geodispatch.services.overview import request_total
from geodispatch.storage import overview_repo
from geodispatch.storage.db import ensure_schema, session_scope

#: The sample files, relative to ``settings.data_dir``, in load order.
DEMO_FILES = (
    Path("boston/311_service_requests_2011.csv.gz"),
    Path("boston/311_open_backlog_2025_subset.csv"),
)


#: End of the 2011 sample (in UTC): hotspots are found over it, trends over its last 90 days.
DEMO_HOTSPOTS_UNTIL = datetime(2012, 1, 1, 5, 0, tzinfo=UTC)


@dataclass(slots=True)
class DemoReport:
    """What loading the demo did."""

    skipped: bool = False
    imports: list[ImportSummary] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    #: One account per role; their passwords work only in demo mode (GEODISPATCH_DEMO_MODE).
    accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS
    accounts_created: int = 0


def load_demo(
    *, if_empty: bool = False, settings: Settings | None = None, progress: Progress | None = None
) -> DemoReport:
    """Import the Boston sample; with ``if_empty`` import nothing when requests exist.

    The product's clock is pinned to the data's last day (:func:`pin_to_data`), so the
    open backlog, SLA states and trend windows read as they did then; the app and CLI say
    so. When that day has no plan yet, one is made and published (as a dispatcher's
    morning would), and the hotspot map the app opens with is drawn again for the changed
    statuses.
    """
    settings = settings or get_settings()
    report = DemoReport()
    report.accounts_created = len(create_demo_accounts(settings=settings))
    if if_empty and request_total(settings) > 0:
        report.skipped = True
        if not clock.city_clock(settings).pinned:  # a demo loaded before the clock existed
            report.steps.append(pin_to_data(settings))
        if not plan_summaries(day=clock.today(settings), limit=1, settings=settings):
            report.steps.extend(dispatch_demo_step(settings, seed=False))
            report.steps.extend(app_demo_step(settings))  # publishing changed the data
        return report
    for relative in DEMO_FILES:
        path = settings.data_dir / relative
        summary = import_file(path, source="boston", settings=settings, progress=progress)
        report.imports.append(summary)
        report.steps.append(
            f"imported {relative.name}: {summary.accepted:,} requests; open reports "
            f"{summary.grouping.describe()}"
        )
        located = summary.located  # geocoding and ward assignment ran inside the import
        report.steps.append(
            f"located {relative.name}: geocoded {located.geocoded:,} of {located.tried:,} "
            f"requests without coordinates ({located.flagged:,} flagged for review), "
            f"ward assigned to {located.assigned.get('ward', 0):,}"
        )
    report.steps.append(pin_to_data(settings))
    # hotspots of the 2011 history (its last 90 days are the trend window); the 2025 open
    # backlog is then tagged with the hotspots its cases fall in
    found = refresh_hotspots(until=DEMO_HOTSPOTS_UNTIL, settings=settings, progress=progress)
    report.steps.append(
        f"found {found.hotspots:,} hotspots in the 2011 requests "
        f"({found.by_trend.get('new', 0)} new, {found.by_trend.get('intensifying', 0)} "
        f"intensifying); {found.tagged:,} requests tagged"
    )
    report.steps.extend(dispatch_demo_step(settings))
    pins = give_demo_pins(settings=settings)
    if pins:
        report.steps.append(f"gave {pins} crews the demo PIN {DEMO_PIN}")
    report.steps.extend(app_demo_step(settings))
    return report


def app_demo_step(settings: Settings) -> list[str]:
    """Draw the managers' city-wide hotspot map once, so the app's first view is instant."""
    page = hotspot_map_html(settings=settings)
    return [f"drew the city-wide hotspot map for the app ({len(page) / 1e6:.1f} MB, kept)"]


def pin_to_data(settings: Settings) -> str:
    """Pin the product's day to the last day a request was opened; say which day."""
    with session_scope(ensure_schema(settings.database_url)) as session:
        newest = overview_repo.latest_created(session)
    if newest is None:
        return "no requests: the clock stays on the real date"
    day = newest.tz_convert(settings.timezone).date()
    clock.pin_demo_day(day, settings=settings)
    return f"pinned the product's day to {day}, the demo data's last day (the app says so)"


def dispatch_demo_step(settings: Settings, *, seed: bool = True) -> list[str]:
    """Seed the Boston crew roster (``seed``) and publish the day's morning plan (2 s search).

    The plan is made as the dispatcher makes it before the crews leave (at the earliest
    shift start), whatever the time of day the demo is loaded.
    """
    steps = []
    if seed:
        steps.append(f"seeded {seed_crews(settings=settings)} crews at Boston's public works yards")
    now = clock.now(settings)
    today = now.date()
    zone = ZoneInfo(settings.timezone)
    starts = [c.shift_on(today, zone)[0] for c in list_crews(settings=settings) if c.active]
    morning = min([now, *starts])
    outcome = plan_day(today, now=morning, time_limit_s=2.0, created_by="demo", settings=settings)
    if outcome.plan.served == 0:
        steps.append(
            f"planned {today}: no open field job could be routed (plan {outcome.plan_id} kept "
            f"as a draft); {outcome.backlog:,} open jobs past their age limit wait in backlog "
            "review"
        )
        return steps
    published = publish_plan(outcome.plan_id, settings=settings)
    steps.append(
        f"planned {today} (the morning plan, made at {morning:%H:%M}): {outcome.plan.served} "
        f"jobs on {len(outcome.plan.routes)} routes (plan {outcome.plan_id}, published; "
        f"{published.assigned} jobs now Work assigned); {outcome.backlog:,} open jobs past "
        "their age limit wait in backlog review"
    )
    return steps
