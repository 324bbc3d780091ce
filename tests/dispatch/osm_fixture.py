"""A small OpenStreetMap extract written by the tests: a river with one bridge, a one-way street.

South bank street S1-S4 and north bank street N1-N4 run east-west 440 m apart with the
river between them; the only road across is a bridge at the east end (S4-N4). A footway
crosses at the west end (not drivable). South of the bank, C→D is a one-way street whose
way back (D-S3-S2-C) is about 2.4 km.
"""

from __future__ import annotations

from pathlib import Path

NODES = {
    1: (-71.100, 42.349),  # S1
    2: (-71.095, 42.349),  # S2
    3: (-71.090, 42.349),  # S3
    4: (-71.080, 42.349),  # S4: south end of the bridge
    11: (-71.100, 42.353),  # N1
    12: (-71.095, 42.353),
    13: (-71.090, 42.353),
    14: (-71.080, 42.353),  # N4: north end of the bridge
    21: (-71.095, 42.340),  # C
    22: (-71.090, 42.340),  # D
}
WAYS = (
    (101, [1, 2, 3, 4], {"highway": "residential", "name": "South Bank St"}),
    (102, [11, 12, 13, 14], {"highway": "residential", "name": "North Bank St"}),
    (103, [4, 14], {"highway": "primary", "bridge": "yes", "name": "The Bridge"}),
    (104, [1, 11], {"highway": "footway", "bridge": "yes"}),  # walkers only
    (105, [21, 22], {"highway": "residential", "oneway": "yes", "name": "One Way"}),
    (106, [2, 21], {"highway": "residential"}),
    (107, [3, 22], {"highway": "residential"}),
)
S1, N1, C, D = NODES[1], NODES[11], NODES[21], NODES[22]


def write_extract(path: Path) -> Path:
    """Write the extract as OSM XML to ``path`` and return it."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for ref, (lon, lat) in NODES.items():
        lines.append(f'  <node id="{ref}" version="1" lat="{lat}" lon="{lon}"/>')
    for ref, nodes, tags in WAYS:
        lines.append(f'  <way id="{ref}" version="1">')
        lines.extend(f'    <nd ref="{n}"/>' for n in nodes)
        lines.extend(f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
