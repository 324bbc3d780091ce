"""Offline geocoding: address text → point, with a match type, a score and a reason.

The cascade, cheapest first:

1. **exact**: the normalised house number and street key are in the index (in the ZIP or
   locality given, else anywhere if all candidates agree within ``ambiguity_m``);
2. **street resolution** when the street key is unknown: a misspelt suffix read as the
   suffix it is closest to, the same base name with another or no suffix, then a fuzzy
   match of the base name (ZIP/locality streets first). Names are compared spelled out
   (``E 5TH`` as ``EAST FIFTH``, ``S`` as ``SOUTH``) and as the city writes them
   (``CENTRE``, whose key says ``CTR``), by optimal-string-alignment similarity, so a
   typo in "Fifth" costs one letter of six and a swapped pair of letters one edit. A
   name too far off for a plain fuzzy match is still taken when it clearly beats every
   other name the suffix and house number allow, but flagged low confidence. Only
   streets whose known numbers make the house number plausible are kept;
3. **number on the street**: an exact number, a range that covers it, or linear
   interpolation between the nearest known numbers on the same side (odd/even), then the
   other side, then the street's midpoint (match ``street``, low confidence);
4. **intersections** from the intersections table, each street resolved as in 2 (a loose
   reading counts when the pair is recorded as crossing); a pair never recorded is
   estimated from the two streets' closest address points, flagged low confidence.

Every result has ``match`` (exact / interpolated / fuzzy / intersection / street / none),
``score`` in [0, 1], ``flag`` ("" / "ambiguous" / "low_confidence"), ``note`` (the reason
for a failure, the alternatives of an ambiguous answer) and ``matched`` (the address the
point belongs to). An ambiguous answer carries its best guess but is never unflagged.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from geodispatch.domain.errors import InputError
from geodispatch.geo.address import (
    ADDRESS,
    EMPTY,
    INTERSECTION,
    STREET,
    SUFFIXES,
    WORD_MAP,
    AddressParser,
    ParsedAddress,
    name_base,
    normalize_zip,
    spelled_key,
    split_suffix,
)
from geodispatch.geo.address_index import AddressIndex, StreetInZip, StreetSide, pair_key
from geodispatch.geo.crs import working_to_lonlat

EXACT: Final = "exact"
INTERPOLATED: Final = "interpolated"
FUZZY: Final = "fuzzy"
INTERSECTION_MATCH: Final = "intersection"
STREET_MATCH: Final = "street"
NONE: Final = "none"
MATCH_TYPES: Final = (EXACT, INTERPOLATED, FUZZY, INTERSECTION_MATCH, STREET_MATCH, NONE)

AMBIGUOUS: Final = "ambiguous"
LOW_CONFIDENCE: Final = "low_confidence"

RESULT_COLUMNS: Final = ("lon", "lat", "match", "score", "flag", "note", "matched")

#: Called with (addresses done, addresses in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class GeocodeParams:
    """Tunables of the offline cascade (distances in metres, scores in [0, 1]).

    Street names are compared spelled out (``E 5TH`` as ``EAST FIFTH``; also as the city
    writes them, ``CENTRE``) by optimal-string-alignment similarity, 1 - edits / length,
    where swapping two letters is one edit. ``fuzzy_min_similarity`` is the least
    similarity for a fuzzy street match among the streets of the ZIP or locality given
    (``fuzzy_min_similarity_anywhere`` elsewhere). Below that, down to
    ``fuzzy_loose_similarity``, the best name is still taken when it leads every other
    name by ``fuzzy_loose_margin``, but the answer is flagged low confidence (one side of
    an intersection read so needs the pair to be recorded). ``max_gap_numbers`` is the
    widest numbering gap interpolated across;
    ``max_span_m`` the farthest apart two known addresses may be to interpolate between
    them; ``max_beyond_numbers`` how far past the last known number on a side a house may
    be and still get that neighbour's point; ``ambiguity_m`` how far apart candidates may
    be and still count as one answer; ``low_confidence_below`` the score under which a
    result is flagged; ``estimate_within_m`` how close two streets' address points must
    come to estimate an unrecorded intersection; ``extrapolate_within_m`` how far past
    the last known address of a side a house may be placed along the street's direction;
    ``other_zip_factor`` multiplies the score of an answer outside the ZIP or locality the
    text named (the street there is probably missing from the index, so such an answer is
    flagged); ``citywide_localities`` are place names that mean the whole city ("Boston"
    is written for every neighbourhood), so they restrict nothing.
    """

    fuzzy_min_similarity: float = 0.7
    fuzzy_min_similarity_anywhere: float = 0.8
    fuzzy_loose_similarity: float = 0.6
    fuzzy_loose_margin: float = 0.1
    max_gap_numbers: int = 120
    max_span_m: float = 600.0
    max_beyond_numbers: int = 12
    ambiguity_m: float = 250.0
    low_confidence_below: float = 0.6
    estimate_within_m: float = 120.0
    extrapolate_within_m: float = 120.0
    other_zip_factor: float = 0.55
    citywide_localities: tuple[str, ...] = ("BOSTON",)

    def __post_init__(self) -> None:
        checks = (
            ("fuzzy_min_similarity", self.fuzzy_min_similarity, 0.5, 1.0),
            ("fuzzy_min_similarity_anywhere", self.fuzzy_min_similarity_anywhere, 0.5, 1.0),
            ("fuzzy_loose_similarity", self.fuzzy_loose_similarity, 0.3, 1.0),
            ("fuzzy_loose_margin", self.fuzzy_loose_margin, 0.0, 1.0),
            ("extrapolate_within_m", self.extrapolate_within_m, 0.0, 1_000.0),
            ("other_zip_factor", self.other_zip_factor, 0.0, 1.0),
            ("max_gap_numbers", self.max_gap_numbers, 2, 10_000),
            ("max_span_m", self.max_span_m, 10.0, 10_000.0),
            ("max_beyond_numbers", self.max_beyond_numbers, 0, 1_000),
            ("ambiguity_m", self.ambiguity_m, 10.0, 10_000.0),
            ("low_confidence_below", self.low_confidence_below, 0.0, 1.0),
            ("estimate_within_m", self.estimate_within_m, 0.0, 2_000.0),
        )
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise InputError(
                    f"GeocodeParams.{name} must be in [{low}, {high}]. Got {value} instead."
                )
        if self.fuzzy_loose_similarity > self.fuzzy_min_similarity:
            raise InputError(
                "GeocodeParams.fuzzy_loose_similarity must not exceed fuzzy_min_similarity. "
                f"Got {self.fuzzy_loose_similarity} > {self.fuzzy_min_similarity} instead."
            )


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """One address's answer in the working CRS (``x``/``y`` NaN when there is none)."""

    x: float
    y: float
    match: str
    score: float
    flag: str = ""
    note: str = ""
    matched: str = ""


