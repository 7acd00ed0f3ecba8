"""Each check of the application's fields: tax ids, ages, addresses, phones, countries."""

from __future__ import annotations

from datetime import date

import pytest

from tradeguard.kyc.address import Address, parse_residence
from tradeguard.kyc.answers import (
    Stored,
    age_on,
    check_birth_date,
    check_phone,
    check_tax_id,
    margin_refusal,
    missing,
)
from tradeguard.kyc.problems import FieldError, KycReason

TODAY = date(2026, 12, 6)


def reason(result: object) -> KycReason | None:
    return result.reason if isinstance(result, FieldError) else None


@pytest.mark.parametrize(
    ("text", "stored"),
    [("536-90-4399", "536-90-4399"), ("536904399", "536-90-4399"), ("912 70 3456", "912-70-3456")],
)
def test_tax_id_when_valid_ssn_or_itin_then_formatted(text: str, stored: str) -> None:
    assert check_tax_id(text, TODAY) == stored


@pytest.mark.parametrize(
    "text", ["000-12-3456", "666-12-3456", "536-00-4399", "078-05-1120", "12345"]
)
def test_tax_id_when_impossible_then_refused(text: str) -> None:
    assert reason(check_tax_id(text, TODAY)) is KycReason.TAX_ID_INVALID


def test_age_when_the_eighteenth_birthday_is_today_then_adult_and_a_day_before_not() -> None:
    assert check_birth_date("2008-12-06", TODAY) == "2008-12-06"
    assert reason(check_birth_date("2008-12-07", TODAY)) is KycReason.UNDERAGE
    assert age_on(date(2008, 12, 7), TODAY) == 17


def test_birth_date_when_in_the_future_then_invalid_not_underage() -> None:
    assert reason(check_birth_date("2027-01-01", TODAY)) is KycReason.DOB_INVALID


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            "123 Main Street Apt 4, Springfield, IL 62704",
            "123 MAIN ST APT 4, SPRINGFIELD, IL 62704",
        ),
        ("12 north elm st #5 boston ma 02110-1234", "12 N ELM ST # 5, BOSTON, MA 02110-1234"),
        ("500 Oak Boulevard, Austin, TX 78701", "500 OAK BLVD, AUSTIN, TX 78701"),
    ],
)
def test_address_when_a_street_then_normalised_to_usps_style(text: str, line: str) -> None:
    parsed = parse_residence(text)
    assert isinstance(parsed, Address), parsed
    assert parsed.line() == line


@pytest.mark.parametrize(
    "text", ["PO Box 12, Springfield, IL 62704", "P.O. Box 9, Austin, TX 78701"]
)
def test_address_when_a_post_office_box_then_refused_as_residence(text: str) -> None:
    assert reason(parse_residence(text)) is KycReason.ADDRESS_PO_BOX


@pytest.mark.parametrize(
    "text", ["somewhere nice", "1 Main St, Nowhere, ZZ 12345", "1 Main St, Boston"]
)
def test_address_when_incomplete_then_invalid(text: str) -> None:
    assert reason(parse_residence(text)) is KycReason.ADDRESS_INVALID


def test_phone_when_ten_us_digits_then_e164_and_letters_refused() -> None:
    assert check_phone("(212) 555-0123", TODAY) == "+12125550123"
    assert check_phone("+44 7911 123456", TODAY) == "+447911123456"
    assert reason(check_phone("555-CALL", TODAY)) is KycReason.PHONE_INVALID


def stored(**answers: object) -> Stored:
    return Stored(answers=dict(answers), tax_id=None, account_kind="margin", agreements=[])


def test_margin_when_net_worth_or_experience_is_too_low_then_refused() -> None:
    assert margin_refusal(stored(net_worth="under_25k", investment_experience="good"))
    assert margin_refusal(stored(net_worth="250k_1m", investment_experience="none"))
    assert margin_refusal(stored(net_worth="25k_50k", investment_experience="limited")) is None


def test_missing_when_employed_without_employer_then_named() -> None:
    lacking = missing(stored(employment={"status": "employed"}))
    assert {"employment.employer", "employment.occupation", "employment.industry"} <= set(lacking)
    assert "agreements.margin_agreement" in lacking
