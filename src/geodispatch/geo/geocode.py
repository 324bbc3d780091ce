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

Place names are evidence (see :mod:`geodispatch.geo.places`): a ZIP, a neighbourhood (the
neighbourhood layer's names and their aliases) and a town must agree with the answer, or
it is flagged ``conflict`` with both places named; a town or ZIP outside the city gives
``outside_area`` and no point. A street or number that exists in several places with
nothing in the text to choose is flagged ``ambiguous`` with the candidates listed. A
different suffix, a fuzzy name or an interpolation across a wide gap scores under the
review threshold unless the ZIP or neighbourhood given confirms it.

Every result has ``match`` (exact / interpolated / fuzzy / intersection / street /
landmark / none), ``score`` in [0, 1], ``flag`` ("" / "ambiguous" / "low_confidence" /
"conflict" / "outside_area"), ``note`` (the reason for a failure, the alternatives of an
ambiguous answer, text left out) and ``matched`` (the address the point belongs to). An
ambiguous answer carries its best guess but is never unflagged.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Final, NamedTuple, Protocol

import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from geodispatch.domain.errors import InputError
from geodispatch.geo.address import (
    ADDRESS,
    EMPTY,
    INTERSECTION,
    LANDMARK,
    STREET,
    SUFFIXES,
    WORD_MAP,
    AddressParser,
    ParsedAddress,
    name_base,
    normalize_zip,
    spelled_key,
    split_suffix,
    street_key,
)
from geodispatch.geo.address_index import AddressIndex, StreetInZip, StreetSide, pair_key
from geodispatch.geo.crs import lonlat_to_working, working_to_lonlat
from geodispatch.geo.places import PlaceBook, ServiceArea


class MatchType(StrEnum):
    """How a point was found (``nearest`` only in reverse geocoding)."""

    EXACT = "exact"
    INTERPOLATED = "interpolated"
    FUZZY = "fuzzy"
    INTERSECTION = "intersection"
    STREET = "street"
    LANDMARK = "landmark"
    NEAREST = "nearest"
    NONE = "none"


class GeocodeFlag(StrEnum):
    """Why an answer needs a person to look at it ("" when it does not)."""

    NONE = ""
    AMBIGUOUS = "ambiguous"  # several places fit and nothing in the text chooses
    LOW_CONFIDENCE = "low_confidence"  # a loose reading, under the review threshold
    CONFLICT = "conflict"  # the ZIP, neighbourhood or town written disagree with the match
    OUTSIDE_AREA = "outside_area"  # the text names a place outside the service area


EXACT: Final = MatchType.EXACT
INTERPOLATED: Final = MatchType.INTERPOLATED
FUZZY: Final = MatchType.FUZZY
INTERSECTION_MATCH: Final = MatchType.INTERSECTION
STREET_MATCH: Final = MatchType.STREET
LANDMARK_MATCH: Final = MatchType.LANDMARK
NONE: Final = MatchType.NONE
MATCH_TYPES: Final = (
    EXACT,
    INTERPOLATED,
    FUZZY,
    INTERSECTION_MATCH,
    STREET_MATCH,
    LANDMARK_MATCH,
    NONE,
)
#: Reverse geocoding: a point farther than a few metres from the address it names.
NEAREST: Final = MatchType.NEAREST

AMBIGUOUS: Final = GeocodeFlag.AMBIGUOUS
LOW_CONFIDENCE: Final = GeocodeFlag.LOW_CONFIDENCE
CONFLICT: Final = GeocodeFlag.CONFLICT
OUTSIDE_AREA: Final = GeocodeFlag.OUTSIDE_AREA
FLAGS: Final = tuple(GeocodeFlag)

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

    ``unconfirmed_score`` caps the score of an answer that needs confirming (a street read
    with another suffix or a fuzzy name, a number interpolated across more than
    ``confirm_gap_numbers`` or placed past the known numbers) when no ZIP or place named in
    the text contains it; ``other_suffix_score`` is the street score of a name written with
    a suffix the index does not have for it. ``neighbourhood_min_share`` is the least share
    of a neighbourhood's address points a ZIP must hold to count as one of its ZIPs.
    ``reverse_exact_m`` is how near a point must be to an address for reverse geocoding to
    name it as that address rather than as the nearest one.
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
    unconfirmed_score: float = 0.55
    other_suffix_score: float = 0.7
    confirm_gap_numbers: int = 20
    neighbourhood_min_share: float = 0.05
    reverse_exact_m: float = 5.0

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
            ("unconfirmed_score", self.unconfirmed_score, 0.0, 1.0),
            ("other_suffix_score", self.other_suffix_score, 0.0, 1.0),
            ("confirm_gap_numbers", self.confirm_gap_numbers, 0, 10_000),
            ("neighbourhood_min_share", self.neighbourhood_min_share, 0.0, 1.0),
            ("reverse_exact_m", self.reverse_exact_m, 0.0, 100.0),
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
    zipcode: str = ""


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
    """A street the text may name: its key, a score, how it was found, read loosely or not.

    ``confirm`` says the reading (another suffix, a fuzzy name) needs a ZIP or place to
    confirm it before it may score above the review threshold.
    """

    key: str
    score: float
    how: str
    loose: bool = False
    confirm: bool = False


#: Names the fast InDel ratio shortlists for the alignment similarity to rank.
_SHORTLIST: Final = 12

#: Score of a street read loosely: under ``low_confidence_below`` so the answer is flagged.
_LOOSE_SCORE: Final = 0.5

#: Score factor of a street kept because a closer name's known numbers do not reach the
#: house number (the index is sparse: the closer name may still be meant).
_OUT_RANKED: Final = 0.75

#: Score factor of a number placed from the other side of its street (numbering may differ
#: across a street): under the review threshold.
_OTHER_SIDE: Final = 0.6

#: Streets (per ZIP set) whose known points are kept ready for intersection checks.
_XY_CACHE_SIZE: Final = 20_000

#: How far outside the service area an answer may lie and still be kept (flagged).
_AREA_SLACK_M: Final = 250.0


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
    zipcode: str = ""
    confirm: bool = False  # needs a ZIP or place named in the text to confirm it


@dataclass(frozen=True, slots=True)
class _Evidence:
    """What the place names in the text say: where to look, and what disagrees.

    ``zips`` are the ZIPs to prefer (empty: anywhere); ``outside`` names a town or ZIP
    outside the service area; ``conflict`` says which named places disagree; ``unknown``
    names a place or ZIP the city does not know; ``places`` holds each place named (its
    label and its ZIPs), to say which one an answer agrees with.
    """

    zips: frozenset[str] = frozenset()
    outside: str = ""
    conflict: str = ""
    unknown: str = ""
    places: tuple[tuple[str, frozenset[str]], ...] = field(default_factory=tuple)


_NOWHERE: Final = _Evidence()


class OfflineGeocoder:
    """The offline cascade over an :class:`AddressIndex`; pure, no network, no database.

    ``places`` adds the city's aliases, landmarks and neighbouring towns;
    ``neighbourhoods`` (name → polygon, working CRS) makes the neighbourhood names place
    evidence, each meaning the ZIPs that hold its address points; ``service_area`` (a
    polygon, working CRS, e.g. the union of the wards) refuses answers outside it.
    """

    name = "offline"

    def __init__(
        self,
        index: AddressIndex,
        params: GeocodeParams | None = None,
        *,
        places: PlaceBook | None = None,
        neighbourhoods: Mapping[str, Any] | None = None,
        service_area: Any = None,
    ) -> None:
        self.index = index
        self.params = params or GeocodeParams()
        self.places = places or PlaceBook()
        self.service_area = service_area
        self._area = ServiceArea(service_area) if service_area is not None else None
        self._index_inside = True  # every address point lies in the service area
        if service_area is not None:
            self._index_inside = bool(shapely.contains_xy(service_area, index.x, index.y).all())
        self._evidence_seen: dict[tuple[str, str], _Evidence] = {}
        self.place_zips, self.place_names = self._place_table(neighbourhoods or {})
        self.index_zips = frozenset(index.zip_locality) | frozenset(
            z for by_zip in index.streets.values() for z in by_zip
        )
        self.parser = AddressParser(
            [*self.place_zips, *self.places.place_keys], self.places.landmarks
        )
        self._forms = {base: self._name_forms(base) for base in index.all_bases}
        self._all_names = self._pool(index.all_bases)  # intersection-only streets too
        self._address_names = self._pool(
            [b for b in index.all_bases if any(k in index.streets for k in index.bases[b])]
        )
        self._zip_names: dict[frozenset[str], _NamePool] = {}
        self._xy_cache: dict[tuple[str, frozenset[str]], tuple[np.ndarray, np.ndarray]] = {}
        self._crossings: dict[str, list[tuple[str, str, float, float]]] = {}
        for pair, entries in index.intersections.items():
            for key in pair.split(" & "):
                self._crossings.setdefault(key, []).extend(entries)

    def _place_table(
        self, neighbourhoods: Mapping[str, Any]
    ) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
        """Place key → ZIPs it covers, and key → display name, from every source."""
        index = self.index
        zips: dict[str, set[str]] = {k: set(v) for k, v in index.locality_zips.items()}
        names = {k: k.title() for k in zips}
        point_zip = np.asarray(index.point_zip, dtype=object)
        for name, polygon in neighbourhoods.items():
            key = street_key(name)
            names[key] = name
            inside = shapely.contains_xy(polygon, index.x, index.y)
            found, counts = np.unique(point_zip[inside], return_counts=True)
            least = max(1.0, self.params.neighbourhood_min_share * counts.sum())
            zips.setdefault(key, set()).update(
                str(z) for z, c in zip(found, counts, strict=True) if c >= least and z
            )
        for zipcode, key in self.places.city_zips.items():
            zips.setdefault(key, set()).add(zipcode)
        for alias, meant in self.places.place_aliases.items():
            covered = set().union(*(zips.get(m, set()) for m in meant))
            if covered:
                zips[alias] = covered
                names[alias] = " / ".join(names.get(m, m.title()) for m in meant)
        return {k: frozenset(v) for k, v in zips.items() if v}, names

    # public API ---------------------------------------------------------------------------

    def geocode(
        self,
        addresses: Sequence[Any],
        *,
        zipcodes: Sequence[Any] | None = None,
        progress: Progress | None = None,
    ) -> pd.DataFrame:
        """Geocode many strings; ``zipcodes`` (same length) adds a ZIP the text may lack.

        Missing values (None, NaN, ``pd.NA``) in either give "no address text" rows.
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
        for i, value in enumerate(addresses):
            text = _as_text(value)
            zipcode = _as_text(zipcodes[i]) if zipcodes is not None else ""
            key = (text, zipcode)
            result = seen.get(key)
            if result is None:
                result = self.geocode_one(text, zipcode=zipcode)
                seen[key] = result
            results.append(result)
            if progress is not None and (i + 1) % 5000 == 0:
                progress(i + 1, total)
        if progress is not None:
            progress(total, total)
        return results_frame(results, self.index.working_crs)

    def geocode_one(self, text: Any, *, zipcode: Any = "") -> GeocodeResult:
        """Geocode one string (working-CRS coordinates); never raises on bad text.

        A missing value (None, NaN, ``pd.NA``) gives the "no address text" result.
        """
        text = _as_text(text)
        zipcode = normalize_zip(_as_text(zipcode))  # a ZIP column's "n/a" adds nothing
        parsed = self.parser.parse(text)
        if zipcode and not parsed.zipcode:
            parsed = replace(parsed, zipcode=zipcode)
        if parsed.kind == EMPTY:
            return _NO_TEXT
        evidence = self._evidence(parsed)
        if evidence.outside:
            return _outside(evidence.outside)
        parsed = self._aliased(parsed)
        result = self._dispatch(parsed, evidence.zips, text)
        if evidence.conflict and not math.isnan(result.x):
            # say what each named place alone would give
            for name, zips in evidence.places:
                if result.zipcode not in zips:
                    other = self._dispatch(parsed, zips, text)
                    if other.zipcode in zips:
                        result = replace(
                            result, note=_join(result.note, f"in {name}: {other.matched}")
                        )
        return self._checked(result, parsed, evidence)

    def _dispatch(
        self, parsed: ParsedAddress, preferred: frozenset[str], text: str
    ) -> GeocodeResult:
        if parsed.kind == ADDRESS:
            return self._address(parsed, preferred)
        if parsed.kind == INTERSECTION:
            return self._intersection(parsed, preferred)
        if parsed.kind == STREET:
            return self._street_only(parsed, preferred)
        if parsed.kind == LANDMARK:
            return self._landmark(parsed)
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

        ``match`` is ``exact`` within ``reverse_exact_m`` (the point is that address),
        ``nearest`` within ``max_distance_m`` (a neighbour's address: the note says
        "nearest known address, N m away"), else ``none`` with the distance in ``note``;
        points with NaN coordinates get ``none`` / "no location".
        """
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
        match = np.full(n, NONE, dtype=object)
        for i in np.flatnonzero(located & (nearest >= 0)):
            label = self._point_label(int(nearest[i]))
            if distance[i] <= self.params.reverse_exact_m:
                address[i], match[i] = label, EXACT
            elif distance[i] <= max_distance_m:
                address[i], match[i] = label, NEAREST
                note[i] = f"nearest known address, {distance[i]:.0f} m away"
            else:
                note[i] = f"nearest known address {label} is {distance[i]:.0f} m away"
        return pd.DataFrame(
            {
                "address": address,
                "distance_m": np.round(distance, 1),
                "match": match,
                "note": note,
            }
        )

    # place evidence ----------------------------------------------------------------------

    def _evidence(self, parsed: ParsedAddress) -> _Evidence:
        """What the ZIP and the place name written say, and whether they agree."""
        key = (parsed.zipcode, parsed.locality)
        found = self._evidence_seen.get(key)
        if found is None:
            found = self._weigh_places(parsed.zipcode, parsed.locality)
            if len(self._evidence_seen) < 100_000:  # few distinct places are ever written
                self._evidence_seen[key] = found
        return found

    def _weigh_places(self, zipcode: str, locality: str) -> _Evidence:
        places = self.places
        outside: list[str] = []
        unknown: list[str] = []
        given: list[tuple[str, frozenset[str]]] = []
        if zipcode:
            if zipcode in places.outside_zips:
                outside.append(f"ZIP {zipcode} is {places.outside_zips[zipcode]}")
            elif zipcode in self.index_zips:
                where = self.index.zip_locality.get(zipcode, "")
                label = f"ZIP {zipcode} ({where.title()})" if where else f"ZIP {zipcode}"
                given.append((label, frozenset((zipcode,))))
            elif zipcode in places.city_zips:
                key = places.city_zips[zipcode]
                given.append((f"ZIP {zipcode}", self.place_zips.get(key, frozenset())))
            else:
                unknown.append(f"ZIP {zipcode} is not a ZIP of the service area")
        if locality and locality not in self.params.citywide_localities:
            if locality in places.outside:
                outside.append(f"{places.outside[locality]} is another town")
            elif locality in self.place_zips:
                given.append((self.place_names.get(locality, locality), self.place_zips[locality]))
            else:
                unknown.append(f"place {locality.title()!r} is not known")
        if outside:
            return _Evidence(outside="; ".join(outside))
        if not given:
            return _Evidence(unknown="; ".join(unknown)) if unknown else _NOWHERE
        zips = given[0][1]
        conflict = ""
        if len(given) == 2 and not given[0][1] & given[1][1]:
            zips = given[0][1] | given[1][1]
            conflict = f"{given[0][0]} and {given[1][0]} do not agree"
        elif len(given) == 2:
            zips = given[0][1] & given[1][1]
        return _Evidence(zips, "", conflict, "; ".join(unknown), tuple(given))

    def _checked(
        self, result: GeocodeResult, parsed: ParsedAddress, evidence: _Evidence
    ) -> GeocodeResult:
        """The result with the place evidence, the service area and the text left out."""
        notes = []
        if parsed.qualifier:
            notes.append(f"placed at the place written after {parsed.qualifier.lower()!r}")
        if parsed.ignored:
            notes.append(f"ignored {parsed.ignored.lower()!r}")
        if math.isnan(result.x):
            return replace(result, note=_join(result.note, *notes)) if notes else result
        flag = result.flag
        first = ""
        if (
            self._area is not None
            and not (result.match == EXACT and self._index_inside)
            and not self._area.contains(result.x, result.y)
        ):
            off = self._area.distance(result.x, result.y)
            if off > _AREA_SLACK_M:
                return _outside(f"{result.matched or 'the match'} lies {off:.0f} m outside it")
            notes.append(f"placed {off:.0f} m outside the service area boundary")
            flag = flag or LOW_CONFIDENCE
        if evidence.conflict:
            agrees = [name for name, zips in evidence.places if result.zipcode in zips]
            first = _join(evidence.conflict, f"placed by {', '.join(agrees)}" if agrees else "")
            flag = CONFLICT
        elif evidence.zips and result.zipcode and result.zipcode not in evidence.zips:
            named = " and ".join(name for name, _zips in evidence.places)
            first = f"{named} given, but the match is in ZIP {result.zipcode}"
            flag = CONFLICT
        elif evidence.unknown:
            first = evidence.unknown
            flag = flag or LOW_CONFIDENCE
        if not (first or notes) and flag == result.flag:
            return result
        return replace(result, flag=flag, note=_join(first, result.note, *notes))

    def _aliased(self, parsed: ParsedAddress) -> ParsedAddress:
        """The parse with local street names (``Mass Ave``) read as the city's names."""
        aliases = self.places.street_aliases
        if not aliases or (parsed.street not in aliases and parsed.street2 not in aliases):
            return parsed
        return replace(
            parsed,
            street=aliases.get(parsed.street, parsed.street),
            street2=aliases.get(parsed.street2, parsed.street2),
        )

    def _landmark(self, parsed: ParsedAddress) -> GeocodeResult:
        landmark = self.places.landmarks[parsed.street]
        return GeocodeResult(
            landmark.x,
            landmark.y,
            LANDMARK_MATCH,
            0.9,
            note=f"landmark from the place table ({landmark.source})"
            if landmark.source
            else "landmark from the place table",
            matched=landmark.name,
        )

    # addresses ---------------------------------------------------------------------------

    def _address(self, parsed: ParsedAddress, preferred: frozenset[str]) -> GeocodeResult:
        assert parsed.number is not None
        exact = self._exact(parsed, preferred)
        if exact is not None:
            return exact
        streets = self._resolve_street(parsed.street, preferred, parsed.number)
        if not streets:
            return self._crossing_street(parsed, preferred) or self._no_street(parsed)
        candidates: list[_Candidate] = []
        for key, street_score, how, _loose, confirm in streets:
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
                    replace(
                        found,
                        match=match,
                        score=round(found.score * street_score * factor, 3),
                        note=note,
                        confirm=found.confirm or confirm,
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
                self.index.point_zip[i],
            )
            for i in chosen
        ]
        if not preferred and parsed.number is not None:
            # nothing says which ZIP: the same street elsewhere may hold the number too
            # (the index holds only some addresses, so a street there counts as a place)
            have = {self.index.point_zip[i] for i in chosen}
            for zipcode, street in self.index.streets.get(parsed.street, {}).items():
                if zipcode not in have:
                    candidates.append(
                        self._on_street(parsed.street, zipcode, street, parsed.number)
                    )
        return self._decide(candidates, parsed, preferred)

    def _crossing_street(
        self, parsed: ParsedAddress, preferred: frozenset[str]
    ) -> GeocodeResult | None:
        """A street known only from intersection records: placed at its crossings, flagged."""
        for key, score, how, _loose, _confirm in self._resolve_street(
            parsed.street, preferred, None, with_addresses=False
        ):
            entries = self._crossings.get(key, [])
            local = [e for e in entries if e[1] in preferred or e[0] == parsed.locality]
            points = local or entries
            if not points:
                continue
            xs = np.array([e[2] for e in points])
            ys = np.array([e[3] for e in points])
            x, y = float(np.median(xs)), float(np.median(ys))
            spread = float(np.max(np.hypot(xs - x, ys - y)))
            name = self.index.display.get(key, key)
            note = (
                f"{name} has no indexed addresses; placed at its recorded "
                f"crossing{'s' if len(points) > 1 else ''}"
            )
            flag = LOW_CONFIDENCE
            if spread > self.params.ambiguity_m:
                flag = AMBIGUOUS
                note += f" ({len(points)}, up to {spread:.0f} m apart)"
            return GeocodeResult(
                x,
                y,
                STREET_MATCH,
                round(0.3 * score, 3),
                flag,
                note if how == EXACT else _join(how, note),
                f"{parsed.number_text} {name}".strip(),
            )
        return None

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
        words = key.split()
        for cut in range(len(words) - 1, 1, -1):  # "LORRAINE ST POTHOLE": words after it
            if words[cut - 1] in SUFFIXES and usable(head := " ".join(words[:cut])):
                left_out = " ".join(words[cut:]).lower()
                return [_Street(head, 1.0, f"ignored {left_out!r} after the street")]
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
                    out.append(
                        _Street(
                            k,
                            self.params.other_suffix_score,
                            f"{suffix} read as {index.display[k]}",
                            confirm=True,
                        )
                    )
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
                    out.append(_Street(k, max(0.0, score), why, loose, confirm=True))
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
        top = max(streets, key=lambda s: s.score)
        if top not in kept:
            # a closer name lost only to the sparse index's number range: not a sure reading
            why = f"{self.index.display.get(top.key, top.key)} is as likely"
            kept = [
                s._replace(score=s.score * _OUT_RANKED, how=_join(s.how, why), confirm=True)
                for s in kept
            ]
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
        for side, factor, note in (
            (own, 1.0, ""),
            (other, _OTHER_SIDE, "placed from the other side"),
        ):
            found = self._on_side(side, number)
            if found is None:
                continue
            x, y, kind, score, why, tight = found
            return _Candidate(
                x, y, kind, round(score * factor, 3), _join(note, why), label, zipcode, not tight
            )
        return _Candidate(
            street.mid_x,
            street.mid_y,
            STREET_MATCH,
            0.3,
            f"number {number} is outside the known numbers {street.low}-{street.high}; "
            "street midpoint",
            label,
            zipcode,
        )

    def _on_side(
        self, side: StreetSide, number: int
    ) -> tuple[float, float, str, float, str, bool] | None:
        """(x, y, match, score, note, tight) of ``number`` on one side, if it can be placed.

        ``tight`` is true for a known number or an interpolation between numbers at most
        ``confirm_gap_numbers`` apart: answers that need no place name to confirm them.
        """
        numbers = side.numbers
        if not numbers:
            return None
        params = self.params
        at = bisect_left(numbers, number)
        if at < len(numbers) and numbers[at] == number:
            return side.x[at], side.y[at], EXACT, 0.97, "", True
        if at > 0 and side.high[at - 1] >= number:  # a range entry such as 31-35 covers it
            return side.x[at - 1], side.y[at - 1], EXACT, 0.95, "inside a numbered range", True
        if 0 < at < len(numbers):
            low, high = numbers[at - 1], numbers[at]
            x0, y0, x1, y1 = side.x[at - 1], side.y[at - 1], side.x[at], side.y[at]
            span = math.hypot(x1 - x0, y1 - y0)
            if high - low <= params.max_gap_numbers and span <= params.max_span_m:
                t = (number - low) / (high - low)
                score = 0.9 - 0.25 * (high - low) / params.max_gap_numbers
                score -= 0.15 * span / params.max_span_m
                tight = high - low <= params.confirm_gap_numbers
                return x0 + t * (x1 - x0), y0 + t * (y1 - y0), INTERPOLATED, score, "", tight
        if 0 < at < len(numbers):
            return None
        end, inner = (0, 1) if at == 0 else (len(numbers) - 1, len(numbers) - 2)
        past = abs(number - numbers[end])
        if past <= params.max_beyond_numbers:
            why = "placed at the nearest known number"
            return side.x[end], side.y[end], INTERPOLATED, 0.7, why, False
        if inner < 0 or inner >= len(numbers):
            return None
        step_x = (side.x[end] - side.x[inner]) / (numbers[end] - numbers[inner])
        step_y = (side.y[end] - side.y[inner]) / (numbers[end] - numbers[inner])
        dx, dy = step_x * (number - numbers[end]), step_y * (number - numbers[end])
        if math.hypot(dx, dy) > params.extrapolate_within_m:
            return None
        why = "extended past the last known number along the street"
        return side.x[end] + dx, side.y[end] + dy, INTERPOLATED, 0.55, why, False

    def _decide(
        self, candidates: list[_Candidate], parsed: ParsedAddress, preferred: frozenset[str]
    ) -> GeocodeResult:
        """One answer from candidates: the best, flagged ambiguous if others disagree.

        A candidate that needs confirming scores at most ``unconfirmed_score`` unless it
        lies in the ZIP or place the text named.
        """
        cap = self.params.unconfirmed_score
        candidates = [
            replace(
                c,
                score=cap,
                note=_join(c.note, "no ZIP or neighbourhood given confirms it"),
            )
            if c.confirm and c.score > cap and c.zipcode not in preferred
            else c
            for c in candidates
        ]
        rank: dict[str, int] = {
            EXACT: 0,
            INTERPOLATED: 1,
            FUZZY: 2,
            INTERSECTION_MATCH: 2,
            STREET_MATCH: 3,
        }
        ordered = sorted(candidates, key=lambda c: (-c.score, rank.get(c.match, 4)))
        best = ordered[0]
        flag = ""
        note = best.note
        # with no ZIP or locality every place the street runs through counts (the index
        # holds only some addresses); with one, only near-equals
        margin = 1.0 if not preferred else 0.1
        far = [
            c
            for c in ordered[1:]
            if (c.match != STREET_MATCH or not preferred)
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
        return GeocodeResult(
            best.x, best.y, best.match, best.score, flag, note, best.matched, best.zipcode
        )

    def _no_street(self, parsed: ParsedAddress) -> GeocodeResult:
        base = split_suffix(parsed.street)[0]
        near = process.extractOne(base, self.index.all_bases, scorer=fuzz.ratio) if base else None
        hint = ""
        if near:
            closest = self.index.bases[near[0]][0]
            if closest != parsed.street:  # never "not known; closest known: itself"
                hint = f"; closest known name {self.index.display.get(closest, closest)!r}"
                hint += f" ({near[1]:.0f}%)"
        return GeocodeResult(
            math.nan,
            math.nan,
            NONE,
            0.0,
            note=f"street {parsed.street.title()!r} is not in the address index{hint}",
        )

    def _street_only(self, parsed: ParsedAddress, preferred: frozenset[str]) -> GeocodeResult:
        streets = self._resolve_street(parsed.street, preferred, None)
        for key, score, how, _loose, _confirm in streets:
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
                    zips[0][0] if len(zips) == 1 else "",
                )
        return self._crossing_street(parsed, preferred) or self._no_street(parsed)

    # intersections -----------------------------------------------------------------------

    def _intersection(self, parsed: ParsedAddress, preferred: frozenset[str]) -> GeocodeResult:
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
        pairs: dict[str, tuple[str, str]] = {}
        for key_a, score_a, _how_a, loose_a, _ca in side_a:
            for key_b, score_b, _how_b, loose_b, _cb in side_b:
                if key_a == key_b:
                    continue
                # a name read loosely is confirmed by the record of its crossing the other
                score_a = max(score_a, self.params.low_confidence_below) if loose_a else score_a
                score_b = max(score_b, self.params.low_confidence_below) if loose_b else score_b
                entries = self.index.intersections.get(pair_key(key_a, key_b), [])
                local = [e for e in entries if self._crossing_zip(e, parsed, preferred)]
                factor = 1.0
                if entries and not local and preferred:
                    factor = self.params.other_zip_factor
                for entry in local or entries:
                    x, y = entry[2], entry[3]
                    zipcode = self._crossing_zip(entry, parsed, preferred)
                    score = round(min(score_a, score_b) * factor, 3)
                    name = f"{self.index.display.get(key_a, key_a)} & "
                    name += self.index.display.get(key_b, key_b)
                    how = "" if min(score_a, score_b) == 1.0 else "street names read loosely"
                    if factor < 1.0:
                        how = _join(how, "recorded only outside the ZIP or locality given")
                    candidates.append(
                        _Candidate(x, y, INTERSECTION_MATCH, score, how, name, zipcode)
                    )
                    pairs[name] = (key_a, key_b)
        if not candidates:
            return self._estimate_intersection(side_a, side_b, label)
        result = self._decide(candidates, parsed, preferred)
        if result.flag:
            return result
        # a pair recorded once may still meet elsewhere (the records are sparse)
        elsewhere = self._also_meet(*pairs[result.matched], result.x, result.y, preferred)
        if not elsewhere:
            return result
        return replace(result, flag=AMBIGUOUS, note=_join(result.note, elsewhere))

    def _crossing_zip(
        self, entry: tuple[str, str, float, float], parsed: ParsedAddress, preferred: frozenset[str]
    ) -> str:
        """The ZIP (of those preferred) an intersection record lies in, "" if none."""
        city, zipcode = entry[0], entry[1]
        if zipcode:
            return zipcode if zipcode in preferred else ""
        if city and city == parsed.locality and preferred:
            return min(preferred)
        if city and parsed.locality in self.index.locality_zips:
            return ""  # both name a postal place: the names must be the same
        inside = self.place_zips.get(city, frozenset()) & preferred
        return min(inside) if inside else ""

    def _estimate_intersection(
        self, side_a: list[_Street], side_b: list[_Street], label: str
    ) -> GeocodeResult:
        """Where two streets' address points come closest, when no record exists."""
        best: tuple[float, float, float, str] | None = None
        index = self.index
        for key_a, *_a in side_a:
            xa, ya = self._street_xy(key_a)
            for key_b, *_b in side_b:
                xb, yb = self._street_xy(key_b)
                if key_a == key_b or not len(xa) or not len(xb):
                    continue
                dx = xa[:, None] - xb[None, :]
                dy = ya[:, None] - yb[None, :]
                d2 = dx * dx + dy * dy
                flat = int(np.argmin(d2))
                i, j = divmod(flat, len(xb))
                dist = math.sqrt(float(d2.flat[flat]))
                if best is None or dist < best[0]:
                    mx, my = (xa[i] + xb[j]) / 2, (ya[i] + yb[j]) / 2
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
            f"no intersection record; estimated between the streets' nearest known points "
            f"({best[0]:.0f} m apart)",
            best[3],
        )

    def _street_xy(
        self, key: str, preferred: frozenset[str] = frozenset()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Known points of a street: its address points and its recorded crossings.

        With ``preferred`` ZIPs, only its address points in them.
        """
        found = self._xy_cache.get((key, preferred))
        if found is None:
            ids = self.index.street_points(key)
            if preferred:
                ids = ids[[self.index.point_zip[i] in preferred for i in ids]]
                crossings = []
            else:
                crossings = self._crossings.get(key, [])
            xs = np.concatenate([self.index.x[ids], [e[2] for e in crossings]])
            ys = np.concatenate([self.index.y[ids], [e[3] for e in crossings]])
            found = (xs, ys)
            if len(self._xy_cache) >= _XY_CACHE_SIZE:  # bounded: ZIP sets vary
                self._xy_cache.clear()
            self._xy_cache[(key, preferred)] = found
        return found

    def _also_meet(
        self, key_a: str, key_b: str, x: float, y: float, preferred: frozenset[str]
    ) -> str:
        """Where else two streets come together, far from (x, y): "" when nowhere.

        With ZIPs preferred, only the streets' address points in those ZIPs count.
        """
        xa, ya = self._street_xy(key_a, preferred)
        xb, yb = self._street_xy(key_b, preferred)
        if not len(xa) or not len(xb):
            return ""
        d2 = (xa[:, None] - xb[None, :]) ** 2 + (ya[:, None] - yb[None, :]) ** 2
        near_a, near_b = np.nonzero(d2 <= self.params.estimate_within_m**2)
        mx = (xa[near_a] + xb[near_b]) / 2
        my = (ya[near_a] + yb[near_b]) / 2
        far = np.hypot(mx - x, my - y) > 2 * self.params.ambiguity_m
        if not far.any():
            return ""
        k = int(np.flatnonzero(far)[0])
        return f"the streets also come together {math.hypot(mx[k] - x, my[k] - y):.0f} m away"

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


def _outside(why: str) -> GeocodeResult:
    """No point: the text names a place outside the city, which is never snapped inside."""
    return GeocodeResult(
        math.nan, math.nan, NONE, 0.0, OUTSIDE_AREA, f"outside the service area: {why}"
    )


def _as_text(value: Any) -> str:
    """Input text as a string; a missing value (None, NaN, ``pd.NA``) as ""."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
