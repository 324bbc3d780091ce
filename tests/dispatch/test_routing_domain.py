"""Crews, lunch breaks and appointments refuse impossible values with a clear fix."""

from __future__ import annotations

import re
from datetime import time

import pytest

from geodispatch.domain.crews import Crew, Depot, LunchBreak, parse_hhmm
from geodispatch.domain.errors import InputError
from geodispatch.domain.plans import TimeWindow
from geodispatch.reporting.route_map import route_map, route_map_html
from geodispatch.reporting.route_sheet import route_sheet_html
from tests.dispatch.routing_helpers import at, crew, job, plan
from tests.security.map_pages import map_texts, page_outside_text

YARD = Depot("Yard", -71.06, 42.35)


def test_a_shift_must_end_after_it_starts():
    with pytest.raises(InputError, match="cannot cross midnight"):
        Crew("N-1", YARD, time(22), time(6), frozenset({"general"}))


def test_lunch_must_fit_its_window_and_the_shift():
    with pytest.raises(InputError, match="shorter than the 45 min break"):
        LunchBreak(time(12), time(12, 30), 45)
    with pytest.raises(InputError, match="outside the shift"):
        Crew("A", YARD, time(7), time(11), frozenset({"general"}), LunchBreak(time(12), time(13)))


def test_times_and_windows_say_how_to_write_them():
    with pytest.raises(InputError, match="HH:MM"):
        parse_hhmm("7am", what="shift start")
    with pytest.raises(InputError, match="swap the two times"):
        TimeWindow(at(11), at(10))
    with pytest.raises(InputError, match="lower-case"):
        Crew("A", YARD, time(7), time(15), frozenset({"Asphalt"}))


def test_route_map_page_works_offline_and_keeps_typed_text_inert():
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> Main St'
    orders = [job(1, 1, address=hostile), job(2, 2), job(3, None, address=hostile)]
    result, _ = plan(orders, [crew("A")])
    page = route_map_html(result)
    # no script or stylesheet from the network: Leaflet is inlined from the vendored copy
    assert re.findall(r'<script[^>]+src="(?:https?:)?//', page) == []
    assert re.findall(r'<link[^>]+href="(?:https?:)?//', page) == []
    assert "L.map(" in page
    assert ".leaflet-container" in page
    assert "awesome" not in page.lower()  # the yard marker needs no icon font
    # what a resident typed reaches the popups only as text data, exactly as typed
    assert "<img src=x" not in page
    assert '<script>alert("x")' not in page
    assert "alert(1)" not in page_outside_text(page)
    assert hostile in map_texts(page)


def test_map_and_sheet_escape_what_residents_typed():
    hostile = "<img src=x onerror=alert(1)> Main St"
    result, _ = plan([job(1, 1, address=hostile), job(2, None, address=hostile)], [crew("A")])
    page = route_map(result).get_root().render()
    sheet = route_sheet_html(result)
    assert "<img src=x" not in page
    assert hostile in map_texts(page)
    assert "<img src=x" not in sheet
    assert "&lt;img src=x" in sheet
    assert "Lunch" not in sheet  # this crew has no lunch break
