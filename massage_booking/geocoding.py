"""Where a place is: an offline US gazetteer, and an optional online geocoder.

Offline first. Patients search by ZIP code, "City, ST" or a point from their phone; all three are answered
from the `zipcodes` package (every US ZIP with its centroid and IANA time zone), so search works with no
network, no API key and no third party learning where a person living with cancer is looking for care.
The data is indexed once, on first use, into dicts by ZIP and by (city, state): `zipcodes.matching` scans
all 42,000 rows on every call, and search calls `locate` on every request.

Online only where it adds something: a therapist's street address, when GEOCODER names a geopy geocoder
(Nominatim by default). Its answers are cached in the database (`GeocodeCache`) so an address is asked
once, and any failure falls back to the ZIP centroid with a warning: saving a profile must never depend
on someone else's server. Logs name a hash of the query, never the address.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import zipcodes
from geopy.distance import geodesic
from geopy.exc import GeopyError
from geopy.geocoders import get_geocoder_for_service
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.identifiers import US_STATES
from massage_booking.models import GeocodeCache, GeocodePrecision
from massage_booking.models.geocoding import QUERY_MAX_LENGTH

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_SUGGESTIONS = 8
# An online answer farther than this from the centroid of the ZIP the therapist typed is taken to be a
# different street of the same name elsewhere; the ZIP centroid is the safer pin.
MAX_STREET_DISTANCE_FROM_ZIP_MILES = 50.0
# Where a "lat,lon" point takes its time zone from: the nearest ZIP centroid, found in a grid of cells this
# many degrees wide, at most this many rings of cells out (3 degrees, about 200 miles); farther out
# (mid-ocean, abroad) the time zone is unknown.
_CELL_DEGREES = 0.25
_NEAREST_ZIP_RINGS = 12

# The territories in the zipcodes data, which identifiers.US_STATES (the license states) leaves out.
_TERRITORIES = {
    "AS": "American Samoa",
    "FM": "Federated States of Micronesia",
    "GU": "Guam",
    "MH": "Marshall Islands",
    "MP": "Northern Mariana Islands",
    "PW": "Palau",
    "VI": "Virgin Islands",
}
STATE_NAMES: dict[str, str] = {**US_STATES, **_TERRITORIES}
_COUNTRY_WORDS = {"us", "usa", "u s", "u s a", "united states", "united states of america", "america"}
# Abbreviations people type for words the USPS spells out ("St. Louis" is "Saint Louis" in the data).
_WORD_ALIASES = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount", "pt": "point"}

_ZIP = re.compile(r"\s*(\d{5})(?:[-\s]?\d{4})?\s*")
_TRAILING_ZIP = re.compile(r"(?:^|\s)(\d{5})(?:-?\d{4})?$")
_POINT = re.compile(r"\s*([+-]?\d{1,3}(?:\.\d+)?)\s*,\s*([+-]?\d{1,3}(?:\.\d+)?)\s*")
_DIGITS_ONLY = re.compile(r"[\d\s-]+")

ASK_FOR_PLACE = "Enter a ZIP code or a city and state, like 10016 or Boston, MA."


@dataclass(frozen=True, slots=True)
class Place:
    """A located place, with what the person searching should see (`label`) and how exact it is."""

    latitude: float
    longitude: float
    label: str
    precision: GeocodePrecision
    time_zone: str | None
    zip_code: str | None = None
    city: str | None = None
    state: str | None = None


def normalize_name(text: str) -> str:
    """A city or state name reduced to what identifies it: no accents, case, punctuation or abbreviations.

    Applied to the gazetteer and to what people type alike, so "ST. LOUIS", "St Louis" and "Saint Louis"
    meet at "saint louis".
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^0-9a-z]+", " ", ascii_text.casefold()).split()
    return " ".join(_WORD_ALIASES.get(word, word) for word in words)


_STATE_BY_NAME: dict[str, str] = {
    **{normalize_name(name): code for code, name in STATE_NAMES.items()},
    **{code.lower(): code for code in STATE_NAMES},
    "washington dc": "DC",
    "d c": "DC",
    "us virgin islands": "VI",
    "micronesia": "FM",
}
_LONGEST_STATE_NAME_WORDS = max(len(name.split()) for name in _STATE_BY_NAME)


