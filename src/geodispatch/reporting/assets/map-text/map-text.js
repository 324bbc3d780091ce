/* geodispatch map text: the text people typed arrives as JSON data and becomes DOM text.
 *
 * The page carries every user-provided string (addresses, descriptions, type and crew
 * names) in one JSON script element, id gd-map-text: an array of cards, each
 * [title, [[label, value], ...]]. Popups, tooltips, marker labels and legend entries are
 * built here with textContent; layer names, which Leaflet's layer control writes as HTML,
 * are escaped here first. No user text is ever part of the page's own script or markup.
 */
var gdMapText = (function () {
  "use strict";
  var source = document.getElementById("gd-map-text");
  var cards = source ? JSON.parse(source.textContent) : [];
  var TOKEN = /^gd-text:(\d+)$/;

  function card(key) {
    var found = typeof key === "number" ? cards[key] : undefined;
    return found || ["", []];
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"'`]/g, function (c) {
      return "&#" + c.charCodeAt(0) + ";";
    });
  }

  function textNode(tag, text) {
    var element = document.createElement(tag);
    element.textContent = text;
    return element;
  }

  /* A card as DOM: the title in bold, labelled rows as a table, unlabelled ones as lines. */
  function content(key, kind) {
    var shown = card(key);
    var box = document.createElement("div");
    var table = null;
    box.className = "gd-" + kind;
    if (shown[0]) box.appendChild(textNode("b", shown[0]));
    shown[1].forEach(function (row) {
      if (row[0]) {
        if (!table) {
          table = document.createElement("table");
          box.appendChild(table);
        }
        var line = table.insertRow();
        line.appendChild(textNode("th", row[0]));
        line.appendChild(textNode("td", row[1]));
      } else {
        table = null;
        box.appendChild(textNode("div", row[1]));
      }
    });
    return box;
  }

  function keyOf(layer, key, field) {
    if (key !== null) return key;
    var feature = layer && layer.feature;
    return feature && feature.properties ? feature.properties[field || "gd"] : undefined;
  }

  /* A popup or tooltip on a layer: one card (key), or each GeoJSON feature's own card
   * (key null), named by the feature's property ``field``. */
  function bind(layer, kind, key, options, field) {
    var make = function (target) {
      return content(keyOf(target, key, field), kind);
    };
    if (kind === "popup") layer.bindPopup(make, options);
    else layer.bindTooltip(make, options);
  }

  /* A marker's label: a div icon whose text is the card's title. */
  function labelIcon(key, options) {
    var label = textNode("div", card(key)[0]);
    label.style.cssText = options.style || "";
    return L.divIcon({
      html: label,
      className: "gd-label",
      iconSize: options.iconSize,
      iconAnchor: options.iconAnchor,
    });
  }

  /* A layer control's name: a card's title (gd-text:N) or a fixed name, as escaped HTML. */
  function label(name) {
    var match = TOKEN.exec(name);
    return escapeHtml(match ? card(Number(match[1]))[0] : name);
  }

  /* Elements marked data-gd-text="N" (the legend) get card N's title as their text. */
  function fill(root) {
    root.querySelectorAll("[data-gd-text]").forEach(function (element) {
      element.textContent = card(Number(element.getAttribute("data-gd-text")))[0];
    });
  }

  return {
    card: card,
    bind: bind,
    labelIcon: labelIcon,
    label: label,
    fill: fill,
    escapeHtml: escapeHtml,
  };
})();
