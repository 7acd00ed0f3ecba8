"""A seeded, full-size synthetic sanctions list in OFAC's legacy CSV format, and queries.

Names come from many naming traditions (Arabic, Persian, Russian and Ukrainian with
patronymics, Chinese, Korean, Vietnamese, Hispanic with two surnames, Anglo, French,
German, Turkish, West African); entities are distinctive words with generic business
words and legal forms, vessels are short names. Individuals carry dates of birth in
Remarks in OFAC's forms (exact, year only, ``circa``, ranges, ``alt. DOB``).

Queries are labelled: true variants of listed names (order swapped, middle names or
patronymics dropped, a typo, transliteration variants, diacritics, other scripts,
aliases, joined or split particles, legal forms rewritten, DOB near or exact) and hard
negatives (another person sharing the surname or the given name, an entity sharing
only generic words, a listed name whose date of birth is three or more years away,
unlisted names from the same traditions).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from screening_names import (
    ACCENTS,
    COUNTRIES,
    CYRILLIC,
    GENERIC,
    GIVEN,
    LEGAL,
    MONTHS,
    SURNAMES,
    SYLLABLES,
    TRANSLITERATIONS,
)

SEED = 20261206


@dataclass(frozen=True)
class Person:
    """A listed individual: the tradition, given names, surnames, birth and the aliases."""

    ent_num: int
    tradition: str
    given: tuple[str, ...]
    surnames: tuple[str, ...]
    dob: date
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Company:
    """A listed entity: its distinctive words, generic words and legal form."""

    ent_num: int
    distinctive: tuple[str, ...]
    generic: tuple[str, ...]
    legal: str
    aliases: tuple[str, ...]

    @property
    def name(self) -> str:
        """The listed name."""
        return " ".join((*self.distinctive, *self.generic, self.legal))


@dataclass(frozen=True)
class Query:
    """A labelled query: a name to screen and the entry it should find (``None``: none)."""

    name: str
    dob: date | None
    country: str | None
    expected: str | None
    kind: str


@dataclass
class Corpus:
    """The generated list and its entries' facts."""

    people: list[Person]
    companies: list[Company]
    vessels: list[tuple[int, str]]

    @property
    def alias_count(self) -> int:
        """How many aliases the list carries."""
        return sum(len(p.aliases) for p in self.people) + sum(
            len(c.aliases) for c in self.companies
        )


def generate(entries: int = 18_000, seed: int = SEED) -> Corpus:
    """A list of ``entries`` entries: 60% individuals, 35% entities, 5% vessels."""
    rng = random.Random(seed)  # noqa: S311 - seeded test data
    people = [_person(rng, 10_000 + n) for n in range(int(entries * 0.6))]
    start = 10_000 + len(people)
    companies = [_company(rng, start + n) for n in range(int(entries * 0.35))]
    start += len(companies)
    vessels = [
        (start + n, _word(rng, 2).upper() + f" {rng.randint(1, 9)}")
        for n in range(entries - len(people) - len(companies))
    ]
    return Corpus(people, companies, vessels)


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def _person(rng: random.Random, ent_num: int) -> Person:
    tradition = rng.choice(list(GIVEN))
    given = _given_names(rng, tradition)
    surnames = _surnames(rng, tradition)
    dob = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 50))
    person = Person(ent_num, tradition, given, surnames, dob, ())
    count = rng.choice((0, 1, 1, 2, 2, 3))
    aliases = tuple(_alias_of(rng, person) for _ in range(count))
    return Person(ent_num, tradition, given, surnames, dob, aliases)


def _given_names(rng: random.Random, tradition: str) -> tuple[str, ...]:
    names = [rng.choice(GIVEN[tradition])]
    if tradition == "russian":
        names.append(rng.choice(GIVEN["russian"]).rstrip("iy") + rng.choice(("ovich", "evich")))
    elif tradition in ("chinese", "korean") and rng.random() < 0.7:
        names = (
            [names[0] + rng.choice(GIVEN[tradition]).lower()]
            if tradition == "chinese"
            else [names[0], rng.choice(GIVEN[tradition])]
        )
    elif rng.random() < 0.4:
        names.append(rng.choice(GIVEN[tradition]))
    return tuple(names)


