"""The application's answers: each field checked and normalised, or refused with a reason.

``normalised(draft, today)`` turns what a request sent into what is stored, collecting a
``FieldError`` per refused field; ``missing(...)`` lists what a submission still lacks.
The tax id is validated with python-stdnum (SSN or ITIN), countries are ICAO/ISO 3166
three-letter codes (the ones a passport's MRZ uses), the address goes through
``tradeguard.kyc.address``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mrz.base import countries_ops
from stdnum.us import itin, ssn

from tradeguard.kyc.address import Address, parse_residence
from tradeguard.kyc.problems import FieldError, KycReason
from tradeguard.kyc.schemas import (
    Agreement,
    ApplicationDraft,
    Band,
    EmploymentStatus,
    Experience,
)

MINIMUM_AGE = 18
OLDEST_BIRTH_YEAR = 1900
RESIDENCE = "USA"
AGREEMENT_VERSIONS = {
    Agreement.CUSTOMER: "2026-01",
    Agreement.PRIVACY: "2026-01",
    Agreement.ESIGN: "2026-01",
    Agreement.MARGIN: "2026-01",
}
"""The versions in force: an acceptance of any other version is refused."""
REQUIRED_AGREEMENTS = (Agreement.CUSTOMER, Agreement.PRIVACY, Agreement.ESIGN)
PHONE = re.compile(r"\+[1-9]\d{7,14}")
PHONE_LAYOUT = str.maketrans("", "", " -().")
US_DIGITS = 10
EMPLOYED = (EmploymentStatus.EMPLOYED, EmploymentStatus.SELF_EMPLOYED)
REQUIRED = (
    "legal_name.given",
    "legal_name.family",
    "date_of_birth",
    "tax_id",
    "residential_address",
    "citizenship",
    "residence_country",
    "phone",
    "employment.status",
    "affiliations.broker_dealer",
    "affiliations.exchange_or_finra",
    "affiliations.public_company_insider",
    "affiliations.politically_exposed",
    "annual_income",
    "net_worth",
    "source_of_funds",
    "investment_objective",
    "investment_experience",
    "account_kind",
)
MARGIN_MINIMUM_NET_WORTH = Band.FROM_25K
BANDS = list(Band)


@dataclass
class Normalised:
    """What a draft request changes: answers, the tax id, account kind, agreements, errors."""

    answers: dict[str, Any] = field(default_factory=dict)
    tax_id: str | None = None
    account_kind: str | None = None
    agreements: list[dict[str, str]] | None = None
    errors: list[FieldError] = field(default_factory=list)

    def changed_fields(self) -> list[str]:
        """The names of the fields this request sets (for the audit trail; no values)."""
        names = list(self.answers)
        names += ["tax_id"] if self.tax_id is not None else []
        names += ["account_kind"] if self.account_kind is not None else []
        return names + (["agreements"] if self.agreements is not None else [])


def normalised(draft: ApplicationDraft, today: date) -> Normalised:
    """Every field ``draft`` sets, checked and in its stored form."""
    result = Normalised(account_kind=draft.account_kind)
    sent = draft.model_dump(exclude_none=True, mode="json")
    for name, value in sent.items():
        checker = CHECKERS.get(name)
        checked = value if checker is None else checker(value, today)
        if isinstance(checked, FieldError):
            result.errors.append(checked)
        else:
            _place(result, name, checked)
    return result


def _place(result: Normalised, name: str, value: Any) -> None:  # noqa: ANN401 - a JSON value
    if name == "tax_id":
        result.tax_id = value
    elif name == "agreements":
        result.agreements = value
    elif name != "account_kind":
        result.answers[name] = value


def check_name(value: dict[str, str], today: date) -> dict[str, str] | FieldError:
    """Given and family names of at least one letter each when given."""
    del today
    for part in ("given", "family"):
        if part in value and not any(character.isalpha() for character in value[part]):
            return FieldError(f"legal_name.{part}", KycReason.NAME_INVALID, "give a name")
    return value


def check_birth_date(value: str, today: date) -> str | FieldError:
    """A real date of birth of someone 18 or older."""
    born = date.fromisoformat(value)
    if born.year < OLDEST_BIRTH_YEAR or born > today:
        return FieldError("date_of_birth", KycReason.DOB_INVALID, "not a possible date of birth")
    if age_on(born, today) < MINIMUM_AGE:
        return FieldError(
            "date_of_birth", KycReason.UNDERAGE, f"an account holder must be {MINIMUM_AGE} or older"
        )
    return value


def age_on(born: date, today: date) -> int:
    """Full years between ``born`` and ``today``."""
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - int(before_birthday)


def check_tax_id(value: str, today: date) -> str | FieldError:
    """A valid SSN or ITIN, stored as ``AAA-GG-SSSS``."""
    del today
    value = value.replace(" ", "")
    if not (ssn.is_valid(value) or itin.is_valid(value)):
        return FieldError(
            "tax_id", KycReason.TAX_ID_INVALID, "not a valid SSN or ITIN (nine digits)"
        )
    return ssn.format(ssn.compact(value))


def tax_id_kind(value: str) -> str:
    """``itin`` or ``ssn``: ITINs start with a 9."""
    return "itin" if itin.is_valid(value) else "ssn"


def check_address(value: str, today: date) -> dict[str, str | None] | FieldError:
    """A US street address (no PO box), normalised."""
    del today
    parsed = parse_residence(value)
    return parsed.to_json() if isinstance(parsed, Address) else parsed


def check_citizenship(value: str, today: date) -> str | FieldError:
    """A three-letter country code."""
    del today
    return _country("citizenship", value)


def check_residence(value: str, today: date) -> str | FieldError:
    """The United States: accounts are for US residents (SSN or ITIN, US address)."""
    del today
    country = _country("residence_country", value)
    if isinstance(country, str) and country != RESIDENCE:
        return FieldError(
            "residence_country",
            KycReason.RESIDENCE_UNSUPPORTED,
            "accounts are opened for residents of the United States (USA) only",
        )
    return country


def _country(name: str, value: str) -> str | FieldError:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha() or not countries_ops.is_code(code):  # noqa: PLR2004 - ISO 3166 alpha-3
        return FieldError(name, KycReason.COUNTRY_INVALID, "give a three-letter country code")
    return code


def check_phone(value: str, today: date) -> str | FieldError:
    """An E.164 number; ten US digits get +1."""
    del today
    number = value.translate(PHONE_LAYOUT)
    if number.isdigit() and len(number) == US_DIGITS:
        number = f"+1{number}"
    if not PHONE.fullmatch(number):
        return FieldError("phone", KycReason.PHONE_INVALID, "give a phone number like +12125550123")
    return number


def check_agreements(value: list[dict[str, str]], today: date) -> list[dict[str, str]] | FieldError:
    """Each agreement at the version in force, once."""
    del today
    names = [item["name"] for item in value]
    if len(set(names)) != len(names):
        return FieldError("agreements", KycReason.AGREEMENT_VERSION, "name each agreement once")
    for item in value:
        if AGREEMENT_VERSIONS[Agreement(item["name"])] != item["version"]:
            return FieldError(
                "agreements",
                KycReason.AGREEMENT_VERSION,
                f"{item['name']} is at version {AGREEMENT_VERSIONS[Agreement(item['name'])]}",
            )
    return value


CHECKERS: dict[str, Any] = {
    "legal_name": check_name,
    "date_of_birth": check_birth_date,
    "tax_id": check_tax_id,
    "residential_address": check_address,
    "citizenship": check_citizenship,
    "residence_country": check_residence,
    "phone": check_phone,
    "agreements": check_agreements,
}


@dataclass(frozen=True, slots=True)
class Stored:
    """An application's saved answers, as ``missing`` and the checks read them."""

    answers: dict[str, Any]
    tax_id: str | None
    account_kind: str | None
    agreements: list[dict[str, Any]]


