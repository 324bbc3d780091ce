"""User text on maps is data, never code: the one way our folium maps carry it.

Two mechanisms, each enough on its own against template injection:

- **Text as data.** Every string a person typed (addresses, descriptions, type, ward and
  crew names, titles) goes into one JSON block in the page (:class:`MapText`), never
  into folium's templates. The page's own script (``assets/map-text/map-text.js``) builds
  popups, tooltips, marker labels and legend entries from it with ``textContent``, and
  escapes layer names, which Leaflet's layer control writes as HTML. The block escapes
  ``<``, ``>``, ``&`` (no ``</script>``) and ``{``, ``}`` (nothing a template engine would
  read).
- **A render path that cannot evaluate templates.** branca wraps the output of every
  element's template in a new Jinja2 template and renders that again, so text that
  reached an element's output once would run as template code (``{{7*7}}`` became 49,
  and worse). :func:`inert_map` and :func:`make_inert` give a map's page sections that
  keep every piece of output as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Final, Literal

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geodispatch.domain.errors import InputError

__all__ = [
    "MapText",
    "TextBinding",
    "TextLayerControl",
    "TextMarker",
    "inert_map",
    "make_inert",
    "page_json",
    "read_map_text",
]

#: Characters written as ``\\uXXXX`` in the page's JSON: no markup, no template syntax.
_JSON_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("{"): "\\u007b",
    ord("}"): "\\u007d",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
_CSS: Final = (
    ".gd-popup table,.gd-tooltip table{border-collapse:collapse;margin:auto}"
    ".gd-popup th,.gd-tooltip th{text-align:left;padding:2px 8px 2px 2px;vertical-align:top}"
    ".gd-popup td,.gd-tooltip td{padding:2px;vertical-align:top}"
    ".gd-popup{overflow-wrap:break-word}"
)
BindingKind = Literal["popup", "tooltip"]


def page_json(value: list[Any]) -> str:
    """``value`` (arrays, strings, numbers only) as JSON that is inert inside an HTML page.

    Objects are refused: their braces would be the only ``{``/``}`` left unescaped.
    """
    _check_plain(value)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_ESCAPES)


def _check_plain(value: object) -> None:
    if isinstance(value, list):
        for item in value:
            _check_plain(item)
    elif not isinstance(value, (str, int, float)) and value is not None:
        raise InputError(
            f"page_json takes arrays of text and numbers only. Got a {type(value).__name__}."
        )


_TEXT_BLOCK: Final = re.compile(
    r'<script type="application/json" id="gd-map-text">(?P<data>.*?)</script>', re.DOTALL
)


def read_map_text(page: str) -> list[list[Any]]:
    """The text cards a rendered map page carries (what its script shows), decoded.

    For checks and tools that read a page as its script does; raises InputError when the
    page has no text block or more than one.
    """
    found = _TEXT_BLOCK.findall(page)
    if len(found) != 1:
        raise InputError(f"a map page carries one text block; this one has {len(found)}")
    cards: list[list[Any]] = json.loads(found[0])
    return cards


@cache
def _runtime() -> str:
    path = resources.files("geodispatch.reporting") / "assets" / "map-text" / "map-text.js"
    return path.read_text(encoding="utf-8")


class MapText(MacroElement):  # type: ignore[misc]
    """The user text of one map: a list of cards the page's script turns into DOM text.

    A card is a title and rows of (label, value); a row with an empty label is a plain
    line. Get a map's registry with :meth:`of`, add cards, and refer to them by their
    index: in a GeoJSON feature's ``gd`` property, in a :class:`TextBinding`, in a layer
    name (:meth:`layer_name`) or in markup as ``data-gd-text="N"``.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>{{ this.css }}</style>
            <script type="application/json" id="gd-map-text">{{ this.payload() }}</script>
            <script>{{ this.runtime() }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            gdMapText.fill(document);
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "MapText"
        self.css = _CSS
        self.cards: list[list[Any]] = []

    @classmethod
    def of(cls, fmap: folium.Map) -> MapText:
        """The map's registry, attached (and its page made inert) on first use."""
        for child in fmap._children.values():
            if isinstance(child, MapText):
                return child
        make_inert(fmap)
        texts = cls()
        fmap.add_child(texts, name="gd_map_text", index=0)
        return texts

    def card(self, title: str = "", rows: Sequence[tuple[str, object]] = ()) -> int:
        """Add a card; returns its key. Values are shown as text (numbers as written)."""
        self.cards.append([str(title), [[str(label), str(value)] for label, value in rows]])
        return len(self.cards) - 1

    def layer_name(self, text: str) -> str:
        """A layer-control name that shows ``text``: a token the page's script looks up."""
        return f"gd-text:{self.card(text)}"

    def payload(self) -> str:
        """The cards as the page's JSON block."""
        return page_json(self.cards)

    def runtime(self) -> str:
        """The page script that reads the cards (fixed code, no template syntax)."""
        return _runtime()


class TextBinding(MacroElement):  # type: ignore[misc]
    """A popup or tooltip on its parent layer, built from :class:`MapText`.

    ``key`` is a card's index; None (popups and tooltips on a GeoJSON layer) takes each
    feature's own card from its ``field`` property (default ``gd``). ``options`` are
    Leaflet's popup or tooltip options.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            gdMapText.bind({{ this._parent.get_name() }}, {{ this.kind|tojson }},
                {{ this.key|tojson }}, {{ this.options|tojson }}, {{ this.field|tojson }});
        {% endmacro %}
        """
    )

    def __init__(
        self, kind: BindingKind, key: int | None = None, *, field: str = "gd", **options: object
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        if kind not in ("popup", "tooltip"):
            raise InputError(f"TextBinding: kind must be popup or tooltip. Got {kind!r}.")
        self._name = "TextBinding"
        self.kind = kind
        self.key = key
        self.field = field
        self.options = options


class TextMarker(folium.Marker):  # type: ignore[misc]
    """A marker drawn as a label: a div icon whose text is card ``key``'s title.

    ``style`` is the label's CSS; ``size`` and ``anchor`` are the icon's in pixels.
    Popups and tooltips go on it as on any marker (:class:`TextBinding`).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.marker(
                {{ this.location|tojson }},
                {icon: gdMapText.labelIcon({{ this.key|tojson }}, {{ this.label|tojson }})}
            ).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        location: tuple[float, float],
        key: int,
        *,
        style: str,
        size: tuple[int, int],
        anchor: tuple[int, int],
    ) -> None:
        super().__init__(location)
        self._name = "TextMarker"
        self.key = key
        self.label = {"style": style, "iconSize": list(size), "iconAnchor": list(anchor)}


class TextLayerControl(folium.LayerControl):  # type: ignore[misc]
    """folium's layer control, its names looked up in :class:`MapText` and escaped."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            let {{ this.get_name() }} = L.control.layers(
                null, null, {{ this.options|tojavascript }}
            ).addTo({{ this._parent.get_name() }});
            {%- for key, val in this.base_layers.items() %}
            {{ this.get_name() }}.addBaseLayer({{ val }}, gdMapText.label({{ key|tojson }}));
            {%- endfor %}
            {%- for key, val in this.overlays.items() %}
            {{ this.get_name() }}.addOverlay({{ val }}, gdMapText.label({{ key|tojson }}));
            {%- endfor %}
        {% endmacro %}
        """
    )


class _Literal(Element):  # type: ignore[misc]
    """Output kept exactly as given: never read as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """The text as it was given."""
        return self.text


