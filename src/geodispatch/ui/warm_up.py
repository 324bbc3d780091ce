"""Fill the pages' caches in the background, so nobody waits for a figure nobody asked for yet.

When the server starts (and again after an import changes the data), a background thread
imports what the pages use and computes what each page shows when it opens with its
default filters: today's plan and its route map, the hotspot choices, ward table, list and
map, the SLA figures, the overview counts and the public figures. The pages call the same
cached readers (:mod:`geodispatch.ui.data`), so the first person to open a page gets it
from the cache.

A failure here is only logged: the page then computes its figures itself, as it would
without the warm-up. ``GEODISPATCH_WARM_UP=false`` turns it off (the tests do).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from geodispatch.config import get_settings
from geodispatch.services import board, hotspots
from geodispatch.ui import data

LOG = logging.getLogger(__name__)

#: Modules only some pages import (the import page's readers and geocoder, the crew's
#: phone widgets): imported ahead so that page's first visit does not pay for them.
PAGE_MODULES = (
    "geodispatch.services.intake",
    "geodispatch.services.sla",
    "geodispatch.ui.crew",
    "geodispatch.ui.geolocation",
)

#: What a page shows when it opens: the hotspot page's filters all cleared, all time,
#: problem hotspots only (no mixed places, no one-address hotspots, no crew activity).
DEFAULT_HOTSPOTS = hotspots.HotspotFilter()


@dataclass
class WarmUp:
    """What the last warm-up did: seconds per step, any failure, and whether it is done."""

    steps: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def seconds(self) -> float:
        """Total seconds of the steps run."""
        return sum(self.steps.values())


def _plan() -> None:
    plan_id = board.current_plan_id(board.today())
    if plan_id is not None:
        data.plan_board(plan_id)
        data.plan_map(plan_id)


def _hotspots() -> None:
    data.hotspot_choices()
    data.ward_summary(DEFAULT_HOTSPOTS)
    data.hotspot_lists(DEFAULT_HOTSPOTS)
    data.hotspot_map(DEFAULT_HOTSPOTS)


STEPS: tuple[tuple[str, Callable[[], object]], ...] = (
    ("page modules", lambda: [importlib.import_module(m) for m in PAGE_MODULES]),
    ("public figures", lambda: data.public_figures(None)),
    ("plan today", _plan),
    ("hotspots", _hotspots),
    ("SLA figures", lambda: data.performance_figures(None, None, None, None)),
    ("overview", data.overview_figures),
)


def warm_page_caches(report: WarmUp | None = None) -> WarmUp:
    """Run every warm-up step now (in this thread); returns what each step took."""
    report = report or WarmUp()
    for name, step in STEPS:
        began = time.perf_counter()
        try:
            step()
        except Exception as exc:  # any failure: the page computes it itself later
            report.failed[name] = f"{type(exc).__name__}: {exc}"
            LOG.warning("warm-up step %r failed: %s", name, exc)
        report.steps[name] = time.perf_counter() - began
    report.done.set()
    # one line in the server's log, so an operator (and bench/app.py) sees it is ready
    print(
        f"geodispatch: page figures ready (warmed in {report.seconds:.1f} s"
        + (f"; failed: {', '.join(report.failed)}" if report.failed else "")
        + ")",
        file=sys.stderr,
        flush=True,
    )
    return report


def warm_in_background() -> WarmUp | None:
    """Start a warm-up thread (unless ``warm_up`` is off); returns its report to watch."""
    if not get_settings().warm_up:
        return None
    report = WarmUp()
    thread = threading.Thread(
        target=warm_page_caches, args=(report,), name="geodispatch-warm-up", daemon=True
    )
    # the session's context lets the thread use Streamlit's caches without warnings
    add_script_run_ctx(thread, get_script_run_ctx())
    thread.start()
    return report


@st.cache_resource(show_spinner=False)
def _warm_once(database_url: str) -> WarmUp | None:
    del database_url  # the cache key: one warm-up per database
    return warm_in_background()


def warm_once() -> WarmUp | None:
    """Start (once per server process and database) the warm-up; the first session does."""
    return _warm_once(get_settings().database_url)
