"""Address text normalisation and a fast tokenizer for 311 address strings.

A 311 address arrives as ``31-33 Rosaria St  Roslindale  MA  02131``,
``INTERSECTION of Groveland St & River St  Mattapan  MA``, ``644R Dudley st`` or
``39 lorain street apt 2``. Matching needs one canonical spelling of the street, so every
street name is reduced to a *key*: upper case, punctuation dropped, each word mapped through
one table of USPS Publication 28 abbreviations (suffixes, directionals), ordinal words
(``FIFTH`` → ``5TH``), ``SAINT`` → ``ST`` and ``MOUNT`` → ``MT``. The same function builds the
index keys and the query keys, so both sides always agree.

The tokenizer handles the shapes that make up nearly all real input (house number, street,
unit, locality, state, ZIP, with or without commas or the double spaces of Boston's
exports) with a few regular expressions; the CRF parser ``usaddress`` (about 8.6k strings/s)
is only the fallback for shapes it does not recognise, which keeps the whole geocoder
above 10k addresses/s.

Comments residents write around an address are taken off before either parser sees the
text, because the CRF model misreads them: it tags ``Apt 3, 9-15 Orleans St`` as unit
"3, 9-15" in place "Orleans", and ``43Mount Vernon St`` as number "43MOUNT" on Vernon St.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Final

import usaddress

#: USPS Publication 28 (appendix C1) street suffixes: every common spelling -> abbreviation.
#: A few Boston forms are added (``CIRT`` circuit, ``WHF`` wharf, ``PK`` park).
_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "ALY": ("ALLEY", "ALLEE", "ALLY"),
    "ANX": ("ANNEX", "ANEX", "ANNX"),
    "ARC": ("ARCADE",),
    "AVE": ("AVENUE", "AV", "AVEN", "AVENU", "AVN", "AVNUE"),
    "BCH": ("BEACH",),
    "BLF": ("BLUFF",),
    "BLVD": ("BOULEVARD", "BOUL", "BOULV", "BLV"),
    "BND": ("BEND",),
    "BR": ("BRANCH", "BRNCH"),
    "BRG": ("BRIDGE", "BRDGE"),
    "BRK": ("BROOK",),
    "BTM": ("BOTTOM", "BOT", "BOTTM"),
    "BYP": ("BYPASS", "BYPA", "BYPAS", "BYPS"),
    "CIR": ("CIRCLE", "CIRC", "CIRCL", "CRCL", "CRCLE"),
    "CIRT": ("CIRCUIT", "CIRCT", "CRCT"),
    "CLF": ("CLIFF",),
    "CMN": ("COMMON",),
    "CMNS": ("COMMONS",),
    "COR": ("CORNER",),
    "CORS": ("CORNERS",),
    "CRES": ("CRESCENT", "CRSENT", "CRSNT"),
    "CRST": ("CREST",),
    "CSWY": ("CAUSEWAY", "CAUSWA"),
    "CT": ("COURT", "CRT"),
    "CTR": ("CENTER", "CEN", "CENT", "CENTR", "CENTRE", "CNTER", "CNTR"),
    "CTS": ("COURTS",),
    "CV": ("COVE",),
    "CRK": ("CREEK",),
    "CURV": ("CURVE",),
    "DL": ("DALE",),
    "DM": ("DAM",),
    "DR": ("DRIVE", "DRIV", "DRV"),
    "EST": ("ESTATE",),
    "ESTS": ("ESTATES",),
    "EXPY": ("EXPRESSWAY", "EXP", "EXPR", "EXPRESS", "EXPW"),
    "EXT": ("EXTENSION", "EXTN", "EXTNSN"),
    "FLD": ("FIELD",),
    "FLDS": ("FIELDS",),
    "FLS": ("FALLS",),
    "FRY": ("FERRY", "FRRY"),
    "FWY": ("FREEWAY", "FREEWY", "FRWAY", "FRWY"),
    "GDN": ("GARDEN", "GARDN", "GRDEN", "GRDN"),
    "GDNS": ("GARDENS", "GRDNS"),
    "GLN": ("GLEN",),
    "GRN": ("GREEN",),
    "GRV": ("GROVE", "GROV"),
    "HBR": ("HARBOR", "HARB", "HARBR", "HRBOR"),
    "HL": ("HILL",),
    "HLS": ("HILLS",),
    "HOLW": ("HOLLOW", "HLLW", "HOLLOWS", "HOLWS"),
    "HTS": ("HEIGHTS", "HT"),
    "HVN": ("HAVEN",),
    "HWY": ("HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY"),
    "IS": ("ISLAND", "ISLND"),
    "JCT": ("JUNCTION", "JCTION", "JCTN", "JUNCTN", "JUNCTON"),
    "KNL": ("KNOLL", "KNOL"),
    "LDG": ("LODGE", "LDGE"),
    "LK": ("LAKE",),
    "LN": ("LANE",),
    "LNDG": ("LANDING", "LNDNG"),
    "LOOP": ("LOOPS",),
    "MALL": (),
    "MDW": ("MEADOW",),
    "MDWS": ("MEADOWS", "MEDOWS"),
    "MEWS": (),
    "ML": ("MILL",),
    "MNR": ("MANOR",),
    "MTWY": ("MOTORWAY",),
    "OVAL": ("OVL",),
    "PARK": ("PRK", "PK"),
    "PASS": (),
    "PATH": ("PATHS",),
    "PIKE": ("PIKES",),
    "PKWY": ("PARKWAY", "PARKWY", "PKWAY", "PKY", "PARKWAYS", "PKWYS"),
    "PL": ("PLACE",),
    "PLZ": ("PLAZA", "PLZA"),
    "PSGE": ("PASSAGE",),
    "PT": ("POINT",),
    "PTS": ("POINTS",),
    "RD": ("ROAD",),
    "RDG": ("RIDGE", "RDGE"),
    "RDS": ("ROADS",),
    "ROW": (),
    "RTE": ("ROUTE",),
    "RUN": (),
    "SHR": ("SHORE", "SHOAR"),
    "SQ": ("SQUARE", "SQR", "SQRE", "SQU"),
    "ST": ("STREET", "STR", "STRT", "STRE", "STRET"),
    "STA": ("STATION", "STATN", "STN"),
    "TER": ("TERRACE", "TERR"),
    "TPKE": ("TURNPIKE", "TPK", "TRNPK", "TURNPK"),
    "TRL": ("TRAIL", "TRAILS", "TRLS"),
    "TUNL": ("TUNNEL", "TUNEL", "TUNLS", "TUNNELS", "TUNNL"),
    "VIA": ("VIADUCT", "VDCT", "VIADCT"),
    "VLG": ("VILLAGE", "VILL", "VILLAG", "VILLG"),
    "VLY": ("VALLEY", "VALLY", "VLLY"),
    "VW": ("VIEW",),
    "WALK": ("WALKS",),
    "WAY": ("WY",),
    "WHF": ("WHARF", "WHRF"),
    "XING": ("CROSSING", "CRSSNG"),
}
_DIRECTIONALS: Final = {
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}
_ORDINALS: Final = {
    "FIRST": "1ST",
    "SECOND": "2ND",
    "THIRD": "3RD",
    "FOURTH": "4TH",
    "FIFTH": "5TH",
    "SIXTH": "6TH",
    "SEVENTH": "7TH",
    "EIGHTH": "8TH",
    "NINTH": "9TH",
    "TENTH": "10TH",
    "ELEVENTH": "11TH",
    "TWELFTH": "12TH",
}
_OTHER_WORDS: Final = {"SAINT": "ST", "MOUNT": "MT", "FORT": "FT", "NUMBER": "NO"}

#: Every word a street key may contain, mapped to its canonical spelling.
WORD_MAP: Final[dict[str, str]] = {
    **{variant: abbr for abbr, variants in _SUFFIXES.items() for variant in variants},
    **{abbr: abbr for abbr in _SUFFIXES},
    **_DIRECTIONALS,
    **_ORDINALS,
    **_OTHER_WORDS,
}
#: Canonical suffixes: the word that ends a street key unless a directional follows it.
SUFFIXES: Final = frozenset(_SUFFIXES)
DIRECTIONS: Final = frozenset(_DIRECTIONALS.values())

_UNIT_WORDS: Final = frozenset(
    {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "FL", "FLOOR", "RM", "ROOM", "BLDG", "#", "NO"}
)
_STATES: Final = frozenset({"MA", "MASS", "MASSACHUSETTS"})
_PUNCT = re.compile(r"[.'`’\"]")
_SEPARATORS = re.compile(r"\s{2,}|,|;")
_SPACE = re.compile(r"\s+")
_TREE = re.compile(r"^[^()]*\((.+)\)\s*$")
_NUMBER = re.compile(
    r"^(\d{1,6})([A-Z]{1,2}(?=[\s&-])| 1/2(?=\s))?(?:\s*-\s*(\d{1,6})?([A-Z]{1,2})?)?&?\s+(.*)$"
)
_ZIP = re.compile(r"^(\d{4,5})(?:\.0+)?(?:-\d{4})?$")
_UNIT_GLUED = re.compile(r"\s(?:APT|UNIT|STE|FL|RM)\s*([0-9][0-9A-Z-]*)$")
_INTERSECTION_LEAD = re.compile(r"^(?:INTERSECTION\s+OF|CORNER\s+OF|CORNER)\s+")
_INTERSECTION_SPLIT = re.compile(r"\s+(?:&|AND|AT|@|/|NEAR)\s+|\s*[&@/]\s*")

ADDRESS: Final = "address"
INTERSECTION: Final = "intersection"
STREET: Final = "street"
LANDMARK: Final = "landmark"
EMPTY: Final = "empty"
UNPARSED: Final = "unparsed"

#: Words before an address that say where it is relative to it ("near", "in front of").
_QUALIFIER = re.compile(
    r"^(NEAR|IN FRONT OF|ACROSS THE STREET FROM|ACROSS FROM|OPPOSITE|OPP|BEHIND|NEXT TO|"
    r"OUTSIDE OF|OUTSIDE|CLOSE TO|AROUND|BY|AT)\s+(?=\S)"
)
#: The same words after a house-number address start a comment ("12 Elm St near the school").
_TRAILING_QUALIFIER = re.compile(
    r"\s+(?:NEAR|IN FRONT OF|ACROSS FROM|ACROSS THE STREET FROM|OPPOSITE|BEHIND|NEXT TO)\s.*$"
)
_UNIT_STARTS: Final = frozenset("AUS#")
_TRAILING_HINT = re.compile(r" (?:NEAR|FRONT|ACROSS|OPPOSITE|BEHIND|NEXT) ")
_COMMENT = re.compile(r"\s*\(([^()]*)\)\s*")
_FIRST_COMMA = re.compile(r"^([^,]{1,20}),\s*")
_GLUED = re.compile(r"^(\d{1,6})([A-Z]{3,})")
_SPACED_RANGE = re.compile(
    r"^(\d{1,6}) ([A-Z])-(\d{1,6})(?: ?([A-Z]))? "
)  # "190 A-192", "90 A-90 B"
_UNIT_FIRST = re.compile(
    r"^(?:APT|APARTMENT|UNIT|STE|SUITE|#)\.?\s*#?\s*([0-9][0-9A-Z-]*|[A-Z])\s+(?=\d)"
)


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """One address string split into the parts matching needs.

    ``kind`` is ``address`` (house number + street), ``intersection`` (two streets),
    ``street`` (a street without a number), ``landmark`` (a name from the place table, key in
    ``street``), ``empty`` or ``unparsed``. ``qualifier`` keeps a leading "near" / "in front
    of"; ``ignored`` the comment text left out (``(near the school)``). Street fields hold
    keys (see :func:`street_key`). ``number`` is the low end of a range (``31-33`` → 31)
    and ``number_suffix`` a letter suffix (``644R`` → ``R``); ``number_text`` is the exact
    form used for exact lookup (``644R``).
    """

    kind: str
    number: int | None = None
    number_suffix: str = ""
    number_high: int | None = None
    street: str = ""
    street2: str = ""
    unit: str = ""
    locality: str = ""
    zipcode: str = ""
    qualifier: str = ""
    ignored: str = ""

    @property
    def number_text(self) -> str:
        """The house number as exact lookups key it: low number plus letter suffix."""
        return "" if self.number is None else f"{self.number}{self.number_suffix}"


@functools.lru_cache(maxsize=1 << 16)
def street_key(name: str) -> str:
    """The canonical key of a street name: ``"E. Fifth Street"`` → ``"E 5TH ST"``.

    Cached: the same street and place names come back in address after address.
    """
    words = _PUNCT.sub("", name.upper().replace("-", " ")).split()
    return " ".join([WORD_MAP.get(w, w) for w in words])


#: Key words spelled out again for comparing names: a typo is one letter of ``FIFTH`` or
#: ``SOUTH``, but would be most of ``5TH`` or ``S``.
_SPELLED: Final = {
    **{short: word for word, short in _DIRECTIONALS.items()},
    **{short: word for word, short in _ORDINALS.items()},
    "MT": "MOUNT",
    "FT": "FORT",
}


def spelled_key(key: str) -> str:
    """A street key (or base) with directionals, ordinals and Saint/Mount/Fort spelled out.

    ``"E 5TH"`` → ``"EAST FIFTH"``, ``"ST BOTOLPH"`` → ``"SAINT BOTOLPH"``: the form that
    fuzzy matching compares, so that typos weigh by the letters a person wrote.
    """
    words = key.split()
    out = [_SPELLED.get(w, w) for w in words]
    if len(words) > 1 and words[0] == "ST":
        out[0] = "SAINT"
    return " ".join(out)


def name_base(name: str) -> str:
    """A written street name, upper case, without its suffix: ``"Centre St"`` → ``"CENTRE"``.

    Keys shorten suffix words that occur inside names (``CENTRE`` → ``CTR``); comparing the
    name as the city writes it as well keeps a typo such as ``Cenre`` close to its street.
    """
    words = _PUNCT.sub("", name.upper().replace("-", " ")).split()
    suffix = split_suffix(street_key(name))[1]
    return " ".join(words[: len(words) - len(suffix.split())] if suffix else words)


@functools.lru_cache(maxsize=1 << 16)
def split_suffix(key: str) -> tuple[str, str]:
    """A street key's base name and its suffix (``"LORRAINE ST"`` → ``("LORRAINE", "ST")``).

    A trailing directional after a suffix stays with the suffix (``"COMMONWEALTH AVE W"``).
    A key that is a suffix alone (``"BROADWAY"`` is not, ``"PARK"`` is) keeps it as its base.
    """
    words = key.split()
    if len(words) >= 3 and words[-1] in DIRECTIONS and words[-2] in SUFFIXES:
        return " ".join(words[:-2]), " ".join(words[-2:])
    if len(words) >= 2 and words[-1] in SUFFIXES:
        return " ".join(words[:-1]), words[-1]
    return key, ""


def normalize_zip(text: str) -> str:
    """Five-digit ZIP from ``02131``, ``2131`` or ``2131.0`` (leading zero lost upstream)."""
    match = _ZIP.match(text.strip())
    return match.group(1).zfill(5) if match else ""


class AddressParser:
    """Split address strings into :class:`ParsedAddress`, fast path first.

    ``localities`` are the place names (upper case) the index knows, so a locality written
    without a comma (``39 Lorraine St Roslindale``) is recognised and removed from the street;
    ``landmarks`` are names that stand for a point on their own (``City Hall``).
    """

    def __init__(self, localities: Collection[str] = (), landmarks: Collection[str] = ()) -> None:
        self.localities = frozenset(street_key(x) for x in localities if x.strip())
        self.landmarks = frozenset(street_key(x) for x in landmarks if x.strip())
        self._max_words = max((len(x.split()) for x in self.localities), default=0)

    def parse(self, text: str) -> ParsedAddress:
        """Parse one string; never raises (unrecognised input gives kind ``unparsed``).

        Comments around the address are taken off first and kept: a leading "near" / "in
        front of" (``qualifier``), a parenthesised remark or a trailing "near ..." after a
        house-number address (``ignored``); a unit written first (``Apt 3, 9-15 Orleans St``)
        and a number glued to its street (``43Mount Vernon St``) are read as meant.
        """
        raw = text.strip()
        if not raw:
            return ParsedAddress(EMPTY)
        if "&" in raw and ";" in raw:
            raw = html.unescape(raw)
        upper = raw.upper()
        ignored: list[str] = []
        tree = _TREE.match(upper)  # Boston tree records: "Norway Maple (83 Lewiston St)"
        if tree and tree.group(1).strip()[:1].isdigit():
            upper = tree.group(1)
        elif "(" in upper:
            ignored.extend(m.group(1).strip() for m in _COMMENT.finditer(upper))
            upper = _COMMENT.sub(" ", upper).strip()
        qualifier = ""
        lead = None if upper[:1].isdigit() else _QUALIFIER.match(upper)
        if lead and not upper.startswith("AT INTERSECTION"):
            qualifier = lead.group(1)
            upper = upper[lead.end() :]
        unit = ""
        if upper[:1] in _UNIT_STARTS:
            written = _FIRST_COMMA.sub(r"\1 ", upper, count=1)
            unit_first = _UNIT_FIRST.match(written)
            if unit_first:
                unit = unit_first.group(1)
                upper = written[unit_first.end() :]
        if upper[:1].isdigit():
            if "-" in upper[:16] and (spaced := _SPACED_RANGE.match(upper)):
                upper = spaced.expand(r"\1\2-\3\4 ") + upper[spaced.end() :]
            if glued := _GLUED.match(upper):
                upper = f"{glued.group(1)} {upper[glued.end(1) :]}"
        if upper[:1].isdigit() and _TRAILING_HINT.search(upper):
            trailing = _TRAILING_QUALIFIER.search(upper)
            if trailing:
                ignored.append(trailing.group(0).strip())
                upper = upper[: trailing.start()]
        parsed = self._parse_upper(upper)
        if not (qualifier or ignored or unit):
            return parsed
        return replace(
            parsed,
            unit=parsed.unit or unit,
            qualifier=qualifier,
            ignored="; ".join(i for i in ignored if i),
        )

    def _parse_upper(self, upper: str) -> ParsedAddress:
        parts = [p.strip() for p in _SEPARATORS.split(upper) if p.strip()]
        if not parts:
            return ParsedAddress(EMPTY)
        zipcode, locality, parts = self._tail(parts)
        head = " ".join(parts)
        if self.landmarks and not head[:1].isdigit():
            key = street_key(head)
            if key in self.landmarks:
                return ParsedAddress(LANDMARK, street=key, locality=locality, zipcode=zipcode)
        lead = _INTERSECTION_LEAD.match(head)
        if lead or (not head[:1].isdigit() and _INTERSECTION_SPLIT.search(head)):
            return self._intersection(head[lead.end() :] if lead else head, locality, zipcode)
        number = _NUMBER.match(head)
        if number is None and not any(c.isdigit() for c in head):
            street, more_locality = self._strip_locality(_cut_unit(head)[0])
            return ParsedAddress(
                STREET, street=street, locality=locality or more_locality, zipcode=zipcode
            )
        if number is None:
            return self._fallback(upper, locality, zipcode)
        rest, unit, after = _cut_unit(number.group(5))
        street, more_locality = self._strip_locality(rest)
        if after and not locality:
            more_locality = self._known_locality(after) or more_locality
        if not street:
            return self._fallback(upper, locality, zipcode)
        if int(number.group(1)) == 0:  # Boston writes 0 for "number unknown"
            return ParsedAddress(
                STREET, street=street, unit=unit, locality=locality, zipcode=zipcode
            )
        suffix = (number.group(2) or "").strip().replace("1/2", "HF")
        high = number.group(3)
        if not high and not suffix and number.group(4):
            suffix = number.group(4)  # "45-P School St"
        return ParsedAddress(
            ADDRESS,
            number=int(number.group(1)),
            number_suffix=suffix,
            number_high=int(high) if high else None,
            street=street,
            unit=unit,
            locality=locality or more_locality,
            zipcode=zipcode,
        )

    def _tail(self, parts: list[str]) -> tuple[str, str, list[str]]:
        """Take ZIP, state and a separate locality part off the end of the parts."""
        zipcode = ""
        locality = ""
        parts = list(parts)
        words = parts[-1].split()
        if words and _ZIP.match(words[-1]) and (len(parts) > 1 or len(words) > 2):
            zipcode = normalize_zip(words.pop())
            parts[-1] = " ".join(words)
            if not parts[-1]:
                parts.pop()
        if parts:
            words = parts[-1].split()
            if words and words[-1] in _STATES and (len(parts) > 1 or len(words) > 2):
                words.pop()
                parts[-1] = " ".join(words)
                if not parts[-1]:
                    parts.pop()
        if len(parts) > 1:
            last = parts[-1]
            if last.split()[0].rstrip(".") not in _UNIT_WORDS and not last.startswith("#"):
                locality = street_key(last)
                parts.pop()
        # a unit written as its own part (", Apt 3") stays in the head for _cut_unit
        return zipcode, locality, parts

    def _strip_locality(self, rest: str) -> tuple[str, str]:
        """Street key and locality from ``LORRAINE ST ROSLINDALE`` (no separator)."""
        key = street_key(rest)
        words = key.split()
        for size in range(min(self._max_words, len(words) - 1), 0, -1):
            tail = " ".join(words[-size:])
            if tail in self.localities:
                return " ".join(words[:-size]), tail
        return key, ""

    def _known_locality(self, text: str) -> str:
        key = street_key(text)
        return key if key in self.localities else ""

    def _intersection(self, body: str, locality: str, zipcode: str) -> ParsedAddress:
        pieces = [p for p in _INTERSECTION_SPLIT.split(body, maxsplit=1) if p.strip()]
        if len(pieces) != 2:
            return ParsedAddress(UNPARSED, locality=locality, zipcode=zipcode)
        first = street_key(pieces[0])
        second, more_locality = self._strip_locality(pieces[1])
        return ParsedAddress(
            INTERSECTION,
            street=first,
            street2=second,
            locality=locality or more_locality,
            zipcode=zipcode,
        )

    def _fallback(self, upper: str, locality: str, zipcode: str) -> ParsedAddress:
        """Usaddress for shapes the fast path does not know (unit first, odd order, ...)."""
        try:
            tagged, _kind = usaddress.tag(upper)
        except usaddress.RepeatedLabelError:
            return ParsedAddress(UNPARSED, locality=locality, zipcode=zipcode)
        name = " ".join(
            str(tagged[label])
            for label in (
                "StreetNamePreDirectional",
                "StreetNamePreType",
                "StreetName",
                "StreetNamePostType",
                "StreetNamePostDirectional",
            )
            if label in tagged
        )
        if not name:
            return ParsedAddress(UNPARSED, locality=locality, zipcode=zipcode)
        street, more_locality = self._strip_locality(name)
        if "PlaceName" in tagged and not locality:
            place = street_key(str(tagged["PlaceName"]))
            locality = place if place in self.localities else ""
        zipcode = zipcode or normalize_zip(str(tagged.get("ZipCode", "")))
        unit = str(tagged.get("OccupancyIdentifier", ""))
        number = re.match(r"^(\d{1,6})([A-Z]{0,2})", str(tagged.get("AddressNumber", "")))
        if number is None:
            return ParsedAddress(
                STREET,
                street=street,
                unit=unit,
                locality=locality or more_locality,
                zipcode=zipcode,
            )
        return ParsedAddress(
            ADDRESS,
            number=int(number.group(1)),
            number_suffix=number.group(2),
            street=street,
            unit=unit,
            locality=locality or more_locality,
            zipcode=zipcode,
        )


def _cut_unit(rest: str) -> tuple[str, str, str]:
    """Street text, its unit and what follows the unit (``LORRAINE ST APT 3 ROSLINDALE``)."""
    if "#" in rest:
        before, _, after = rest.partition("#")
        unit_words = after.split()
        return before.strip(), unit_words[0] if unit_words else "", " ".join(unit_words[1:])
    words = rest.split()
    for i, word in enumerate(words):
        if i > 0 and word.rstrip(".") in _UNIT_WORDS and word != "NO" and i + 1 < len(words):
            return " ".join(words[:i]), words[i + 1], " ".join(words[i + 2 :])
    glued = _UNIT_GLUED.search(" " + rest)
    if glued:
        return (" " + rest)[: glued.start()].strip(), glued.group(1), ""
    return rest, "", ""
