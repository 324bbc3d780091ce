"""The shared mechanism behind every map: text as JSON data, pages that never re-template.

Each of the two halves is checked on its own, so that either one alone would have stopped
the issue 18 finding: a page made inert keeps even folium's own tooltip text literal,
and text given to :class:`MapText` never reaches a template at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import folium
import pytest

import geodispatch
from geodispatch.domain.errors import InputError
from geodispatch.reporting.map_text import (
    MapText,
    TextBinding,
    TextLayerControl,
    TextMarker,
    inert_map,
    make_inert,
    page_json,
)
from geodispatch.reporting.maps import render_html
from tests.security.map_pages import map_cards, page_outside_text

JINJA = "{{7*7}} {% if 1 %}RAN{% endif %} {{lipsum.__globals__.os.popen('id').read()}}"


def test_folium_alone_evaluates_text_as_a_template() -> None:
    """Why the mechanism exists: branca renders each element's output again as Jinja."""
    fmap = folium.Map(location=(42.35, -71.06), tiles=None)
    folium.Marker((42.35, -71.06), tooltip="T {{7*7}}").add_to(fmap)
    assert "T 49" in fmap.get_root().render()


def test_an_inert_page_keeps_even_folium_text_literal() -> None:
    fmap = inert_map(location=(42.35, -71.06), tiles=None)
    folium.Marker((42.35, -71.06), tooltip=f"T {JINJA}").add_to(fmap)
    page = fmap.get_root().render()
    assert f"T {JINJA}" in page
    assert "T 49" not in page
    assert "RAN " not in page.replace("RAN{%", "")
    assert "uid=" not in page


def test_make_inert_is_idempotent_and_render_html_uses_it() -> None:
    fmap = folium.Map(location=(42.35, -71.06), tiles=None)
    folium.Marker((42.35, -71.06), tooltip="T {{7*7}}").add_to(fmap)
    first = make_inert(fmap)
    assert make_inert(fmap) is first
    page = render_html(fmap)  # a plain folium map is made inert before it is rendered
    assert "T {{7*7}}" in page
    assert "T 49" not in page


def test_text_given_to_map_text_is_only_in_the_pages_json_block() -> None:
    fmap = inert_map(location=(42.35, -71.06), tiles=None)
    texts = MapText.of(fmap)
    assert MapText.of(fmap) is texts  # one registry per map
    hostile = f"</script><img src=x onerror=alert(1)> {JINJA} `${{alert(2)}}`"
    group = folium.FeatureGroup(name=texts.layer_name(hostile)).add_to(fmap)
    marker = TextMarker(
        (42.35, -71.06), texts.card(hostile), style="color:#fff", size=(40, 16), anchor=(20, 8)
    ).add_to(group)
    TextBinding("tooltip", texts.card(hostile, [("", hostile)])).add_to(marker)
    TextBinding("popup", texts.card(hostile, [("Address", hostile)])).add_to(marker)
    TextLayerControl().add_to(fmap)
    page = render_html(fmap)
    outside = page_outside_text(page)
    assert "alert" not in outside
    assert "7*7" not in outside
    assert "</script><img" not in page
    cards = map_cards(page)
    assert cards[0] == [hostile, []]  # the layer name
    assert cards[-1] == [hostile, [["Address", hostile]]]


def test_page_json_escapes_markup_and_template_syntax_and_takes_arrays_only() -> None:
    text = page_json([["</script>{{7*7}}{%x%}&\u2028", [["a", "b"]]], 3, None])
    for raw in ("<", ">", "&", "{", "}", "\u2028"):
        assert raw not in text
    assert json.loads(text) == [["</script>{{7*7}}{%x%}&\u2028", [["a", "b"]]], 3, None]
    with pytest.raises(InputError, match="arrays of text and numbers only"):
        page_json([{"title": "x"}])


def test_the_page_script_has_no_template_syntax_and_needs_no_network() -> None:
    fmap = inert_map(location=(42.35, -71.06), tiles=None)
    MapText.of(fmap)
    page = render_html(fmap)
    for syntax in ("{{", "{%", "{#"):
        assert syntax not in page
    assert re.findall(r"<(?:script|link)[^>]+(?:src|href)=", page) == []


def test_a_binding_names_what_it_binds() -> None:
    with pytest.raises(InputError, match="popup or tooltip"):
        TextBinding("banner")  # type: ignore[arg-type]


def test_no_map_in_the_product_takes_text_any_other_way() -> None:
    """folium's own popups, tooltips and markers would put text into templates again."""
    source = Path(geodispatch.__file__).parent
    banned = re.compile(
        r"folium\.(Map|Popup|Tooltip|GeoJsonPopup|GeoJsonTooltip|LayerControl)\(|"
        r"\b(popup|tooltip)=|DivIcon\(\s*html=f"
    )
    found = [
        f"{path.relative_to(source)}:{number}: {line.strip()}"
        for path in sorted(source.rglob("*.py"))
        if path.name != "map_text.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if banned.search(line)
    ]
    assert found == []
