"""Reading a rendered map page the way its own script does: the text cards it carries."""

from __future__ import annotations

from geodispatch.reporting.map_text import read_map_text

__all__ = ["map_cards", "map_texts", "page_outside_text"]

map_cards = read_map_text


def map_texts(page: str) -> list[str]:
    """Every string the page will show as text: titles, labels and values of its cards."""
    texts = []
    for title, rows in read_map_text(page):
        texts.append(title)
        for label, value in rows:
            texts.extend((label, value))
    return texts


def page_outside_text(page: str) -> str:
    """The page without its text block: its markup and scripts, where no user text belongs."""
    start = page.index('<script type="application/json" id="gd-map-text">')
    end = page.index("</script>", start) + len("</script>")
    return page[:start] + page[end:]