_NO_TEXT: Final = GeocodeResult(math.nan, math.nan, NONE, 0.0, note="no address text")


class Geocoder(Protocol):
    """Anything that turns address strings into points with match quality."""

    name: str

    def geocode(
        self,
        addresses: Sequence[str],
        *,
        zipcodes: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """One row per address, in order, with :data:`RESULT_COLUMNS`."""
        ...


class _Street(NamedTuple):
    """A street the text may name: its key, a score, how it was found, read loosely or not."""

    key: str
    score: float
    how: str
    loose: bool = False


#: Names the fast InDel ratio shortlists for the alignment similarity to rank.
_SHORTLIST: Final = 12

#: Score of a street read loosely: under ``low_confidence_below`` so the answer is flagged.
_LOOSE_SCORE: Final = 0.5


@dataclass(frozen=True, slots=True)
class _NamePool:
    """Names to compare a typed street name with, and the base key each stands for."""

    names: list[str]
    bases: list[str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    x: float
    y: float
    match: str
    score: float
    note: str
    matched: str


class OfflineGeocoder:
    """The offline cascade over an :class:`AddressIndex`; pure, no network, no database."""

    name = "offline"

    def __init__(self, index: AddressIndex, params: GeocodeParams | None = None) -> None:
        self.index = index
        self.params = params or GeocodeParams()
        self.parser = AddressParser(index.localities())
        self._forms = {base: self._name_forms(base) for base in index.all_bases}
        self._all_names = self._pool(index.all_bases)  # intersection-only streets too
        self._address_names = self._pool(
            [b for b in index.all_bases if any(k in index.streets for k in index.bases[b])]
        )
        self._zip_names: dict[frozenset[str], _NamePool] = {}

    # public API ---------------------------------------------------------------------------

    def geocode(
        self,
        addresses: Sequence[str],
        *,
        zipcodes: Sequence[str] | None = None,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """Geocode many strings; ``zipcodes`` (same length) adds a ZIP the text may lack.

        Repeated strings are resolved once per call. Returns WGS84 ``lon``/``lat`` and the
        other :data:`RESULT_COLUMNS`, one row per input, in input order.
        """
        if zipcodes is not None and len(zipcodes) != len(addresses):
            raise InputError(
                f"geocode got {len(addresses)} addresses but {len(zipcodes)} ZIP codes; "
                "pass one ZIP (or '') per address"
            )
        seen: dict[tuple[str, str], GeocodeResult] = {}
        results: list[GeocodeResult] = []
        total = len(addresses)
        for i, text in enumerate(addresses):
            zipcode = zipcodes[i] if zipcodes is not None else ""
            key = (text, zipcode or "")
            result = seen.get(key)
            if result is None:
                result = self.geocode_one(text, zipcode=zipcode or "")
                seen[key] = result
            results.append(result)
            if progress is not None and (i + 1) % 5000 == 0:
                progress(i + 1, total)
        if progress is not None:
            progress(total, total)
        return results_frame(results, self.index.working_crs)

    def geocode_one(self, text: str, *, zipcode: str = "") -> GeocodeResult:
        """Geocode one string (working-CRS coordinates); never raises on bad text."""
        parsed = self.parser.parse(text or "")
        if zipcode and not parsed.zipcode:
            parsed = _with_zip(parsed, normalize_zip(zipcode))
        if parsed.kind == EMPTY:
            return _NO_TEXT
        if parsed.kind == ADDRESS:
            return self._address(parsed)
        if parsed.kind == INTERSECTION:
            return self._intersection(parsed)
        if parsed.kind == STREET:
            return self._street_only(parsed)
        return GeocodeResult(
            math.nan,
            math.nan,
            NONE,
            0.0,
            note=f"could not read {_short(text)!r} as an address or an intersection",
        )

    def reverse(
        self, lon: np.ndarray, lat: np.ndarray, *, max_distance_m: float = 60.0
    ) -> pd.DataFrame:
        """Nearest indexed address to each point: ``address``, ``distance_m``, ``match``.

        ``match`` is ``exact`` within ``max_distance_m``, else ``none`` with the distance
        in ``note``; points with NaN coordinates get ``none`` / "no location".
        """
        from geodispatch.geo.crs import lonlat_to_working

        lon_a = np.asarray(lon, dtype=float)
        lat_a = np.asarray(lat, dtype=float)
        x, y = lonlat_to_working(lon_a, lat_a, self.index.working_crs)
        n = len(lon_a)
        located = np.isfinite(x) & np.isfinite(y)
        distance = np.full(n, np.nan)
        nearest = np.full(n, -1, dtype=np.int64)
        if located.any() and self.index.tree is not None:
            d, j = self.index.tree.query(np.column_stack([x[located], y[located]]))
            distance[located] = d
            nearest[located] = j
        address = np.full(n, "", dtype=object)
        note = np.where(located, "", "no location").astype(object)
        near = located & (distance <= max_distance_m)
        for i in np.flatnonzero(located):
            label = self._point_label(int(nearest[i]))
            if near[i]:
                address[i] = label
            else:
                note[i] = f"nearest known address {label} is {distance[i]:.0f} m away"
        return pd.DataFrame(
            {
                "address": address,
                "distance_m": np.round(distance, 1),
                "match": np.where(near, EXACT, NONE),
                "note": note,
            }
        )

    # addresses ---------------------------------------------------------------------------

    def _preferred_zips(self, parsed: ParsedAddress) -> frozenset[str]:
        if parsed.zipcode:
            return frozenset((parsed.zipcode,))
        if parsed.locality and parsed.locality not in self.params.citywide_localities:
            return self.index.locality_zips.get(parsed.locality, frozenset())
        return frozenset()

    def _address(self, parsed: ParsedAddress) -> GeocodeResult:
        assert parsed.number is not None
        preferred = self._preferred_zips(parsed)
        exact = self._exact(parsed, preferred)
        if exact is not None:
            return exact
        streets = self._resolve_street(parsed.street, preferred, parsed.number)
        if not streets:
            return self._no_street(parsed)
        candidates: list[_Candidate] = []
        for key, street_score, how, _loose in streets:
            for zipcode, street in self._zips_of(key, preferred):
                found = self._on_street(key, zipcode, street, parsed.number)
                keep = how == EXACT or found.match == STREET_MATCH
                match = found.match if keep else FUZZY
                note = found.note if how == EXACT else _join(how, found.note)
                factor = 1.0
                if preferred and zipcode not in preferred:
                    factor = self.params.other_zip_factor
                    note = _join(note, _elsewhere(key, preferred, self.index.display))
                candidates.append(
                    _Candidate(
                        found.x,
                        found.y,
                        match,
                        round(found.score * street_score * factor, 3),
                        note,
                        found.matched,
                    )
                )
        if not candidates:
            return self._no_street(parsed)
        return self._decide(candidates, parsed, preferred)

    def _exact(self, parsed: ParsedAddress, preferred: frozenset[str]) -> GeocodeResult | None:
        ids = self.index.exact.get(f"{parsed.number_text} {parsed.street}")
        note = ""
        if ids is None and parsed.number_suffix:
            ids = self.index.exact.get(f"{parsed.number} {parsed.street}")
            note = f"no {parsed.number_text} in the index; used {parsed.number}"
        if ids is None:
            return None
        chosen = [i for i in ids if self.index.point_zip[i] in preferred] or ids
        score = 1.0 if not note else 0.95
        if preferred and not any(self.index.point_zip[i] in preferred for i in ids):
            if any(z in preferred for z in self.index.streets.get(parsed.street, {})):
                return None  # the street is known there: interpolate there instead
            note = _join(note, _elsewhere(parsed.street, preferred, self.index.display))
            score *= self.params.other_zip_factor
        candidates = [
            _Candidate(
                float(self.index.x[i]),
                float(self.index.y[i]),
                EXACT,
                score,
                note,
                self._point_label(i),
            )
            for i in chosen
        ]
        if not preferred and parsed.number is not None:
            # nothing says which ZIP: the same street elsewhere may hold the number too
            have = {self.index.point_zip[i] for i in chosen}
            for zipcode, street in self.index.streets.get(parsed.street, {}).items():
                if zipcode not in have:
                    other = self._on_street(parsed.street, zipcode, street, parsed.number)
                    if other.match != STREET_MATCH:
                        candidates.append(other)
        return self._decide(candidates, parsed, preferred)

    def _resolve_street(
        self,
        key: str,
        preferred: frozenset[str],
        number: int | None,
        *,
        with_addresses: bool = True,
    ) -> list[_Street]:
        """Streets the query may mean, best first.

        ``with_addresses`` keeps only streets with address points (an address needs them);
        without it a street known only from intersection records counts too.
        """
        index = self.index

        def usable(k: str) -> bool:
            return k in index.streets if with_addresses else index.known_street(k)

        if usable(key):
            return [_Street(key, 1.0, EXACT)]
        base, suffix = split_suffix(key)
        if not suffix:
            fixed = _fix_suffix(key)
            if fixed != key:  # "LORRAINE STRET" read as "LORRAINE ST"
                return self._resolve_street(fixed, preferred, number, with_addresses=with_addresses)
        whole = [k for k in index.bases.get(key, []) if usable(k)]
        same_base = whole or [k for k in index.bases.get(base, []) if usable(k)]
        if whole:
            suffix = ""  # "Blue Hill" is "Blue Hill Ave" without its suffix
        if same_base:
            out = []
            for k in same_base:
                other_suffix = split_suffix(k)[1]
                if not suffix:
                    out.append(
                        _Street(k, 0.92, f"street suffix missing, read as {index.display[k]}")
                    )
                elif other_suffix != suffix:
                    out.append(_Street(k, 0.7, f"{suffix} read as {index.display[k]}"))
            if out:
                return self._plausible(out, preferred, number)
        fuzzy = self._fuzzy(base, suffix, preferred, number, usable, with_addresses=with_addresses)
        return self._plausible(fuzzy, preferred, number)

    def _fuzzy(
        self,
        base: str,
        suffix: str,
        preferred: frozenset[str],
        number: int | None,
        usable: Callable[[str], bool],
        *,
        with_addresses: bool,
    ) -> list[_Street]:
        """Streets whose name is close to ``base``: the ZIP or locality's first, then all.

        Names at least ``fuzzy_min_similarity`` alike are all kept; failing those, the
        single best name is kept, read loosely, if it leads every other name that could
        be meant by ``fuzzy_loose_margin`` (a name could be meant when it has a street
        with the suffix written, and one whose known numbers reach the house number).
        """
        query = spelled_key(base)
        if len(query.replace(" ", "")) < 3:
            return []
        params = self.params
        pools: list[tuple[_NamePool, float]] = []
        if preferred:
            pools.append((self._local_names(preferred), params.fuzzy_min_similarity))
        everywhere = self._address_names if with_addresses else self._all_names
        pools.append((everywhere, params.fuzzy_min_similarity_anywhere))
        floor = max(0.0, params.fuzzy_loose_similarity - params.fuzzy_loose_margin)
        for pool, cutoff in pools:
            # the cheaper InDel ratio shortlists, the alignment similarity decides
            hits = process.extract(
                query, pool.names, scorer=fuzz.ratio, limit=_SHORTLIST, score_cutoff=50
            )
            best: dict[str, float] = {}
            for name, _ratio, i in hits:  # every pool holds only usable names
                similarity = OSA.normalized_similarity(query, name)
                if similarity >= floor and similarity > best.get(pool.bases[i], 0.0):
                    best[pool.bases[i]] = similarity
            ranked = sorted(best.items(), key=lambda item: -item[1])
            if not ranked or ranked[0][1] < params.fuzzy_loose_similarity:
                continue
            chosen = [(b, sim) for b, sim in ranked if sim >= cutoff]
            loose = not chosen
            if loose:
                ranked = self._could_mean(ranked, suffix, preferred, number, usable)
                runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
                if ranked[0][1] - runner_up < params.fuzzy_loose_margin:
                    continue
                chosen = ranked[:1]
            out = []
            for name_base_key, similarity in chosen:
                for k in self.index.bases[name_base_key]:
                    if not usable(k):
                        continue
                    other_suffix = split_suffix(k)[1]
                    penalty = 0.0 if not suffix or other_suffix == suffix else 0.15
                    if loose:
                        score = _LOOSE_SCORE - penalty
                        why = (
                            f"street name {base.title()!r} read loosely as {self.index.display[k]}"
                        )
                    else:
                        score = 0.6 + 0.35 * (similarity - cutoff) / (1 - cutoff) - penalty
                        why = f"street name {base.title()!r} read as {self.index.display[k]}"
                    out.append(_Street(k, max(0.0, score), why, loose))
            if out:
                return out
        return []

    def _could_mean(
        self,
        ranked: list[tuple[str, float]],
        suffix: str,
        preferred: frozenset[str],
        number: int | None,
        usable: Callable[[str], bool],
    ) -> list[tuple[str, float]]:
        """The ranked base names narrowed to those the rest of the address agrees with.

        Each test narrows only when some name passes it, so nothing is lost to it.
        """
        beyond = self.params.max_beyond_numbers

        def has_suffix(b: str) -> bool:
            return any(usable(k) and split_suffix(k)[1] == suffix for k in self.index.bases[b])

        def reaches(b: str) -> bool:
            assert number is not None
            return any(
                s.low - beyond <= number <= s.high + beyond
                for k in self.index.bases[b]
                if usable(k)
                for _z, s in self._zips_of(k, preferred)
            )

        tests = ([has_suffix] if suffix else []) + ([reaches] if number is not None else [])
        for test in tests:
            passing = [(b, sim) for b, sim in ranked if test(b)]
            if passing:
                ranked = passing
        return ranked

    def _name_forms(self, base: str) -> list[str]:
        """A base spelled out, and as the city writes its streets, for comparison."""
        forms = {spelled_key(base)}
        forms.update(name_base(self.index.display.get(k, k)) for k in self.index.bases[base])
        return sorted(f for f in forms if f)

    def _pool(self, bases: Sequence[str]) -> _NamePool:
        names: list[str] = []
        owners: list[str] = []
        for base in bases:
            forms = self._forms.get(base) or self._name_forms(base)
            names.extend(forms)
            owners.extend([base] * len(forms))
        return _NamePool(names, owners)

    def _local_names(self, preferred: frozenset[str]) -> _NamePool:
        pool = self._zip_names.get(preferred)
        if pool is None:
            local = sorted({b for z in preferred for b in self.index.zip_bases.get(z, [])})
            pool = self._zip_names[preferred] = self._pool(local)
        return pool

    def _plausible(
        self,
        streets: list[_Street],
        preferred: frozenset[str],
        number: int | None,
    ) -> list[_Street]:
        """Keep streets whose known numbers could contain ``number``; best first."""
        if number is None or len(streets) <= 1:
            return sorted(streets, key=lambda s: -s.score)
        beyond = self.params.max_beyond_numbers

        def fits(key: str) -> bool:
            return any(
                s.low - beyond <= number <= s.high + beyond
                for _z, s in self._zips_of(key, preferred)
            )

        kept = [s for s in streets if fits(s.key)] or streets
        kept.sort(key=lambda s: -s.score)
        best = kept[0].score
        return [s for s in kept if s.score >= best - 0.05]

    def _zips_of(self, key: str, preferred: frozenset[str]) -> list[tuple[str, StreetInZip]]:
        zips = self.index.streets.get(key, {})
        inside = [(z, s) for z, s in zips.items() if z in preferred]
        return inside or list(zips.items())

    def _on_street(self, key: str, zipcode: str, street: StreetInZip, number: int) -> _Candidate:
        """Where ``number`` is on one street in one ZIP."""
        own, other = street.sides[number % 2], street.sides[1 - number % 2]
        label = f"{number} {self.index.display.get(key, key)} {zipcode}".strip()
        for side, factor, note in ((own, 1.0, ""), (other, 0.85, "placed from the other side")):
            found = self._on_side(side, number)
            if found is None:
                continue
            x, y, kind, score, why = found
            return _Candidate(x, y, kind, round(score * factor, 3), _join(note, why), label)
        return _Candidate(
            street.mid_x,
            street.mid_y,
            STREET_MATCH,
            0.3,
            f"number {number} is outside the known numbers {street.low}-{street.high}; "
            "street midpoint",
            label,
        )

    def _on_side(
        self, side: StreetSide, number: int
    ) -> tuple[float, float, str, float, str] | None:
        numbers = side.numbers
        if not numbers:
            return None
        params = self.params
        at = bisect_left(numbers, number)
        if at < len(numbers) and numbers[at] == number:
            return side.x[at], side.y[at], EXACT, 0.97, ""
        if at > 0 and side.high[at - 1] >= number:  # a range entry such as 31-35 covers it
            return side.x[at - 1], side.y[at - 1], EXACT, 0.95, "inside a numbered range"
        if 0 < at < len(numbers):
            low, high = numbers[at - 1], numbers[at]
            x0, y0, x1, y1 = side.x[at - 1], side.y[at - 1], side.x[at], side.y[at]
            span = math.hypot(x1 - x0, y1 - y0)
            if high - low <= params.max_gap_numbers and span <= params.max_span_m:
                t = (number - low) / (high - low)
                score = 0.9 - 0.25 * (high - low) / params.max_gap_numbers
                score -= 0.15 * span / params.max_span_m
                return x0 + t * (x1 - x0), y0 + t * (y1 - y0), INTERPOLATED, score, ""
        if 0 < at < len(numbers):
            return None
        end, inner = (0, 1) if at == 0 else (len(numbers) - 1, len(numbers) - 2)
        past = abs(number - numbers[end])
        if past <= params.max_beyond_numbers:
            return side.x[end], side.y[end], INTERPOLATED, 0.7, "placed at the nearest known number"
        if inner < 0 or inner >= len(numbers):
            return None
        step_x = (side.x[end] - side.x[inner]) / (numbers[end] - numbers[inner])
        step_y = (side.y[end] - side.y[inner]) / (numbers[end] - numbers[inner])
        dx, dy = step_x * (number - numbers[end]), step_y * (number - numbers[end])
        if math.hypot(dx, dy) > params.extrapolate_within_m:
            return None
        why = "extended past the last known number along the street"
        return side.x[end] + dx, side.y[end] + dy, INTERPOLATED, 0.55, why

    def _decide(
        self, candidates: list[_Candidate], parsed: ParsedAddress, preferred: frozenset[str]
    ) -> GeocodeResult:
        """One answer from candidates: the best, flagged ambiguous if others disagree."""
        rank = {EXACT: 0, INTERPOLATED: 1, FUZZY: 2, INTERSECTION_MATCH: 2, STREET_MATCH: 3}
        ordered = sorted(candidates, key=lambda c: (-c.score, rank.get(c.match, 4)))
        best = ordered[0]
        flag = ""
        note = best.note
        # with no ZIP or locality every place that fits counts; with one, only near-equals
        margin = 1.0 if not preferred else 0.1
        far = [
            c
            for c in ordered[1:]
            if c.match != STREET_MATCH
            and c.score >= best.score - margin
            and math.hypot(c.x - best.x, c.y - best.y) > self.params.ambiguity_m
        ]
        if far and best.match != STREET_MATCH:
            flag = AMBIGUOUS
            others = "; ".join(sorted({c.matched for c in far})[:3])
            where = "no ZIP or locality given" if not preferred else "several places fit"
            note = _join(note, f"{where}; also {others}")
        elif best.score < self.params.low_confidence_below:
            flag = LOW_CONFIDENCE
        return GeocodeResult(best.x, best.y, best.match, best.score, flag, note, best.matched)

    def _no_street(self, parsed: ParsedAddress) -> GeocodeResult:
        base = split_suffix(parsed.street)[0]
        near = process.extractOne(base, self.index.all_bases, scorer=fuzz.ratio) if base else None
        hint = (
            f"; closest known name {self.index.bases[near[0]][0].title()!r} ({near[1]:.0f}%)"
            if near
            else ""
        )
        return GeocodeResult(
            math.nan,
            math.nan,
            NONE,
            0.0,
            note=f"street {parsed.street.title()!r} is not in the address index{hint}",
        )

    def _street_only(self, parsed: ParsedAddress) -> GeocodeResult:
        preferred = self._preferred_zips(parsed)
        streets = self._resolve_street(parsed.street, preferred, None)
        for key, score, how, _loose in streets:
            zips = self._zips_of(key, preferred)
            if zips:
                xs = [s.mid_x for _z, s in zips]
                ys = [s.mid_y for _z, s in zips]
                note = "no house number given; street midpoint"
                flag = LOW_CONFIDENCE
                if max(xs) - min(xs) > self.params.ambiguity_m or (
                    max(ys) - min(ys) > self.params.ambiguity_m
                ):
                    flag = AMBIGUOUS
                    note += f" (the street runs through {len(zips)} ZIPs)"
                return GeocodeResult(
                    float(np.median(xs)),
                    float(np.median(ys)),
                    STREET_MATCH,
                    round(0.3 * score, 3),
                    flag,
                    note if how == EXACT else _join(how, note),
                    self.index.display.get(key, key),
                )
        return self._no_street(parsed)

    # intersections -----------------------------------------------------------------------

    def _intersection(self, parsed: ParsedAddress) -> GeocodeResult:
        preferred = self._preferred_zips(parsed)
        side_a = self._resolve_street(parsed.street, preferred, None, with_addresses=False)
        side_b = self._resolve_street(parsed.street2, preferred, None, with_addresses=False)
        label = f"{parsed.street.title()} & {parsed.street2.title()}"
        if not side_a or not side_b:
            missing = parsed.street if not side_a else parsed.street2
            return GeocodeResult(
                math.nan,
                math.nan,
                NONE,
                0.0,
                note=f"street {missing.title()!r} of {label} is not in the index",
            )
        candidates: list[_Candidate] = []
        for key_a, score_a, _how_a, loose_a in side_a:
            for key_b, score_b, _how_b, loose_b in side_b:
                if key_a == key_b:
                    continue
                # a name read loosely is confirmed by the record of its crossing the other
                score_a = max(score_a, self.params.low_confidence_below) if loose_a else score_a
                score_b = max(score_b, self.params.low_confidence_below) if loose_b else score_b
                entries = self.index.intersections.get(pair_key(key_a, key_b), [])
                local = [
                    e
                    for e in entries
                    if (e[0] and e[0] == parsed.locality) or (e[1] and e[1] in preferred)
                ]
                factor = 1.0
                if entries and not local and preferred:
                    factor = self.params.other_zip_factor
                for _city, _zip, x, y in local or entries:
                    score = round(min(score_a, score_b) * factor, 3)
                    name = f"{self.index.display.get(key_a, key_a)} & "
                    name += self.index.display.get(key_b, key_b)
                    how = "" if min(score_a, score_b) == 1.0 else "street names read loosely"
                    if factor < 1.0:
                        how = _join(how, "recorded only outside the ZIP or locality given")
                    candidates.append(_Candidate(x, y, INTERSECTION_MATCH, score, how, name))
        if candidates:
            return self._decide(candidates, parsed, preferred)
        return self._estimate_intersection(side_a, side_b, label)

    def _estimate_intersection(
        self, side_a: list[_Street], side_b: list[_Street], label: str
    ) -> GeocodeResult:
        """Where two streets' address points come closest, when no record exists."""
        best: tuple[float, float, float, str] | None = None
        index = self.index
        for key_a, *_a in side_a:
            ids_a = index.street_points(key_a)
            for key_b, *_b in side_b:
                ids_b = index.street_points(key_b)
                if key_a == key_b or not len(ids_a) or not len(ids_b):
                    continue
                dx = index.x[ids_a][:, None] - index.x[ids_b][None, :]
                dy = index.y[ids_a][:, None] - index.y[ids_b][None, :]
                d2 = dx * dx + dy * dy
                flat = int(np.argmin(d2))
                i, j = divmod(flat, len(ids_b))
                dist = math.sqrt(float(d2.flat[flat]))
                if best is None or dist < best[0]:
                    mx = (index.x[ids_a[i]] + index.x[ids_b[j]]) / 2
                    my = (index.y[ids_a[i]] + index.y[ids_b[j]]) / 2
                    name = f"{index.display.get(key_a, key_a)} & {index.display.get(key_b, key_b)}"
                    best = (dist, float(mx), float(my), name)
        if best is None or best[0] > self.params.estimate_within_m:
            why = (
                f"no record of {label} crossing"
                if best is None
                else f"no record of {label}; their nearest addresses are {best[0]:.0f} m apart"
            )
            return GeocodeResult(math.nan, math.nan, NONE, 0.0, note=why)
        return GeocodeResult(
            best[1],
            best[2],
            INTERSECTION_MATCH,
            0.4,
            LOW_CONFIDENCE,
            f"no intersection record; estimated between the streets' nearest addresses "
            f"({best[0]:.0f} m apart)",
            best[3],
        )

    def _point_label(self, i: int) -> str:
        key = self.index.point_street[i]
        name = self.index.display.get(key, key)
        return f"{self.index.point_number[i]} {name} {self.index.point_zip[i]}".strip()


def results_frame(results: Sequence[GeocodeResult], working_crs: str) -> pd.DataFrame:
    """Results as a frame with WGS84 ``lon``/``lat`` and :data:`RESULT_COLUMNS`."""
    x = np.fromiter((r.x for r in results), dtype=float, count=len(results))
    y = np.fromiter((r.y for r in results), dtype=float, count=len(results))
    lon, lat = working_to_lonlat(x, y, working_crs)
    return pd.DataFrame(
        {
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "match": [r.match for r in results],
            "score": np.fromiter((r.score for r in results), dtype=float, count=len(results)),
            "flag": [r.flag for r in results],
            "note": [r.note for r in results],
            "matched": [r.matched for r in results],
        }
    )


def _with_zip(parsed: ParsedAddress, zipcode: str) -> ParsedAddress:
    return ParsedAddress(
        parsed.kind,
        parsed.number,
        parsed.number_suffix,
        parsed.number_high,
        parsed.street,
        parsed.street2,
        parsed.unit,
        parsed.locality,
        zipcode,
    )


_SUFFIX_SPELLINGS: Final = sorted(
    w for w, canonical in WORD_MAP.items() if canonical in SUFFIXES and len(w) >= 3
)


def _fix_suffix(key: str) -> str:
    """The key with a misspelt last word read as the suffix it is closest to, if any."""
    words = key.split()
    if len(words) < 2 or len(words[-1]) < 4:
        return key
    hit = process.extractOne(words[-1], _SUFFIX_SPELLINGS, scorer=fuzz.ratio, score_cutoff=80)
    if hit is None:
        return key
    return " ".join([*words[:-1], WORD_MAP[hit[0]]])


def _elsewhere(key: str, preferred: frozenset[str], display: dict[str, str]) -> str:
    where = "/".join(sorted(preferred)[:3]) + ("…" if len(preferred) > 3 else "")
    return f"{display.get(key, key)} is not indexed in {where}; found in another ZIP"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
