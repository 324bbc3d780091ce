"""Maps in a sandboxed frame: the map page cannot touch the app, and draws on its own core.

A map page (Leaflet inlined, see :mod:`geodispatch.reporting.maps`) is shown in an iframe
whose ``sandbox`` leaves out ``allow-same-origin``. Two things follow:

- **Safety in depth.** Popups carry text people typed (addresses, notes). It reaches the
  page only as data its script shows as text (``reporting.map_text``); if that were ever
  bypassed, a script in the map still could not read the app's page, its session or its
  cookies.
- **Speed.** Desktop Chromium runs a sandboxed frame in a process of its own, so the
  map's 1 MB script is parsed and drawn beside the app's own rendering instead of after
  it. Measured with the Boston hotspot map and a main thread kept busy for 0.7 s: the map
  was on screen after 0.88 s instead of 1.03 s (median of 4 loads; ``bench/app.py``
  measures the pages). Phones may keep it in the page's process: then it is as before.

``st.iframe`` offers no sandbox setting, so this is a small inline component (Streamlit's
components v2: HTML + JS, no package, no network).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

import streamlit as st

#: What a map page may do: run its own scripts, nothing else. Not ``allow-same-origin``:
#: the page gets an opaque origin of its own. Our maps have no links, storage, downloads or
#: fullscreen, so no other permission is given (a popup permission would only serve an
#: injected script).
SANDBOX: Final = "allow-scripts"

_JS: Final = f"""
export default function(component) {{
  const {{ parentElement, data }} = component;
  if (!data || typeof data.page !== 'string') {{ return; }}
  let frame = parentElement.querySelector('iframe');
  if (!frame) {{
    frame = document.createElement('iframe');
    frame.setAttribute('sandbox', '{SANDBOX}');
    frame.setAttribute('title', data.title);
    frame.style.width = '100%';
    frame.style.border = '0';
    frame.style.display = 'block';
    parentElement.appendChild(frame);
  }}
  frame.style.height = data.height + 'px';
  if (frame.dataset.digest !== data.digest) {{
    frame.dataset.digest = data.digest;
    // a map laid out in a frame of no size fits its bounds at world zoom: load the
    // page only once the frame has its height (it may be hidden while the app reruns)
    const load = () => {{
      if (frame.dataset.digest === data.digest) {{ frame.srcdoc = data.page; }}
    }};
    if (frame.getBoundingClientRect().height > 0) {{
      load();
    }} else {{
      const watch = new ResizeObserver(() => {{
        if (frame.getBoundingClientRect().height > 0) {{ watch.disconnect(); load(); }}
      }});
      watch.observe(frame);
    }}
  }}
}}
"""


@st.cache_resource
def _component() -> Any:
    return st.components.v2.component("geodispatch_map", html="<div></div>", js=_JS)


def map_frame(page: str, *, height: int, title: str = "Map", key: str | None = None) -> None:
    """Show a self-contained map page in a sandboxed frame ``height`` pixels tall.

    The frame is redrawn only when the page changes (its digest), so a rerun that keeps
    the same map does not make the browser parse it again.
    """
    digest = hashlib.blake2b(page.encode(), digest_size=12).hexdigest()
    _component()(
        key=key,
        data={"page": page, "height": height, "digest": digest, "title": title},
        height=height,
    )


def shown_map_page(proto: Any) -> str | None:
    """The map page a rendered element carries (AppTest's protos), None for other elements.

    Tests and ``bench/app.py`` read the maps a page sent through this.
    """
    if getattr(proto, "component_name", None) != "geodispatch_map" or not proto.json:
        return None
    return str(json.loads(proto.json)["page"])
