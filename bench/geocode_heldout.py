"""Held-out geocoding benchmark: resident-style text the index was never built from.

The product's geocoder (bundled 2011 index, place table, neighbourhood and ward layers) is
asked about the 2025 open backlog (``data/boston/311_open_backlog_2025_subset.csv``), whose
rows carry the city's own point. None of these requests is in the 2011 index's source.
Every distinct backlog address is rewritten, seeded, as a resident would type it, one
variant per kind (lower case, suffix variants, typos, unit first, "near" and free text,
glued numbers, neighbourhood names, aliases, wrong or conflicting ZIP/neighbourhood,
intersections as "A and B" or "near A and B"), plus the same addresses placed in a
neighbouring town (which must not be placed) and the landmark names of the place table.

The backlog's distinct locations are split by a hash of the text into a *tuning* half (the
one looked at while changing the geocoder) and a *held-out* half (never looked at); both
are printed, the held-out half first. Per variant kind: placed, within 50 m, flagged,
wrong by > 250 m without a flag (with a 95 % Wilson upper bound); a score-band
calibration table (share within 50 m per band); throughput on one core, CPU and wall time.
"""

from __future__ import annotations

import html
import itertools
import math
import os
import re
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geodispatch.config import Settings
from geodispatch.geo.address import split_suffix, street_key
from geodispatch.geo.crs import lonlat_to_working, working_to_lonlat
from geodispatch.geo.geocode import OfflineGeocoder, results_frame
from geodispatch.geo.places import area_shapes
from geodispatch.services.geo import area_layers, offline_geocoder

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = ROOT / "data" / "boston" / "311_open_backlog_2025_subset.csv"

SPELLED = {
    "St": "Street",
    "Ave": "Avenue",
    "Rd": "Road",
    "Ter": "Terrace",
    "Pl": "Place",
    "Ct": "Court",
    "Sq": "Square",
    "Dr": "Drive",
    "Pkwy": "Parkway",
    "Blvd": "Boulevard",
    "Ln": "Lane",
    "Cir": "Circle",
    "Hwy": "Highway",
    "Plz": "Plaza",
}
SHORT = {"St": "Str", "Ave": "Av", "Ter": "Terr", "Rd": "Rd.", "Pl": "Pl."}
FREE_TEXT = (
    "near {a}",
    "in front of {a}",
    "{a} (near the school)",
    "{a} pothole",
    "{a} across from the park",
    "across the street from {a}",
    "{a} by the bus stop",
)
OUTSIDE = (
    ("Cambridge", "02139"),
    ("Somerville", "02143"),
    ("Brookline", "02446"),
    ("Quincy", "02169"),
    ("Newton", "02458"),
    ("Chelsea", "02150"),
)
#: Kinds whose truth is "not in the service area" (placed and unflagged counts as wrong).
OUTSIDE_KIND = "outside the city"
#: A wrong ZIP whose part of the city has a street of the same name: the text names a real
#: address there, which no geocoder can tell from a typo; printed apart, not in the goals.
REAL_ELSEWHERE = "wrong ZIP where the same street exists"
LANDMARK_KIND = "landmarks (table names)"


def load_backlog() -> pd.DataFrame:
    """Distinct backlog addresses with the city's point, split into tuning / held-out."""
    frame = pd.read_csv(BACKLOG, dtype=str, keep_default_na=False)
    frame["lon"] = pd.to_numeric(frame["longitude"], errors="coerce")
    frame["lat"] = pd.to_numeric(frame["latitude"], errors="coerce")
    frame = frame[frame["lon"].notna() & (frame["location"].str.strip() != "")]
    rows = (
        frame.groupby("location", sort=True)
        .agg(lon=("lon", "median"), lat=("lat", "median"))
        .reset_index()
    )
    rows["half"] = [
        "held-out" if zlib.crc32(t.encode()) % 2 else "tuning" for t in rows["location"]
    ]
    return rows


def typo(word: str, rng: np.random.Generator) -> str:
    """One edit in a word of five or more letters: drop, insert, change or swap a letter."""
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 4))
    letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(0, 26))]
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + letter + word[i:]
    if kind == 2:
        return word[:i] + letter + word[i + 1 :]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def split_location(location: str) -> tuple[str, str, str, str] | None:
    """(number, street, locality, ZIP) of a city-format house-number address, else None."""
    parts = [p.strip() for p in re.split(r"\s{2,}", html.unescape(location).strip())]
    head = re.match(r"^(\d+[A-Z]?(?:-\d+[A-Z]?)?)\s+(.+)$", parts[0])
    if head is None:
        return None
    city = parts[1] if len(parts) > 1 else ""
    zipcode = parts[3] if len(parts) > 3 else ""
    return head.group(1), head.group(2), city, zipcode


