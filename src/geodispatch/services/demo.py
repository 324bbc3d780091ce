"""Load the bundled Boston sample so a new installation has real data on first start."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from geodispatch.config import Settings, get_settings
from geodispatch.services.field import DEMO_PIN, give_demo_pins
from geodispatch.services.intake import ImportSummary, Progress, import_file
from geodispatch.services.overview import request_total
from geodispatch.services.workflow import group_new_requests

#: The sample files, relative to ``settings.data_dir``, in load order.
DEMO_FILES = (
    Path("boston/311_service_requests_2011.csv.gz"),
    Path("boston/311_open_backlog_2025_subset.csv"),
)


@dataclass(slots=True)
class DemoReport:
    """What loading the demo did."""

    skipped: bool = False
    imports: list[ImportSummary] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)


def load_demo(
    *, if_empty: bool = False, settings: Settings | None = None, progress: Progress | None = None
) -> DemoReport:
    """Import the Boston sample; with ``if_empty`` do nothing when requests already exist."""
    settings = settings or get_settings()
    report = DemoReport()
    if if_empty and request_total(settings) > 0:
        report.skipped = True
        return report
    for relative in DEMO_FILES:
        path = settings.data_dir / relative
        summary = import_file(path, source="boston", settings=settings, progress=progress)
        report.imports.append(summary)
        report.steps.append(f"imported {relative.name}: {summary.accepted:,} requests")
    grouping = group_new_requests(settings=settings)
    report.steps.append(
        f"grouped {grouping.requests:,} open requests into {grouping.new_jobs:,} jobs "
        f"({grouping.merged:,} repeat reports merged)"
    )
    pins = give_demo_pins(settings=settings)
    if pins:
        report.steps.append(f"gave {pins} crews the demo PIN {DEMO_PIN}")
    return report