def _surnames(rng: random.Random, tradition: str) -> tuple[str, ...]:
    first = rng.choice(SURNAMES[tradition])
    if tradition == "hispanic" and rng.random() < 0.7:
        return (first, rng.choice(SURNAMES[tradition]))
    if rng.random() < 0.5:  # most surnames are rarer than a short pool suggests
        return (first + rng.choice(("", "i", "a", "o")) + _word(rng, 1).lower(),)
    return (first,)


def _alias_of(rng: random.Random, person: Person) -> str:
    """An alias as lists record them: another spelling, or a shorter form."""
    given, surnames = list(person.given), list(person.surnames)
    if rng.random() < 0.5:
        surnames = [transliterate(rng, name) for name in surnames]
    else:
        given = given[:1]
    return f"{' '.join(surnames).upper()}, {' '.join(given)}"


def _company(rng: random.Random, ent_num: int) -> Company:
    distinctive = tuple(
        _word(rng, rng.choice((2, 3))).upper() for _ in range(rng.choice((1, 1, 2)))
    )
    generic = tuple(rng.sample(GENERIC, rng.choice((0, 1, 1, 2))))
    company = Company(ent_num, distinctive, generic, rng.choice(LEGAL), ())
    aliases = (" ".join(distinctive),) if rng.random() < 0.5 else ()
    return Company(ent_num, distinctive, generic, company.legal, aliases)


def listed_name(person: Person) -> str:
    """``LAST, First Middle`` as OFAC writes individuals."""
    return f"{' '.join(person.surnames).upper()}, {' '.join(person.given)}"


def _remarks(rng: random.Random, person: Person) -> str:
    dob = person.dob
    form = rng.random()
    if form < 0.6:
        text = f"DOB {dob.day:02d} {MONTHS[dob.month - 1]} {dob.year}"
    elif form < 0.75:
        text = f"DOB {dob.year}"
    elif form < 0.85:
        text = f"DOB circa {dob.year}"
    elif form < 0.92:
        text = f"DOB {dob.year - 1} to {dob.year + 1}"
    else:
        text = f"DOB {dob.day:02d} {MONTHS[dob.month - 1]} {dob.year}; alt. DOB {dob.year + 2}"
    country, _ = COUNTRIES[person.tradition]
    return f"{text}; POB {country}; nationality {country}; Gender Male."


