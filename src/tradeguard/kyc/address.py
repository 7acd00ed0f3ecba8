"""Residential addresses: parsed with usaddress, normalised to USPS style, PO boxes refused.

A residence is where a person lives: a post-office box (``PO Box``, ``Caller``, a private
mailbox) is refused as one. The stored form is upper case, with the USPS abbreviations of
street suffixes and directions, a two-letter state and a five-digit ZIP (ZIP+4 kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import usaddress

from tradeguard.kyc.problems import FieldError, KycReason

FIELD = "residential_address"
STATES = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    ]
)
SUFFIXES = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "ROAD": "RD",
    "BOULEVARD": "BLVD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "TERRACE": "TER",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "CIRCLE": "CIR",
    "SQUARE": "SQ",
    "TRAIL": "TRL",
    "WAY": "WAY",
}
DIRECTIONS = {"NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W"}
DIRECTIONS |= {"NORTHEAST": "NE", "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW"}
UNITS = {"APARTMENT": "APT", "SUITE": "STE", "UNIT": "UNIT", "#": "#", "FLOOR": "FL"}
ZIP = re.compile(r"(\d{5})(?:-?(\d{4}))?")
BOX_LABELS = frozenset({"USPSBoxType", "USPSBoxID", "USPSBoxGroupType", "USPSBoxGroupID"})
STREET_LABELS = (
    "AddressNumber",
    "StreetNamePreDirectional",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
)


@dataclass(frozen=True, slots=True)
class Address:
    """A normalised US street address."""

    street: str
    unit: str | None
    city: str
    state: str
    zip_code: str

    def line(self) -> str:
        """The address on one line, as stored and shown."""
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.street}{unit}, {self.city}, {self.state} {self.zip_code}"

    def to_json(self) -> dict[str, str | None]:
        """The parts, for the stored answers."""
        return {
            "line": self.line(),
            "street": self.street,
            "unit": self.unit,
            "city": self.city,
            "state": self.state,
            "zip": self.zip_code,
        }


def parse_residence(text: str) -> Address | FieldError:
    """The normalised address, or the reason it cannot be a residence."""
    try:
        tagged, kind = usaddress.tag(text.upper())
    except usaddress.RepeatedLabelError:
        return _invalid("the address could not be read: give street, city, state and ZIP")
    if kind == "PO Box" or BOX_LABELS & tagged.keys():
        return FieldError(
            FIELD, KycReason.ADDRESS_PO_BOX, "a post-office box is not a residence: give a street"
        )
    return _built(dict(tagged))


def _built(tagged: dict[str, str]) -> Address | FieldError:
    zip_match = ZIP.fullmatch(tagged.get("ZipCode", "").strip())
    state = tagged.get("StateName", "").strip(" .")
    if "AddressNumber" not in tagged or "StreetName" not in tagged:
        return _invalid("give the house number and street")
    if not tagged.get("PlaceName") or state not in STATES or zip_match is None:
        return _invalid("give the city, the two-letter state and the five-digit ZIP code")
    zip_code = zip_match.group(1) + (f"-{zip_match.group(2)}" if zip_match.group(2) else "")
    return Address(_street(tagged), _unit(tagged), _clean(tagged["PlaceName"]), state, zip_code)


def _street(tagged: dict[str, str]) -> str:
    words = []
    for label in STREET_LABELS:
        value = _clean(tagged.get(label, ""))
        if label == "StreetNamePostType":
            value = SUFFIXES.get(value, value)
        elif label.endswith("Directional"):
            value = DIRECTIONS.get(value, value)
        if value:
            words.append(value)
    return " ".join(words)


def _unit(tagged: dict[str, str]) -> str | None:
    identifier = _clean(tagged.get("OccupancyIdentifier", ""))
    if not identifier:
        return None
    kind = _clean(tagged.get("OccupancyType", "#"))
    kind = UNITS.get(kind, kind)
    return f"# {identifier.lstrip('# ')}" if kind == "#" else f"{kind} {identifier}"


def _clean(value: str) -> str:
    return " ".join(value.replace(".", " ").replace(",", " ").split())


def _invalid(message: str) -> FieldError:
    return FieldError(FIELD, KycReason.ADDRESS_INVALID, message)