def _not_found(field: str, message: str, suggestions: Iterable[str] = ()) -> ValidationFailed:
    """The error every failed look-up raises: the message on the field, plus places the person may mean."""
    return ValidationFailed(message, {"fields": {field: [message]}, "suggestions": list(suggestions)})


def _shown(text: str) -> str:
    """What the person typed, shortened for a message."""
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------------------------------------- gazetteer


@dataclass(frozen=True, slots=True)
class _ZipPoint:
    latitude: float
    longitude: float
    zip_code: str


@dataclass(frozen=True, slots=True)
class _Member:
    """What building a city's centroid needs from one of its ZIPs (the zipcodes row dicts are let go)."""

    latitude: float
    longitude: float
    time_zone: str
    active: bool
    standard: bool


def zipcodes_rows() -> Iterator[dict[str, Any]]:
    """Every row of the zipcodes data, one state at a time.

    Not `zipcodes.list_all()`: that keeps all 42,000 rows as Python dicts for the life of the process
    (about 140 MB in every worker). Read state by state, each batch is freed once indexed.
    """
    for state in STATE_NAMES:
        yield from zipcodes.filter_by(state=state)


class Gazetteer:
    """The zipcodes data indexed for look-ups in microseconds. Build it once: see `gazetteer()`."""

    def __init__(self, rows: Iterable[dict[str, Any]]) -> None:
        self.by_zip: dict[str, Place] = {}
        self.cities: dict[tuple[str, str], Place] = {}  # (normalised city, state) -> centroid
        self.states_by_city: dict[str, tuple[str, ...]] = {}  # normalised city -> states, largest first
        self.names_by_state: dict[str, list[str]] = {}  # for spelling suggestions within a state
        self.names_by_initial: dict[str, list[str]] = {}  # for spelling suggestions without a state
        self.largest_in_state: dict[str, list[Place]] = {}
        self._grid: dict[tuple[int, int], list[_ZipPoint]] = defaultdict(list)
        self._sizes: dict[tuple[str, str], int] = {}

        groups: dict[tuple[str, str], tuple[str, list[_Member]]] = {}  # key -> (display name, members)
        aliases: dict[tuple[str, str], list[tuple[str, _Member]]] = defaultdict(list)
        normalized: dict[str, str] = {}  # 57,000 names, 25,000 distinct: normalise each once

        def norm(name: str) -> str:
            if (found := normalized.get(name)) is None:
                found = normalized[name] = normalize_name(name)
            return found

        for row in rows:
            lat, lon = float(row["lat"] or 0), float(row["long"] or 0)
            # Military APO/FPO codes have no time zone and sit at 0,0: they are not places to travel to.
            if not row.get("timezone") or (lat == 0 and lon == 0):
                continue
            zip_code, city, state, time_zone = row["zip_code"], row["city"], row["state"], row["timezone"]
            self.by_zip[zip_code] = Place(
                lat,
                lon,
                f"{city}, {state} {zip_code}",
                GeocodePrecision.ZIP,
                time_zone,
                zip_code,
                city,
                state,
            )
            self._grid[(math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES))].append(
                _ZipPoint(lat, lon, zip_code)
            )
            member = _Member(lat, lon, time_zone, bool(row["active"]), row["zip_code_type"] == "STANDARD")
            groups.setdefault((norm(city), state), (city, []))[1].append(member)
            for alias in row.get("acceptable_cities") or ():
                aliases[(norm(alias), state)].append((alias, member))

        for key, (name, members) in groups.items():
            self._add_city(key, name, members)
        for key, named in aliases.items():
            if key not in self.cities:  # "Hollywood, CA" answers; "Los Angeles, CA" is never overridden
                name = Counter(alias for alias, _ in named).most_common(1)[0][0]
                self._add_city(key, name, [member for _, member in named])

        states_by_city: dict[str, list[str]] = defaultdict(list)
        for city, state in self.cities:
            states_by_city[city].append(state)
        self.states_by_city = {
            city: tuple(sorted(states, key=lambda s, c=city: (-self._sizes[(c, s)], s)))
            for city, states in states_by_city.items()
        }
        by_state: dict[str, list[str]] = defaultdict(list)
        by_initial: dict[str, set[str]] = defaultdict(set)
        for city, state in groups:  # suggestions come from official names only, not the aliases
            by_state[state].append(city)
            by_initial[city[:1]].add(city)
        self.names_by_state = {state: sorted(names) for state, names in by_state.items()}
        self.names_by_initial = {initial: sorted(names) for initial, names in by_initial.items()}
        largest: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for (city, state), size in self._sizes.items():
            largest[state].append((-size, city))
        self.largest_in_state = {
            state: [self.cities[(city, state)] for _, city in sorted(ranked)[:5]]
            for state, ranked in largest.items()
        }

    def _add_city(self, key: tuple[str, str], name: str, members: list[_Member]) -> None:
        """A city's point is the mean of its active standard ZIP centroids (PO boxes sit at post offices).

        The number of those ZIPs stands in for the city's size: it orders the suggestions, so that
        "Springfield" offers the Springfields of MA, IL and MO before the hamlets.
        """
        standard = [m for m in members if m.active and m.standard]
        chosen = standard or [m for m in members if m.active] or members
        if len(chosen) == 1:  # most towns: skip the arithmetic
            lat, lon, time_zone = chosen[0].latitude, chosen[0].longitude, chosen[0].time_zone
        else:
            lat = sum(m.latitude for m in chosen) / len(chosen)
            lon = sum(m.longitude for m in chosen) / len(chosen)
            time_zone = Counter(m.time_zone for m in chosen).most_common(1)[0][0]
        state = key[1]
        self.cities[key] = Place(
            lat, lon, f"{name}, {state}", GeocodePrecision.CITY, time_zone, None, name, state
        )
        self._sizes[key] = len(standard)

    # -------------------------------------------------------------------------------------- look-ups

    def candidates(self, query: str, field: str = "near") -> list[Place]:
        """Every place `query` may mean, most likely first; more than one means it is ambiguous.

        Raises ValidationFailed (details: fields and suggestions) when it means nothing we know.
        """
        text = unicodedata.normalize("NFKC", query or "").strip()
        if not text:
            raise _not_found(field, ASK_FOR_PLACE)
        if len(text) > MAX_QUERY_LENGTH:
            raise _not_found(field, "That is too long to be a place. " + ASK_FOR_PLACE)
        if match := _ZIP.fullmatch(text):
            return [self.zip(match[1], field)]
        if match := _POINT.fullmatch(text):
            return [self.point(float(match[1]), float(match[2]), field)]
        if _DIGITS_ONLY.fullmatch(text):
            raise _not_found(field, "A ZIP code has 5 digits, like 10016 (or ZIP+4, like 10016-1234).")
        return self._by_name(text, field)

    def zip(self, zip5: str, field: str = "near") -> Place:
        place = self.by_zip.get(zip5)
        if place is None:
            raise _not_found(field, f"We could not find ZIP code {zip5}.")
        return place

    def point(self, latitude: float, longitude: float, field: str = "near") -> Place:
        """A point as typed. Its time zone is that of the nearest ZIP centroid: exact away from time-zone
        borders, and at worst an hour off within a few miles of one (no time-zone polygons offline)."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _not_found(
                field, "Latitude must be between -90 and 90, and longitude between -180 and 180."
            )
        nearest = self.nearest_zip(latitude, longitude)
        return Place(
            latitude,
            longitude,
            f"{latitude:.5f}, {longitude:.5f}",
            GeocodePrecision.POINT,
            nearest.time_zone if nearest else None,
        )

    def nearest_zip(self, latitude: float, longitude: float) -> Place | None:
        """The ZIP whose centroid is nearest, searching grid cells ring by ring outwards.

        Distances are equirectangular (longitude scaled by cos(latitude)): exact enough to rank ZIPs a few
        miles apart. The search stops once no unsearched ring can hold anything closer.
        """
        row, col = math.floor(latitude / _CELL_DEGREES), math.floor(longitude / _CELL_DEGREES)
        cos_lat = math.cos(math.radians(latitude))
        scale = cos_lat**2
        columns = round(360 / _CELL_DEGREES)
        best_d2, best_zip = math.inf, None
        for ring in range(_NEAREST_ZIP_RINGS + 1):
            nearest_possible = ((ring - 1) * _CELL_DEGREES * min(1.0, cos_lat)) ** 2 if ring else 0.0
            if nearest_possible > best_d2:
                break
            for dr in range(-ring, ring + 1):
                edge = abs(dr) == ring
                for dc in range(-ring, ring + 1) if edge else (-ring, ring):
                    cell_col = (col + dc + columns // 2) % columns - columns // 2  # the Aleutians wrap
                    for p in self._grid.get((row + dr, cell_col), ()):
                        dlon = (p.longitude - longitude + 180) % 360 - 180
                        d2 = (p.latitude - latitude) ** 2 + scale * dlon * dlon
                        if d2 < best_d2:
                            best_d2, best_zip = d2, p.zip_code
        return self.by_zip[best_zip] if best_zip else None

    def _by_name(self, text: str, field: str) -> list[Place]:
        """A place by name: "City, ST", "City, State" or "City ST", each maybe followed by a ZIP or "USA".

        Without a comma the words are ambiguous ("Fort Washington" is a town, not Fort in Washington
        state), so a known (city, state) split wins, then the whole text as a city, then the split again
        for its error message.
        """
        parts, zip5 = self._name_parts(text)
        if not parts:
            if zip5:
                return [self.zip(zip5, field)]
            raise _not_found(
                field, f'We could not find "{_shown(text)}". Try a 5-digit ZIP code or City, ST.'
            )
        if len(parts) >= 2:
            return [self._by_comma_parts(parts, zip5, field)]
        if zip5:  # "Washington 20001": without a comma the words are too loose to check the ZIP against
            return [self.zip(zip5, field)]
        return self._by_words(text, parts[0], field)

    @staticmethod
    def _name_parts(text: str) -> tuple[list[str], str | None]:
        """The comma-separated parts of a name, and the ZIP that ended it if one did. "USA" and a ZIP may
        follow any form of the name, so they come off before the parts are read as city and state."""
        parts = [part.strip() for part in text.split(",") if part.strip()]
        while parts and normalize_name(parts[-1]) in _COUNTRY_WORDS:
            parts.pop()
        zip5 = None
        if parts and (match := _TRAILING_ZIP.search(parts[-1])):
            zip5 = match[1]
            parts[-1] = parts[-1][: match.start()].strip()
            if not parts[-1]:
                parts.pop()
        return parts, zip5

    def _by_comma_parts(self, parts: list[str], zip5: str | None, field: str) -> Place:
        """The last part is the state; the parts before it are tried as the city, the one nearest the
        state first, so that a street or county typed before the city does no harm."""
        state = _STATE_BY_NAME.get(normalize_name(parts[-1]))
        cities = [normalize_name(part) for part in reversed(parts[:-1])]
        if state is None:
            raise _not_found(
                field,
                f'We do not recognise the state "{_shown(parts[-1])}". '
                "Use its two letters, like MA, or its name.",
                self._same_name_elsewhere(cities[0], None),
            )
        return self._in_state(cities, state, zip5, parts[-2], field)

    def _by_words(self, text: str, name: str, field: str) -> list[Place]:
        """A name without a comma ("Boston MA", "Kansas City Missouri", "Springfield"): see `_by_name`."""
        words = normalize_name(name).split()
        whole = " ".join(words)
        # Try each ending that is a state, longest first.
        split: tuple[str, str] | None = None
        for n in range(min(_LONGEST_STATE_NAME_WORDS, len(words)), 0, -1):
            state = _STATE_BY_NAME.get(" ".join(words[-n:]))
            if state is None:
                continue
            city = " ".join(words[:-n])
            if (city, state) in self.cities:
                return [self.cities[(city, state)]]
            if split is None:
                split = (city, state)
        if whole in self.states_by_city:  # a city named without its state ("Fort Washington", "Springfield")
            return [self.cities[(whole, state)] for state in self.states_by_city[whole]]
        if split is not None:
            return [self._in_state([split[0]], split[1], None, split[0], field)]
        raise _not_found(
            field,
            f'We could not find "{_shown(text)}". Try a 5-digit ZIP code or City, ST.',
            self._spelling_suggestions(whole),
        )

    def _in_state(self, cities: list[str], state: str, zip5: str | None, typed: str, field: str) -> Place:
        if zip5:
            return self._zip_in_state(zip5, state, field)
        for city in cities:
            if (city, state) in self.cities:
                return self.cities[(city, state)]
        name = STATE_NAMES[state]
        if not cities or not cities[0]:
            largest = self.largest_in_state.get(state, [])
            example = f", like {largest[0].label}," if largest else ""
            raise _not_found(
                field,
                f"{name} is a whole state; add a city{example} or a ZIP code.",
                [p.label for p in largest],
            )
        city = cities[0]
        close = difflib.get_close_matches(city, self.names_by_state.get(state, []), n=5, cutoff=0.75)
        suggestions = [self.cities[(c, state)].label for c in close] + self._same_name_elsewhere(city, state)
        raise _not_found(
            field,
            f"We could not find {_shown(typed).title()}, {state}. Check the spelling, or try a ZIP code.",
            suggestions[:MAX_SUGGESTIONS],
        )

    def _zip_in_state(self, zip5: str, state: str | None, field: str) -> Place:
        place = self.zip(zip5, field)
        if state is not None and place.state != state:
            raise _not_found(
                field,
                f"ZIP code {zip5} is in {STATE_NAMES.get(place.state or '', place.state)}, "
                f"not {STATE_NAMES[state]}.",
                [place.label],
            )
        return place

    def _same_name_elsewhere(self, city: str, except_state: str | None) -> list[str]:
        states = [s for s in self.states_by_city.get(city, ()) if s != except_state]
        return [self.cities[(city, s)].label for s in states[:MAX_SUGGESTIONS]]

    def _spelling_suggestions(self, name: str) -> list[str]:
        """Cities spelt like `name`, in the states that have them. Only names with the same first letter
        are compared: a tenth of the list, which keeps a misspelling to a few milliseconds."""
        if not name:
            return []
        close = difflib.get_close_matches(name, self.names_by_initial.get(name[0], []), n=4, cutoff=0.75)
        labels = [
            self.cities[(city, state)].label for city in close for state in self.states_by_city[city][:2]
        ]
        return labels[:MAX_SUGGESTIONS]


_gazetteer: Gazetteer | None = None
_gazetteer_lock = threading.Lock()


def gazetteer() -> Gazetteer:
    """The shared index, built on first use (one to three seconds) and kept for the process's life.

    The first search in a new process pays for it; a server can call this at start-up to pay it early.
    """
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = Gazetteer(zipcodes_rows())
    return _gazetteer


# --------------------------------------------------------------------------------------- the interface


def locate(query: str, field: str = "near") -> Place:
    """The one place `query` means: a ZIP (or ZIP+4), "City, ST", "City, State" or "lat,lon". Offline.

    Unknown or ambiguous input raises ValidationFailed on `field`, with `details["suggestions"]` listing
    labels the person may have meant (cities of that name in other states, similar spellings).
    """
    places = gazetteer().candidates(query, field)
    if len(places) > 1:
        raise _not_found(
            field,
            f"There is a {places[0].city} in more than one state. Add the state, like {places[0].label}.",
            [p.label for p in places[:MAX_SUGGESTIONS]],
        )
    return places[0]


def zip_place(raw: str, field: str = "zip_code") -> Place:
    """The centroid of a US ZIP (5 digits or ZIP+4) and nothing else, as a practice location needs."""
    match = _ZIP.fullmatch(raw or "")
    if match is None:
        raise ValidationFailed.for_field(field, "Enter a 5-digit US ZIP code, like 10016.")
    try:
        return gazetteer().zip(match[1], field)
    except ValidationFailed as exc:
        raise ValidationFailed.for_field(field, exc.message) from None


# ------------------------------------------------------------------------------- online, with a cache


def online_geocoder(name: str, user_agent: str, timeout: float) -> Geocoder | None:
    """The geopy geocoder GEOCODER names, or None for "offline" or one that cannot be built here.

    A geocoder that needs an API key (GoogleV3, ...) cannot be built from these settings; that is logged
    as an error and geocoding stays offline rather than failing every profile save.
    """
    if name in ("", "offline"):
        return None
    try:
        return get_geocoder_for_service(name)(user_agent=user_agent, timeout=timeout)
    except (GeopyError, TypeError) as exc:
        log.error("GEOCODER=%s cannot be used (%s); street addresses will not be geocoded.", name, exc)
        return None


def cache_key(query: str) -> str:
    """The cache's spelling of a query: case, runs of spaces and spacing around commas do not matter."""
    text = unicodedata.normalize("NFKC", query).casefold()
    return ", ".join(" ".join(part.split()) for part in text.split(",") if part.strip())


