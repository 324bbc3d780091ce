"""Every way a map shows text, in a real browser: hostile text shows as typed, never runs.

One small map uses each binding the product's maps use (a layer name in the layer
control, a marker label, a tooltip, a popup table, a GeoJSON feature's popup and a
legend entry), all with the same hostile text. Chromium opens the page from disk with no
network; the text must read back exactly as typed and nothing in it may run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import folium
from branca.element import Element

from geodispatch.reporting.map_text import (
    MapText,
    TextBinding,
    TextLayerControl,
    TextMarker,
    inert_map,
)
from geodispatch.reporting.maps import render_html
from tests.browser.conftest import open_offline

HOSTILE = (
    '"><img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
    "`${window.__xss=3}` {{7*7}} {% if 1 %}RAN{% endif %} &amp; #{7*7}"
)
_FIND_MAP = "Object.values(window).find((v) => v instanceof L.Map)"


def hostile_page(path: Path) -> Path:
    fmap = inert_map(location=(42.35, -71.06), zoom_start=15, tiles=None)
    texts = MapText.of(fmap)
    group = folium.FeatureGroup(name=texts.layer_name(HOSTILE)).add_to(fmap)
    marker = TextMarker(
        (42.35, -71.06),
        texts.card(HOSTILE),
        style="background:#222;color:#fff",
        size=(300, 16),
        anchor=(0, 8),
    ).add_to(group)
    TextBinding("tooltip", texts.card(HOSTILE, [("", HOSTILE)])).add_to(marker)
    TextBinding("popup", texts.card(HOSTILE, [("Address", HOSTILE)])).add_to(marker)
    shape = folium.GeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [-71.055, 42.352]},
                    "properties": {"gd": texts.card(rows=[("Description", f"feature {HOSTILE}")])},
                }
            ],
        },
        marker=folium.CircleMarker(radius=8, fill=True),
    ).add_to(group)
    TextBinding("popup").add_to(shape)
    legend = texts.card(HOSTILE)
    fmap.get_root().html.add_child(Element(f'<div id="legend" data-gd-text="{legend}"></div>'))
    TextLayerControl(collapsed=False).add_to(fmap)
    path.write_text(render_html(fmap), encoding="utf-8")
    return path


def test_every_binding_shows_hostile_text_as_typed(browser: Any, tmp_path: Path) -> None:
    page_file = hostile_page(tmp_path / "map.html")
    opened = open_offline(browser, page_file)
    page = opened.page

    layer_name = page.locator(".leaflet-control-layers-overlays label span span").first
    assert layer_name.inner_text().strip() == HOSTILE
    assert page.locator(".leaflet-marker-icon div").inner_text() == HOSTILE
    assert page.locator("#legend").inner_text() == HOSTILE

    page.evaluate(
        f"() => {_FIND_MAP}.eachLayer((l) => {{ if (l instanceof L.Marker) l.openTooltip(); }})"
    )
    assert HOSTILE in page.locator(".leaflet-tooltip").inner_text()
    page.evaluate(
        f"() => {_FIND_MAP}.eachLayer((l) => {{ if (l instanceof L.Marker) l.openPopup(); }})"
    )
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("th").inner_text() == "Address"
    assert popup.locator("td").inner_text() == HOSTILE
    page.evaluate(f"() => {_FIND_MAP}.closePopup()")
    page.wait_for_timeout(300)  # the closed popup fades out
    x, y = page.evaluate(
        f"""() => {{
            const map = {_FIND_MAP};
            const p = map.latLngToContainerPoint([42.352, -71.055]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }}"""
    )
    page.mouse.click(x, y)  # a GeoJSON feature's own card, as a click opens it
    feature = page.locator(".leaflet-popup-content", has_text="Description")
    assert feature.locator("td").inner_text() == f"feature {HOSTILE}"
    page.wait_for_timeout(300)  # time for an injected image's onerror to fire

    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert page.locator(".leaflet-container img, .leaflet-container script").count() == 0
    assert opened.refused == []
    assert opened.errors == []
    opened.context.close()
