"""Countries as the lists write them, found from an ISO 3166 alpha-2 code.

OFAC names countries in words (``Iran``, ``Korea, North``, ``Burma``, ``Russia``) in
addresses, nationality, citizenship and place of birth. A screened subject's country
is an alpha-2 code; ``country_words`` gives the spellings that count as that country.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

from tradeguard.screening.names import name_tokens

# Countries whose list spelling differs from every ISO 3166 name of them.
LIST_SPELLINGS: dict[str, tuple[str, ...]] = {
    "KP": ("Korea, North", "North Korea", "DPRK", "Democratic People's Republic of Korea"),
    "KR": ("Korea, South", "South Korea", "Republic of Korea"),
    "RU": ("Russia",),
    "IR": ("Iran",),
    "SY": ("Syria",),
    "MM": ("Burma", "Myanmar"),
    "VE": ("Venezuela",),
    "BO": ("Bolivia",),
    "CD": ("Congo, Democratic Republic of the", "Democratic Republic of the Congo", "Zaire"),
    "CG": ("Congo, Republic of the", "Republic of the Congo"),
    "TR": ("Turkey", "Turkiye"),
    "LA": ("Laos",),
    "MD": ("Moldova",),
    "TZ": ("Tanzania",),
    "VN": ("Vietnam", "Viet Nam"),
    "CV": ("Cabo Verde", "Cape Verde"),
    "CI": ("Cote d'Ivoire", "Ivory Coast"),
    "PS": ("West Bank", "Gaza", "Palestinian", "Palestine"),
    "GB": ("United Kingdom", "UK", "Great Britain", "England", "Scotland", "Wales"),
    "US": ("United States", "USA"),
    "CZ": ("Czech Republic", "Czechia"),
    "MK": ("North Macedonia", "Macedonia"),
    "SZ": ("Eswatini", "Swaziland"),
    "TW": ("Taiwan",),
    "VA": ("Holy See", "Vatican"),
    "BN": ("Brunei",),
    "FM": ("Micronesia",),
    "AE": ("United Arab Emirates", "UAE"),
    "BS": ("Bahamas", "The Bahamas"),
    "GM": ("Gambia", "The Gambia"),
    "CN": ("China",),
    "HK": ("Hong Kong",),
    "MO": ("Macau", "Macao"),
}


@lru_cache(maxsize=512)
def country_words(alpha2: str) -> tuple[tuple[str, ...], ...]:
    """The spellings of the country ``alpha2`` as name tokens; empty for an unknown code."""
    code = alpha2.strip().upper()
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None  # noqa: PLR2004
    if found is None:
        return ()
    spellings = set(LIST_SPELLINGS.get(code, ()))
    for attribute in ("name", "common_name", "official_name"):
        value = getattr(found, attribute, None)
        if value and "," not in value:  # "Korea, Republic of": the spellings above say it
            spellings.add(value)
    return tuple(sorted({name_tokens(spelling) for spelling in spellings if spelling}))


def mentions_country(text_tokens: tuple[str, ...], alpha2: str) -> str | None:
    """The spelling of ``alpha2`` that ``text_tokens`` contain as whole words, if any."""
    for spelling in country_words(alpha2):
        if _contains(text_tokens, spelling):
            return " ".join(spelling)
    return None


def _contains(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tokens[index : index + size] == phrase for index in range(len(tokens) - size + 1))


_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


def is_country_code(value: str) -> bool:
    """Whether ``value`` is a known ISO 3166 alpha-2 code."""
    return bool(_COUNTRY_CODE.match(value)) and bool(country_words(value))