def write_csv(corpus: Corpus, directory: Path, seed: int = SEED) -> None:
    """Write ``sdn.csv``, ``alt.csv`` and ``add.csv`` as OFAC publishes them."""
    rng = random.Random(seed + 1)  # noqa: S311 - seeded test data
    directory.mkdir(parents=True, exist_ok=True)
    sdn, alt, add = io.StringIO(), io.StringIO(), io.StringIO()
    primary = csv.writer(sdn, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    aliases = csv.writer(alt, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    addresses = csv.writer(add, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    null = "-0- "
    alt_num = 1
    for person in corpus.people:
        primary.writerow(
            [
                person.ent_num,
                listed_name(person),
                "individual",
                "SDGT",
                *[null] * 7,
                _remarks(rng, person),
            ]
        )
        for alias in person.aliases:
            aliases.writerow([person.ent_num, alt_num, "aka", alias, null])
            alt_num += 1
        addresses.writerow(
            [person.ent_num, alt_num, null, null, COUNTRIES[person.tradition][0], null]
        )
    for company in corpus.companies:
        primary.writerow([company.ent_num, company.name, null, "NPWMD", *[null] * 8])
        for alias in company.aliases:
            aliases.writerow([company.ent_num, alt_num, "aka", alias, null])
            alt_num += 1
    for ent_num, name in corpus.vessels:
        primary.writerow(
            [
                ent_num,
                name,
                "vessel",
                "IRAN",
                null,
                "9HA1234",
                "Crude Oil Tanker",
                null,
                "81,000",
                "Iran",
                null,
                "Vessel Registration Identification IMO 9187629.",
            ]
        )
    for name, buffer in (("sdn.csv", sdn), ("alt.csv", alt), ("add.csv", add)):
        (directory / name).write_bytes((buffer.getvalue() + "\x1a").encode())


# -- queries ----------------------------------------------------------------------------


def transliterate(rng: random.Random, name: str) -> str:
    """``name`` with one spelling rule of transliteration applied where it fits."""
    lowered = name.lower()
    rules = [rule for rule in TRANSLITERATIONS if rule[0] in _spelled_apart(lowered)[1:]]
    if not rules:
        return name
    source, target = rng.choice(rules)
    at = _spelled_apart(lowered).index(source, 1)
    changed = lowered[:at] + target + lowered[at + len(source) :]
    return (
        changed.capitalize()
        if name[:1].isupper() and not name.isupper()
        else changed.upper()
        if name.isupper()
        else changed
    )


def _spelled_apart(lowered: str) -> str:
    """``lowered`` with the German SCH out of reach of the rules for CH.

    SCHNEIDER is never written STCHNEIDER: TCH is the French CH of Russian names.
    """
    return lowered.replace("sch", "s__")


def typo(rng: random.Random, name: str) -> str:
    """One keyboard slip inside ``name`` (never its first letter)."""
    if len(name) < 4:
        return name
    at = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if kind == "drop":
        return name[:at] + name[at + 1 :]
    if kind == "double":
        return name[:at] + name[at] + name[at:]
    return name[:at] + rng.choice("aeiourstnl") + name[at + 1 :]


def _accented(name: str) -> str:
    return "".join(
        ACCENTS.get(char, char) if index % 3 == 1 else char for index, char in enumerate(name)
    )


def _cyrillic(name: str) -> str:
    return "".join(CYRILLIC.get(char, char) for char in name.lower())


def person_variant(rng: random.Random, person: Person) -> tuple[str, str]:
    """A realistic way someone writes a listed person's name, and what was done."""
    given, surnames = list(person.given), list(person.surnames)
    kind = rng.choice(
        (
            "order",
            "drop-middle",
            "typo",
            "transliteration",
            "accents",
            "alias",
            "initial-middle",
            "punctuation",
            "script",
            "particle",
        )
    )
    if kind == "drop-middle" and len(given) > 1:
        given = given[:1]
    elif kind == "typo":
        index = rng.randrange(len(surnames))
        surnames[index] = typo(rng, surnames[index])
    elif kind == "transliteration":
        surnames = [transliterate(rng, name) for name in surnames]
        given[0] = transliterate(rng, given[0])
    elif kind == "accents":
        surnames = [_accented(name) for name in surnames]
    elif kind == "alias" and person.aliases:
        return rng.choice(person.aliases).title(), kind
    elif kind == "initial-middle" and len(given) > 1:
        given = [given[0], given[1][0] + "."]
    elif kind == "punctuation":
        return f"{' '.join(surnames).lower()}; {' '.join(given).lower()}.", kind
    elif kind == "script" and person.tradition == "russian":
        return _cyrillic(f"{given[0]} {' '.join(surnames)}"), kind
    elif kind == "particle":
        surnames = [name.replace("-", " ").replace("Al ", "El ") for name in surnames]
    return f"{' '.join(given)} {' '.join(surnames)}", kind


def company_variant(rng: random.Random, company: Company) -> tuple[str, str]:
    """A listed company written another way: legal form, generic words, a typo."""
    kind = rng.choice(("legal-form", "drop-generic", "typo", "the"))
    distinctive = list(company.distinctive)
    if kind == "typo":
        distinctive[0] = typo(rng, distinctive[0])
    legal = {
        "CO., LTD.": "COMPANY LIMITED",
        "LIMITED": "LTD",
        "CORP.": "CORPORATION",
        "INC.": "INCORPORATED",
        "S.A.": "SA",
        "LLC": "L.L.C.",
    }.get(company.legal, company.legal)
    generic = [] if kind == "drop-generic" else list(company.generic)
    prefix = ["THE"] if kind == "the" else []
    return " ".join((*prefix, *distinctive, *generic, legal)).title(), kind


def _near_dob(rng: random.Random, dob: date) -> date:
    choice = rng.random()
    if choice < 0.5:
        return dob
    if choice < 0.7 and dob.day <= 12:
        return date(dob.year, dob.day, dob.month)
    return dob + timedelta(days=rng.choice((-1, 1)) * rng.randrange(1, 365))


def queries(corpus: Corpus, count: int, seed: int = SEED) -> list[Query]:
    """``count`` labelled queries: half true variants, half hard negatives."""
    rng = random.Random(seed + 2)  # noqa: S311 - seeded test data
    found: list[Query] = []
    while len(found) < count:
        maker = rng.choice(
            (
                _true_person,
                _true_person,
                _true_company,
                _negative_person,
                _negative_person,
                _negative_company,
                _cleared_by_dob,
                _unlisted,
            )
        )
        found.append(maker(rng, corpus))
    return found


def _true_person(rng: random.Random, corpus: Corpus) -> Query:
    person = rng.choice(corpus.people)
    name, kind = person_variant(rng, person)
    dob = _near_dob(rng, person.dob) if rng.random() < 0.6 else None
    country = COUNTRIES[person.tradition][1] if rng.random() < 0.5 else None
    return Query(name, dob, country, str(person.ent_num), f"true:{kind}")


def _true_company(rng: random.Random, corpus: Corpus) -> Query:
    company = rng.choice(corpus.companies)
    name, kind = company_variant(rng, company)
    return Query(name, None, None, str(company.ent_num), f"true:{kind}")


def _negative_person(rng: random.Random, corpus: Corpus) -> Query:
    """Another person of the same tradition who shares the surname or the given name."""
    person = rng.choice(corpus.people)
    pool_given, pool_surname = GIVEN[person.tradition], SURNAMES[person.tradition]
    if rng.random() < 0.5:
        other_given = rng.choice([name for name in pool_given if name not in person.given])
        name = f"{other_given} {' '.join(person.surnames)}"
        kind = "negative:same-surname"
    else:
        other = rng.choice([name for name in pool_surname if not _near(name, person.surnames)])
        name = f"{person.given[0]} {other}"
        kind = "negative:same-given"
    dob = date(1945, 1, 1) + timedelta(days=rng.randrange(365 * 55)) if rng.random() < 0.5 else None
    return Query(name, dob, None, None, kind)


def _near(name: str, surnames: tuple[str, ...]) -> bool:
    """Whether ``name`` begins like one of ``surnames`` (so it is not a different surname)."""
    return any(surname.upper().startswith(name.upper()[:4]) for surname in surnames)


def _negative_company(rng: random.Random, corpus: Corpus) -> Query:
    """A company that shares only generic words and a legal form with listed ones."""
    company = rng.choice([c for c in corpus.companies if c.generic] or corpus.companies)
    own = _word(rng, 3).upper()
    name = " ".join((own, *company.generic, company.legal))
    return Query(name.title(), None, None, None, "negative:generic-words")


def _cleared_by_dob(rng: random.Random, corpus: Corpus) -> Query:
    """A listed person's exact name with a date of birth four to twenty years away."""
    person = rng.choice(corpus.people)
    years = rng.choice((-1, 1)) * rng.randint(4, 20)
    dob = person.dob.replace(year=person.dob.year + years, day=min(person.dob.day, 28))
    return Query(
        f"{' '.join(person.given)} {' '.join(person.surnames)}", dob, None, None, "negative:dob-3y+"
    )


def _unlisted(rng: random.Random, corpus: Corpus) -> Query:
    del corpus
    tradition = rng.choice(list(GIVEN))
    surname = rng.choice(SURNAMES[tradition]).replace("-", "").lower()
    name = f"{rng.choice(GIVEN[tradition])} {_word(rng, 2)}{surname}"
    return Query(name, None, None, None, "negative:unlisted")