def missing(stored: Stored) -> list[str]:
    """The fields a submission still needs (dotted names)."""
    values = {**stored.answers, "tax_id": stored.tax_id, "account_kind": stored.account_kind}
    lacking = [name for name in REQUIRED if _lookup(values, name) is None]
    employment = stored.answers.get("employment", {})
    if employment.get("status") in EMPLOYED:
        lacking += [
            f"employment.{part}"
            for part in ("employer", "occupation", "industry")
            if not employment.get(part)
        ]
    affiliations = stored.answers.get("affiliations", {})
    if affiliations.get("public_company_insider") and not affiliations.get("insider_company"):
        lacking.append("affiliations.insider_company")
    return lacking + _missing_agreements(stored)


def _missing_agreements(stored: Stored) -> list[str]:
    accepted = {item["name"] for item in stored.agreements}
    needed = list(REQUIRED_AGREEMENTS)
    if stored.account_kind == "margin":
        needed.append(Agreement.MARGIN)
    return [f"agreements.{name.value}" for name in needed if name.value not in accepted]


def _lookup(values: dict[str, Any], dotted: str) -> Any:  # noqa: ANN401 - a JSON value
    found: Any = values
    for part in dotted.split("."):
        found = found.get(part) if isinstance(found, dict) else None
    return found


def margin_refusal(stored: Stored) -> FieldError | None:
    """Why a margin account cannot be opened: net worth under $25,000 or no experience."""
    if stored.account_kind != "margin":
        return None
    worth = stored.answers.get("net_worth")
    experience = stored.answers.get("investment_experience")
    if worth is None or BANDS.index(Band(worth)) < BANDS.index(MARGIN_MINIMUM_NET_WORTH):
        return FieldError(
            "account_kind", KycReason.MARGIN_INELIGIBLE, "margin needs a net worth of $25,000+"
        )
    if experience == Experience.NONE.value:
        return FieldError(
            "account_kind", KycReason.MARGIN_INELIGIBLE, "margin needs investment experience"
        )
    return None


def is_associated_person(answers: dict[str, Any]) -> bool:
    """Whether the applicant works for a broker-dealer, an exchange or FINRA (FINRA 3210)."""
    affiliations = answers.get("affiliations", {})
    return bool(affiliations.get("broker_dealer") or affiliations.get("exchange_or_finra"))
