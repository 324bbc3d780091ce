"""Cached service reads for the pages: the first render is fast, reruns are instant.

Each wrapper keys its cache on the database URL and a data version the service offers
(a plan's state token, the requests/hotspots version), so a crew's tap or an import
shows up on the next rerun while unchanged data is never read twice.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from geodispatch.config import get_settings
from geodispatch.domain.accounts import StaffUser
from geodispatch.reporting.maps import MapParams
from geodispatch.reporting.ward_summary import WardSummary
from geodispatch.services import board, hotspots, overview, performance, public
from geodispatch.services.hotspots import HotspotFilter


def _url() -> str:
    return get_settings().database_url


#: One shared board per plan state, not a copy per page visit: a day's board holds every
#: job left out (5,492 on the Boston demo, 4.3 MB pickled), and ``st.cache_data``'s copy
#: on each hit cost the plan page 0.2-0.3 s of its first render. Pages only read it.
@st.cache_resource(show_spinner=False, max_entries=16)
def _plan_board(url: str, plan_id: int, token: tuple[int, int, int, str]) -> board.PlanBoard:
    del url, token  # cache keys only
    return board.plan_board(plan_id)


def plan_board(plan_id: int) -> board.PlanBoard:
    """The plan's tables, rebuilt only when the plan or one of its stops changed.

    Shared between sessions: read it, never change it in place.
    """
    return _plan_board(_url(), plan_id, board.plan_token(plan_id))


@st.cache_data(show_spinner=False, max_entries=8)
def _plan_map(url: str, plan_id: int, token: tuple[int, int, int, str]) -> str:
    del url
    return board.plan_map_html(_plan_board(_url(), plan_id, token))


def plan_map(plan_id: int) -> str:
    """The plan's offline map page, rebuilt only when the plan or a stop changed."""
    return _plan_map(_url(), plan_id, board.plan_token(plan_id))


@st.cache_data(show_spinner=False, max_entries=32)
def _performance(
    url: str,
    version: tuple[int, int, str],
    since: datetime | None,
    until: datetime | None,
    department: str | None,
    ward: int | None,
    viewer: StaffUser | None,
) -> performance.Performance:
    del url, version
    return performance.performance(
        since=since, until=until, department=department, ward=ward, viewer=viewer
    )


def performance_figures(
    since: datetime | None,
    until: datetime | None,
    department: str | None,
    ward: int | None,
    *,
    viewer: StaffUser | None = None,
) -> performance.Performance:
    """SLA compliance, backlog and trends for the selection (cached per data version).

    A ward-scoped ``viewer`` (council) is refused other wards and city-wide figures.
    """
    scoped = viewer if viewer is not None and viewer.ward_scoped else None
    return _performance(_url(), hotspots.data_version(), since, until, department, ward, scoped)


@st.cache_data(show_spinner=False, max_entries=8)
def _ward_summary(
    url: str, version: tuple[int, int, str], selection: HotspotFilter | None
) -> WardSummary:
    del url, version
    return hotspots.ward_summary(selection)


def ward_summary(selection: HotspotFilter | None = None) -> WardSummary:
    """Requests and hotspots by ward for a filter (cached per data version and filter)."""
    return _ward_summary(_url(), hotspots.data_version(), selection)


@st.cache_data(show_spinner=False, max_entries=8)
def _chronic(url: str, version: tuple[int, int, str], selection: HotspotFilter) -> pd.DataFrame:
    del url, version
    return hotspots.chronic_list(selection)


def chronic_addresses(selection: HotspotFilter) -> pd.DataFrame:
    """Chronic addresses for a filter (cached per data version and filter)."""
    return _chronic(_url(), hotspots.data_version(), selection)


def hotspot_detail(hotspot_id: int) -> hotspots.HotspotDetail:
    """One hotspot with its incidents and requests (read fresh: a manager opens one)."""
    return hotspots.hotspot_detail(hotspot_id)


@st.cache_data(show_spinner=False, max_entries=4)
def _hotspot_choices(url: str, version: tuple[int, int, str]) -> hotspots.HotspotChoices:
    del url, version
    return hotspots.hotspot_choices()


def hotspot_choices() -> hotspots.HotspotChoices:
    """Types, wards and period the hotspot filters offer (cached per data version)."""
    return _hotspot_choices(_url(), hotspots.data_version())


#: Shared, not copied, like the plan board: 1.8 MB pickled for Boston's 1,677 hotspots,
#: a copy on each visit took 0.09 s of the manager's landing page (server-log timestamps).
@st.cache_resource(show_spinner=False, max_entries=16)
def _hotspot_lists(
    url: str, version: tuple[int, int, str], selection: HotspotFilter
) -> tuple[pd.DataFrame, pd.DataFrame]:
    del url, version
    return hotspots.list_hotspots(selection), hotspots.emerging_hotspots(selection)


def hotspot_lists(selection: HotspotFilter) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hotspots matching a filter and the emerging ones among them (cached per version).

    Shared between sessions: read them, never change them in place.
    """
    return _hotspot_lists(_url(), hotspots.data_version(), selection)


def hotspot_map(selection: HotspotFilter, *, every: bool = False) -> str:
    """The manager's map page for a filter (the service caches it per data version).

    By default the map draws each type's strongest hotspots (``MapParams.max_hotspots``);
    ``every`` draws them all.
    """
    return hotspots.hotspot_map_html(selection, params=_map_params(every=every))


def hotspots_hidden(found: int, *, every: bool = False) -> int:
    """How many of ``found`` hotspots the map leaves out (0 when it draws them all)."""
    limit = _map_params(every=every).max_hotspots
    return 0 if limit is None else max(0, found - limit)


def _map_params(*, every: bool) -> MapParams:
    """The hotspot map's settings: each type's strongest hotspots, or ``every`` one."""
    return MapParams(max_hotspots=None) if every else MapParams()


@st.cache_data(show_spinner=False, max_entries=8)
def _public(
    url: str, version: tuple[tuple[int, int, str], str], since: datetime | None
) -> public.PublicSummary:
    del url, version
    return public.public_summary(since=since)


def public_figures(since: datetime | None) -> public.PublicSummary:
    """Open requests and response times for residents (cached per data and catalogue version).

    ``since`` should be a whole day (see ``widgets.period_since``) so the cache holds.
    """
    return _public(_url(), public.figures_version(), since)


@st.cache_data(show_spinner=False, max_entries=4)
def _overview(url: str, version: tuple[int, int, str]) -> overview.Overview:
    del url, version
    return overview.overview()


def overview_figures() -> overview.Overview:
    """Requests by type, ward and status (cached per requests version)."""
    return _overview(_url(), hotspots.data_version())
