"""The phone's position for crew updates, through the browser's geolocation API.

Streamlit has no location widget, so this is a small inline component (Streamlit's
components v2: HTML + JS, no package, no network). Browsers share a position only with
pages served over https (or from localhost); elsewhere the button explains that and the
crew page offers "I am at the stop" or a typed position instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

import streamlit as st

_HTML: Final = """
<div class="geo">
  <button type="button">Use this phone's location</button>
  <div class="note">The position is sent only with your update.</div>
</div>
"""
_CSS: Final = """
.geo button {
  width: 100%; min-height: 48px; font-size: 1rem; border-radius: 0.5rem;
  border: 1px solid var(--st-border-color, #ccc);
  background: var(--st-secondary-background-color, #f0f2f6);
  color: var(--st-text-color, #111); cursor: pointer;
}
.geo button:disabled { opacity: 0.6; cursor: not-allowed; }
.geo .note {
  font-size: 0.85rem; margin-top: 0.35rem; color: var(--st-text-color, #333); opacity: 0.8;
}
"""
_JS: Final = """
export default function(component) {
  const { parentElement, setStateValue } = component;
  const button = parentElement.querySelector('button');
  const note = parentElement.querySelector('.note');
  if (!button || button.dataset.ready) { return; }
  button.dataset.ready = '1';
  if (!window.isSecureContext || !('geolocation' in navigator)) {
    button.disabled = true;
    note.textContent = 'This phone cannot share its location with this page (it needs https). '
      + 'Confirm that you are at the stop below instead.';
    return;
  }
  button.onclick = () => {
    note.textContent = 'Finding your location…';
    navigator.geolocation.getCurrentPosition(
      (p) => {
        note.textContent = 'Location found (±' + Math.round(p.coords.accuracy) + ' m).';
        setStateValue('position', {
          lat: p.coords.latitude, lon: p.coords.longitude,
          accuracy_m: p.coords.accuracy, at_ms: Date.now()
        });
      },
      (e) => {
        note.textContent = 'No location (' + e.message + '). Confirm the stop below instead.';
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
    );
  };
}
"""

#: A position older than this is not used for an update (the truck has moved on).
MAX_AGE_S: Final = 15 * 60


@dataclass(frozen=True, slots=True)
class DevicePosition:
    """A position the phone measured."""

    lat: float
    lon: float
    accuracy_m: float
    age_s: float


@st.cache_resource
def _component() -> Any:
    return st.components.v2.component("geodispatch_geolocation", html=_HTML, css=_CSS, js=_JS)


def device_position(key: str) -> DevicePosition | None:
    """Show the "use this phone's location" button; the fresh position it gave, if any."""
    result = _component()(key=key, default={"position": None}, on_position_change=lambda: None)
    value = getattr(result, "position", None)
    if not isinstance(value, dict):
        return None
    try:
        age = max(0.0, time.time() - float(value["at_ms"]) / 1000.0)
        found = DevicePosition(
            float(value["lat"]), float(value["lon"]), float(value["accuracy_m"]), age
        )
    except (KeyError, TypeError, ValueError):
        return None
    return found if found.age_s <= MAX_AGE_S else None