class _InertSection(Element):  # type: ignore[misc]
    """A page section (head, body, script) whose pieces are kept as literal text.

    branca hands each element's output to a section as ``Element(output)``, which makes
    the output a template rendered again; here such a piece becomes a :class:`_Literal`
    of the same text before it is stored.
    """

    def add_child(self, child: Element, name: str | None = None, index: int | None = None) -> Any:
        """Add ``child``, as its literal text if it is a piece of rendered output."""
        if type(child) is Element and child._template_str is not None:
            literal = _Literal(child._template_str)
            name = name if name is not None else child.get_name()
            child = literal
        return super().add_child(child, name=name, index=index)


def make_inert(fmap: folium.Map) -> Figure:
    """Give the map's page sections that never render their pieces as templates.

    Idempotent; returns the page (the map's root figure).
    """
    figure = fmap.get_root()
    if not isinstance(figure, Figure):
        raise InputError("make_inert: the map is not in a page (folium.Map makes one)")
    for part in ("header", "html", "script"):
        section = getattr(figure, part)
        if isinstance(section, _InertSection):
            continue
        inert = _InertSection()
        for name, child in section._children.items():
            inert.add_child(child, name=name)
        inert._parent = figure
        setattr(figure, part, inert)
    return figure


def inert_map(**kwargs: Any) -> folium.Map:
    """A ``folium.Map`` (same arguments) whose page keeps every output literal."""
    fmap = folium.Map(**kwargs)
    make_inert(fmap)
    return fmap