def make_variants(
    rows: pd.DataFrame, coder: OfflineGeocoder, neighbourhoods: dict[str, object], seed: int
) -> pd.DataFrame:
    """One resident-style variant per kind for every backlog address (seeded)."""
    rng = np.random.default_rng(seed)
    alias_of: dict[str, list[str]] = {}
    for alias, target in coder.places.street_aliases.items():
        alias_of.setdefault(target, []).append(alias.title())
    zips = sorted(coder.index.zip_locality)
    zip_centre = {
        z: (
            float(np.median(coder.index.x[np.asarray(coder.index.point_zip) == z])),
            float(np.median(coder.index.y[np.asarray(coder.index.point_zip) == z])),
        )
        for z in zips
    }
    names = list(neighbourhoods)
    x, y = lonlat_to_working(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    out: list[dict[str, object]] = []

    def add(kind: str, text: str, i: int) -> None:
        out.append(
            {
                "kind": kind,
                "query": text,
                "lon": rows["lon"].iat[i],
                "lat": rows["lat"].iat[i],
                "half": rows["half"].iat[i],
            }
        )

    for i, location in enumerate(rows["location"]):
        add("city format (as the city writes it)", location, i)
        if location.startswith("INTERSECTION"):
            body = html.unescape(location).split("  ")[0].removeprefix("INTERSECTION of ")
            a, _, b = body.partition(" & ")
            joiner = (" and ", " & ", " at ", " / ")[int(rng.integers(0, 4))]
            near = "near " if i % 2 else ""  # every other one as "near A and B"
            add("intersection, resident style", f"{near}{a}{joiner}{b}".lower(), i)
            continue
        parts = split_location(location)
        if parts is None:
            continue
        number, street, city, zipcode = parts
        words = street.split()
        address = f"{number} {street}"
        where = f", {city}, MA {zipcode}".rstrip() if city else f" {zipcode}"
        add("lower case, no commas", f"{address} {city} ma {zipcode}".lower().strip(), i)
        add("street and number only", address, i)
        if len(words) >= 2 and words[-1] in SPELLED:
            other = SPELLED[words[-1]] if rng.random() < 0.7 else SHORT.get(words[-1], "")
            text = " ".join([*words[:-1], other]) if other else " ".join(words[:-1])
            add("suffix spelled out / shortened / missing", f"{number} {text}{where}", i)
        longest = max(range(len(words)), key=lambda k: len(words[k]))
        if len(words[longest]) >= 5:
            typed = [*words]
            typed[longest] = typo(words[longest], rng)
            tail = f" {zipcode}" if rng.random() < 0.5 else f", {city}"
            add("typo in the street name", f"{number} {' '.join(typed)}{tail}", i)
        add("unit first", f"Apt {int(rng.integers(1, 9))}, {address}, {city}", i)
        free = FREE_TEXT[int(rng.integers(0, len(FREE_TEXT)))].format(a=address)
        add("near / free text around it", f"{free}, {city}" if rng.random() < 0.5 else free, i)
        if number.isdigit():
            add("number glued to the street", f"{number}{street} {city}", i)
        inside = [
            n for n in names if shapely.contains_xy(neighbourhoods[n], float(x[i]), float(y[i]))
        ]
        if inside:
            add("neighbourhood name (no ZIP)", f"{address}, {inside[0]}", i)
        key = street_key(street)
        far = [z for z in zips if math.dist(zip_centre[z], (x[i], y[i])) > 3_000]
        there = coder.index.streets.get(key, {})
        wrong_zips = [z for z in far if z not in there]
        if wrong_zips:
            wrong = wrong_zips[int(rng.integers(0, len(wrong_zips)))]
            add("wrong ZIP (another part of the city)", f"{address}, Boston, MA {wrong}", i)
        same_street = [z for z in far if z in there]
        if same_street:
            wrong = same_street[int(rng.integers(0, len(same_street)))]
            add(REAL_ELSEWHERE, f"{address}, Boston, MA {wrong}", i)
        other_places = [
            n
            for n in names
            if n not in inside
            and not shapely.dwithin(neighbourhoods[n], shapely.points(x[i], y[i]), 1_500)
        ]
        if other_places and zipcode:
            named = other_places[int(rng.integers(0, len(other_places)))]
            add("conflicting neighbourhood and ZIP", f"{address}, {named}, MA {zipcode}", i)
        if key in alias_of:
            alias = alias_of[key][int(rng.integers(0, len(alias_of[key])))]
            add("local street alias (Mass Ave, ...)", f"{number} {alias} {zipcode}", i)
        base = split_suffix(key)[0]
        if base and rng.random() < 0.5:
            town, town_zip = OUTSIDE[int(rng.integers(0, len(OUTSIDE)))]
            text = (
                f"{address}, {town}" if rng.random() < 0.5 else f"{address}, {town} MA {town_zip}"
            )
            add(OUTSIDE_KIND, text, i)
    for landmark in coder.places.landmarks.values():
        lon, lat = _lonlat(coder, landmark.x, landmark.y)
        for text in (landmark.name, f"near {landmark.name.lower()}"):
            out.append(
                {"kind": LANDMARK_KIND, "query": text, "lon": lon, "lat": lat, "half": "table"}
            )
    return pd.DataFrame(out)


def _lonlat(coder: OfflineGeocoder, x: float, y: float) -> tuple[float, float]:
    lon, lat = working_to_lonlat(np.array([x]), np.array([y]), coder.index.working_crs)
    return float(lon[0]), float(lat[0])


def scored(variants: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """Each variant with its answer: placed, error, within 50 m, flagged, wrong-unflagged."""
    out = variants.copy()
    x0, y0 = lonlat_to_working(out["lon"].to_numpy(), out["lat"].to_numpy())
    x1, y1 = lonlat_to_working(result["lon"].to_numpy(), result["lat"].to_numpy())
    out["match"] = result["match"].to_numpy()
    out["flag"] = result["flag"].to_numpy()
    out["score"] = result["score"].to_numpy()
    out["note"] = result["note"].to_numpy()
    out["placed"] = (out["match"] != "none").to_numpy()
    out["error_m"] = np.hypot(x1 - x0, y1 - y0)
    out["within50"] = out["placed"] & (out["error_m"] <= 50)
    outside = out["kind"] == OUTSIDE_KIND
    unflagged = out["flag"] == ""
    out["wrong_unflagged"] = np.where(
        outside, out["placed"] & unflagged, out["placed"] & unflagged & (out["error_m"] > 250)
    )
    return out


def wilson_upper(k: int, n: int, z: float = 1.96) -> float:
    """Upper end of the 95 % Wilson interval of a share k / n."""
    if n == 0:
        return math.nan
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def table(frame: pd.DataFrame, title: str) -> None:
    """Per variant kind: placed, within 50 m, flagged, wrong by > 250 m unflagged."""
    print(f"\n{title}")
    print(
        f"  {'variant kind':<42} {'n':>5} {'placed':>7} {'<=50 m':>7} {'flagged':>8} "
        f"{'wrong>250m unflagged':>21} {'(95% upper)':>11}  goal <= 0.5 %"
    )
    for kind, part in frame.groupby("kind", sort=False):
        wrong = int(part["wrong_unflagged"].sum())
        upper = wilson_upper(wrong, len(part))
        within = (
            "    n/a"
            if kind in (OUTSIDE_KIND, LANDMARK_KIND)
            else f"{part['within50'].mean():7.1%}"
        )
        verdict = "meets" if wrong / len(part) <= 0.005 else "MISSES"
        print(
            f"  {kind:<42} {len(part):5,} {part['placed'].mean():7.1%} {within} "
            f"{(part['flag'] != '').mean():8.1%} {wrong:>9,} = {wrong / len(part):7.2%} "
            f"{upper:11.2%}  {verdict}"
        )
    wrong = int(frame["wrong_unflagged"].sum())
    print(
        f"  {'all kinds':<42} {len(frame):5,} {frame['placed'].mean():7.1%} "
        f"{'':>7} {(frame['flag'] != '').mean():8.1%} {wrong:>9,} = "
        f"{wrong / len(frame):7.2%} {wilson_upper(wrong, len(frame)):11.2%}  goal <= 0.1 % "
        f"{'meets' if wrong / len(frame) <= 0.001 else 'MISSES'}"
    )


BANDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001)


def calibration(frame: pd.DataFrame) -> None:
    """Score band → share of placed answers within 50 m (and > 250 m) of the city's point."""
    placed = frame[frame["placed"] & ~frame["kind"].isin([OUTSIDE_KIND, LANDMARK_KIND])]
    print("\ncalibration, held-out placed answers (score band → share within 50 m):")
    print(f"  {'score':<12} {'n':>6} {'<=50 m':>8} {'>250 m':>8} {'flagged':>8}")
    for low, high in itertools.pairwise(BANDS):
        part = placed[(placed["score"] >= low) & (placed["score"] < high)]
        if len(part):
            print(
                f"  [{low:.2f}, {min(high, 1.0):.2f}{']' if high > 1 else ')'}"
                f" {len(part):6,} {part['within50'].mean():8.1%} "
                f"{(part['error_m'] > 250).mean():8.1%} {(part['flag'] != '').mean():8.1%}"
            )


def throughput(
    coder_factory: Callable[[], OfflineGeocoder], texts: list[str]
) -> tuple[float, float]:
    """(addresses per wall second, per CPU second), median of 3 passes, nothing cached."""
    walls, cpus = [], []
    for _ in range(3):
        street_key.cache_clear()
        split_suffix.cache_clear()
        coder = coder_factory()
        wall, cpu = time.perf_counter(), time.process_time()
        results = [coder.geocode_one(t) for t in texts]
        results_frame(results, coder.index.working_crs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return len(texts) / statistics.median(walls), len(texts) / statistics.median(cpus)


def run(seed: int, *, show: int = 0) -> None:
    """Print the held-out figures (see the module docstring)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(data_dir=ROOT / "data", home=Path(home))
        coder = offline_geocoder(settings)
        neighbourhoods = _neighbourhoods(settings)
        rows = load_backlog()
        variants = make_variants(rows, coder, neighbourhoods, seed)
        print(
            f"held-out set: {len(rows):,} distinct 2025 backlog locations "
            f"({(rows['half'] == 'held-out').sum():,} held-out, "
            f"{(rows['half'] == 'tuning').sum():,} tuning), {len(variants):,} variants "
            f"(seed {seed}); index: bundled 2011 points ({coder.index.size:,}), "
            f"place table ({len(coder.places.landmarks)} landmarks, "
            f"{len(coder.places.street_aliases)} street aliases)"
        )
        result = coder.geocode(variants["query"].tolist())
        out = scored(variants, result)
        apart = out[out["kind"] == REAL_ELSEWHERE]
        out = out[out["kind"] != REAL_ELSEWHERE]
        held = out[out["half"].isin(["held-out", "table"])]
        table(held, "HELD-OUT half (never looked at while tuning):")
        print(
            f"  not in the goals: {REAL_ELSEWHERE} (the text names a real address there), "
            f"both halves: n={len(apart):,}, placed {apart['placed'].mean():.1%}, "
            f"flagged {(apart['flag'] != '').mean():.1%}, placed where the ZIP says "
            f"(> 250 m from the city's point) unflagged {apart['wrong_unflagged'].mean():.1%}"
        )
        city = out[out["kind"].str.startswith("city format")]
        placed = city["placed"].mean()
        print(
            f"\n2025 backlog as the city writes it, both halves: placed {placed:.1%} "
            f"(n={len(city):,}) goal >= 95 % {'meets' if placed >= 0.95 else 'MISSES'}; "
            f"within 50 m {city['within50'].mean():.1%}; flagged {(city['flag'] != '').mean():.1%}"
        )
        calibration(held)
        table(out[out["half"] == "tuning"], "tuning half (looked at while changing the geocoder):")
        if show:
            bad = out[(out["half"] == "tuning") & out["wrong_unflagged"]]
            print(f"\nwrong and unflagged, tuning half (first {show}):")
            for r in bad.head(show).itertuples():
                print(
                    f"  [{r.kind}] {r.query!r} -> {r.match} {r.score} {r.error_m:.0f} m | {r.note}"
                )
        city_texts = city["query"].drop_duplicates().tolist()
        resident = out[~out["kind"].str.startswith("city format")]
        resident_texts = resident["query"].drop_duplicates().tolist()

        def factory() -> OfflineGeocoder:
            return OfflineGeocoder(
                coder.index,
                places=coder.places,
                neighbourhoods=neighbourhoods,
                service_area=coder.service_area,
            )

        print(
            "\nthroughput, one core, no cache (median of 3 passes; CPU time is the one-core "
            "figure, wall time also counts waiting for a core on a shared machine):"
        )
        for label, texts, goal in (
            ("city-format strings", city_texts, 10_000),
            ("resident-style strings", resident_texts, 5_000),
        ):
            wall, cpu = throughput(factory, texts)
            print(
                f"  {label:<24} n={len(texts):6,}  {wall:8,.0f}/s wall  {cpu:8,.0f}/s CPU  "
                f"goal >= {goal:,}/s of CPU {'meets' if cpu >= goal else 'MISSES'}"
            )


def _neighbourhoods(settings: Settings) -> dict[str, object]:
    for layer, index in area_layers(settings)[0]:
        if layer.name == "neighborhood":
            return area_shapes(index.ids, index.geometries)
    return {}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--show", type=int, default=0, help="print wrong answers (tuning half)")
    args = parser.parse_args()
    run(args.seed, show=args.show)
