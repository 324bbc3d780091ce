"""Reading a rendered map page the way its own script does: the text cards it carries."""

from __future__ import annotations

import json
import re
from typing import Any

_BLOCK = re.compile(
    r'<script type="application/json" id="gd-map-text">(?P<data>.*?)</script>', re.DOTALL
)


def map_cards(page: str) -> list[list[Any]]:
    """The page's text cards, ``[title, [[label, value], ...]]`` each, decoded from JSON."""
    found = _BLOCK.findall(page)
    assert len(found) == 1, f"a map page carries one text block, found {len(found)}"
    cards: list[list[Any]] = json.loads(found[0])
    return cards


def map_texts(page: str) -> list[str]:
    """Every string the page will show as text: titles, labels and values of its cards."""
    texts = []
    for title, rows in map_cards(page):
        texts.append(title)
        for label, value in rows:
            texts.extend((label, value))
    return texts


def page_outside_text(page: str) -> str:
    """The page without its text block: its markup and scripts, where no user text belongs."""
    return _BLOCK.sub("", page)
