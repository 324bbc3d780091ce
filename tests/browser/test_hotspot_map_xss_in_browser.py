"""Hostile text in hotspot map popups stays text in a real browser with no network.

Residents' reports (through a real Open311 import) carry markup in their address and
description; a refresh makes their corner a stored hotspot, and the service renders the
manager's map. Chromium opens that page from disk with every network request refused,
opens the popups of a report and of the hotspot, and the payloads must show as text
without running: ``window.__xss`` stays undefined, and template syntax (Jinja's
``{{7*7}}``, a JavaScript template literal's ``${...}``) shows as typed, never evaluated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geodispatch.config import Settings
from geodispatch.services import hotspots as service
from geodispatch.services.intake import import_payload
from tests.browser.conftest import CHROMIUM, open_offline, screenshot
from tests.conftest import DATA
from tests.hotspots.conftest import city_with_busy_corner, heat_points

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
JINJA = "SSTIDESC {{lipsum.__globals__.os.popen(dict(id=1)|join).read()}} {{7*7}}"
LITERAL = "`${window.__xss=3}` {% if 1 %}IF{% endif %}"
CORNER = (-71.0589, 42.3601)  # by City Hall Plaza
POTHOLES = "PWDx_Pothole"

#: The folium map object (a page-level ``map_<id>`` variable) and its popup layers.
_FIND_MAP = "Object.values(window).find((v) => v instanceof L.Map)"


@pytest.fixture(scope="module")
def hostile_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pothole hotspot map of a city where one busy corner's reports carry markup."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("xss-home")
    settings = Settings(home=home, data_dir=DATA)
    reports = city_with_busy_corner(
        CORNER,
        seed=7,
        address=f"1 City Hall Sq {IMG} {LITERAL}",
        description=f"{SCRIPT} deep pothole {IMG} {JINJA}",
    )
    import_payload(reports, source="test", settings=settings)
    service.refresh_hotspots(settings=settings)
    assert service.hotspot_at(*CORNER, POTHOLES, settings=settings) is not None
    page = service.hotspot_map_html(
        service.HotspotFilter(service_codes=(POTHOLES,)), settings=settings
    )
    path = home / "hotspots.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_markup_in_popups_shows_as_text_and_never_runs(browser: Any, hostile_map: Path) -> None:
    opened = open_offline(browser, hostile_map)
    page = opened.page

    # a resident's report: zoom to the corner and click its marker, as a manager would
    page.evaluate(f"() => {{ {_FIND_MAP}.setView([{CORNER[1]}, {CORNER[0]}], 19); }}")
    page.wait_for_timeout(300)
    x, y = page.evaluate(
        f"""() => {{
            const map = {_FIND_MAP};
            let at = null;
            map.eachLayer((layer) => {{
                const card = layer.feature && gdMapText.card(layer.feature.properties.gd);
                const text = card && JSON.stringify(card);
                if (!at && layer.getLatLng && text && text.includes("onerror")) {{
                    at = layer.getLatLng();
                }}
            }});
            const p = map.latLngToContainerPoint(at);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }}"""
    )
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=10_000)
    text = popup.inner_text()
    assert IMG in text
    assert SCRIPT in text
    assert JINJA in text  # as typed: not 49, not the output of a command
    assert LITERAL in text
    assert "uid=" not in text
    screenshot(page, "hotspot-map-xss-report-popup")

    # the hotspot there: its popup names the corner's (hostile) top address
    page.evaluate(
        f"""() => {{
            const map = {_FIND_MAP};
            map.closePopup();
            map.eachLayer((layer) => {{
                const card = layer.feature && gdMapText.card(layer.feature.properties.gd);
                if (card && JSON.stringify(card).includes("onerror")) layer.openPopup();
            }});
        }}"""
    )
    popup.wait_for(timeout=10_000)
    assert IMG in popup.inner_text()
    assert LITERAL in popup.inner_text()
    page.wait_for_timeout(300)  # time for an injected image's onerror to fire

    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(".leaflet-popup-content img, .leaflet-popup-content script").count() == 0
    assert opened.refused == []  # the map needs nothing from the network
    assert opened.errors == []
    opened.context.close()


def test_the_heat_the_page_draws_is_every_report_it_was_given(
    browser: Any, hostile_map: Path
) -> None:
    """The page writes heat points as integer steps; the browser must rebuild them all."""
    page = browser.new_page()
    page.goto(hostile_map.as_uri(), wait_until="load")
    drawn = page.evaluate(
        f"""() => {{
            let points = null;
            {_FIND_MAP}.eachLayer((layer) => {{
                if (layer instanceof L.HeatLayer) points = layer._latlngs;
            }});
            return points.map((p) => [p[0], p[1], p[2]]);
        }}"""
    )
    written = heat_points(hostile_map.read_text(encoding="utf-8"))
    assert sorted(map(tuple, np.round(drawn, 6).tolist())) == sorted(map(tuple, written))
    assert sum(p[2] for p in drawn) == 340  # 300 potholes around town, 40 at the corner
    page.close()