def query_hash(key: str) -> str:
    """What logs say instead of the address: enough to match a log line to a cache row, nothing more."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class _Answer:
    latitude: float
    longitude: float


def locate_street(session: Session, street: str, area: Place, geocoder: Geocoder | None) -> Place:
    """A street address in the ZIP `area` (from `zip_place`): a POINT from the online geocoder, or `area`.

    `area` is the answer whenever there is no geocoder, no street, no match, a match implausibly far from
    the ZIP, or the service fails (a warning is logged; the next save asks again). Found and not-found
    answers are cached, so the provider is asked once per address.
    """
    street = " ".join(street.split())
    if geocoder is None or not street or area.zip_code is None:
        return area
    query = f"{street}, {area.city}, {area.state} {area.zip_code}, USA"
    key = cache_key(query)
    digest = query_hash(key)
    provider = type(geocoder).__name__.lower()[:64]
    cacheable = len(key) <= QUERY_MAX_LENGTH
    row = session.scalar(select(GeocodeCache).where(GeocodeCache.query == key)) if cacheable else None
    if row is not None:
        answer = _Answer(row.latitude, row.longitude) if row.found else None  # type: ignore[arg-type]
    else:
        try:
            found = geocoder.geocode(query, exactly_one=True)
        except GeopyError as exc:  # timeouts, refusals, quota: all GeocoderServiceError or its kin
            # The type only: geopy's messages quote the request URL, which holds the address.
            log.warning(
                "Geocoder %s failed for query %s (%s); using the ZIP centroid.",
                provider,
                digest,
                type(exc).__name__,
            )
            return area
        if isinstance(found, list):
            found = found[0] if found else None
        answer = _Answer(found.latitude, found.longitude) if found is not None else None
        if cacheable:
            _remember(session, key, provider, found)
    if answer is None:
        log.info("Geocoder %s found nothing for query %s; using the ZIP centroid.", provider, digest)
        return area
    miles = geodesic((answer.latitude, answer.longitude), (area.latitude, area.longitude)).miles
    if miles > MAX_STREET_DISTANCE_FROM_ZIP_MILES:
        log.warning(
            "Geocoder %s placed query %s %.0f miles from its ZIP; using the ZIP centroid.",
            provider,
            digest,
            miles,
        )
        return area
    return Place(
        answer.latitude,
        answer.longitude,
        f"{street}, {area.city}, {area.state} {area.zip_code}",
        GeocodePrecision.POINT,
        area.time_zone,
        area.zip_code,
        area.city,
        area.state,
    )


def _remember(session: Session, key: str, provider: str, found: Location | None) -> None:
    """Store an answer in a savepoint: if a concurrent request stored the same query first, keep theirs."""
    row = GeocodeCache(query=key, provider=provider)
    if found is not None:
        row.latitude, row.longitude = found.latitude, found.longitude
        row.label = (found.address or key)[:255]
        row.precision = GeocodePrecision.POINT
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        log.info("Geocode cache row %s was stored by another request first.", query_hash(key))
