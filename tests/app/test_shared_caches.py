"""Figures every session shares (``st.cache_resource``) come out of the pages unchanged.

The plan board and the hotspot lists are shared, not copied per visit: a page that changed
one in place would change it for every dispatcher and manager on the server.
"""

from __future__ import annotations

import pandas as pd

from geodispatch.config import Settings
from geodispatch.services import board
from geodispatch.ui import data
from geodispatch.ui.warm_up import DEFAULT_HOTSPOTS
from tests.app.conftest import open_app


def fingerprint(*frames: pd.DataFrame) -> list[tuple[tuple[str, ...], int]]:
    """Columns and a hash of every value of each frame."""
    return [
        (tuple(map(str, f.columns)), int(pd.util.hash_pandas_object(f.astype(str)).sum()))
        for f in frames
    ]


def test_the_plan_and_hotspot_pages_leave_the_shared_figures_as_they_found_them(
    boston: Settings,
) -> None:
    plan_id = board.current_plan_id(board.today())
    assert plan_id is not None
    plan = data.plan_board(plan_id)
    found, emerging = data.hotspot_lists(DEFAULT_HOTSPOTS)
    before = fingerprint(plan.stops, plan.dropped, plan.crews, plan.reasons, found, emerging)

    desk = open_app("Dispatcher")
    for view in ("Routes", "Stops", "Left out"):
        desk.segmented_control(key="plan-view").set_value(view).run()
        assert not desk.exception
    open_app("Manager")  # the hotspot page, default filters

    assert data.plan_board(plan_id) is plan  # the same shared board, not a copy
    after = fingerprint(plan.stops, plan.dropped, plan.crews, plan.reasons, found, emerging)
    assert after == before
