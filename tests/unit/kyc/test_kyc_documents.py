"""Document checks: type by content, size, decompression bombs, metadata, MRZ check digits."""

from __future__ import annotations

import io
from datetime import date

import pytest
from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator
from PIL import Image

from tradeguard.kyc.mrz_check import MrzFacts, cross_check, mrz_consistent, parse_mrz
from tradeguard.kyc.problems import FieldError, KycReason
from tradeguard.kyc.uploads import JPEG, PDF, UploadRefused, clean_upload

LIMITS = {"max_bytes": 1_000_000, "max_pixels": 1_000_000}
TODAY = date(2026, 12, 6)
ANSWERS = {"legal_name": {"given": "Anna", "family": "Eriksson"}, "date_of_birth": "1974-08-12"}


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def refusal(content: bytes, **limits: int) -> KycReason:
    with pytest.raises(UploadRefused) as refused:
        clean_upload(content, **(LIMITS | limits))
    return refused.value.reason


def test_a_jpeg_when_stored_then_its_exif_is_gone() -> None:
    original = jpeg_with_exif()
    assert b"SecretCamera" in original
    clean = clean_upload(original, **LIMITS)
    assert clean.media_type == JPEG
    assert b"SecretCamera" not in clean.content
    assert b"Exif" not in clean.content


def test_a_file_when_named_an_image_but_is_not_then_refused_by_content() -> None:
    assert refusal(b"MZ\x90\x00 windows executable") is KycReason.DOCUMENT_TYPE
    assert refusal(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is KycReason.DOCUMENT_TYPE


def test_a_file_when_over_the_size_limit_then_refused_before_decoding() -> None:
    assert (
        refusal(b"\x89PNG\r\n\x1a\n" + b"0" * 2000, max_bytes=1000) is KycReason.DOCUMENT_TOO_LARGE
    )


def test_a_decompression_bomb_when_uploaded_then_refused_from_its_header() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    assert len(out.getvalue()) < LIMITS["max_bytes"]
    assert refusal(out.getvalue()) is KycReason.DOCUMENT_TOO_LARGE


def test_a_truncated_image_when_uploaded_then_unreadable() -> None:
    assert refusal(jpeg_with_exif()[:40]) is KycReason.DOCUMENT_UNREADABLE


def test_a_pdf_when_plain_then_kept_and_with_javascript_refused() -> None:
    plain = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
    assert clean_upload(plain, **LIMITS).media_type == PDF
    scripted = b"%PDF-1.4\n1 0 obj << /OpenAction << /JS (app.alert(1)) >> >> endobj\n%%EOF"
    assert refusal(scripted) is KycReason.DOCUMENT_TYPE
    assert refusal(b"%PDF-1.4\n1 0 obj") is KycReason.DOCUMENT_UNREADABLE


def icao_passport(expires: str = "320415") -> str:
    return str(
        TD3CodeGenerator(
            "P", "UTO", "Eriksson", "Anna Maria", "L898902C3", "UTO", "740812", "F", expires
        )
    )


def test_a_passport_mrz_when_valid_then_parsed_and_matches_the_application() -> None:
    facts = parse_mrz(icao_passport(), "passport")
    assert isinstance(facts, MrzFacts)
    assert (facts.surname, facts.given_names, facts.expiry) == (
        "ERIKSSON",
        "ANNA MARIA",
        date(2032, 4, 15),
    )
    result = cross_check(facts, ANSWERS, TODAY)
    assert mrz_consistent(result)


def test_a_passport_mrz_when_a_check_digit_is_wrong_then_refused() -> None:
    first, second = icao_passport().splitlines()
    wrong = "0" if second[19] != "0" else "1"  # the birth date's check digit
    broken = f"{first}\n{second[:19]}{wrong}{second[20:]}"
    result = parse_mrz(broken, "passport")
    assert isinstance(result, FieldError)
    assert result.reason is KycReason.MRZ_CHECK_DIGIT
    assert "birth" in result.message


def test_an_mrz_when_of_another_layout_then_invalid() -> None:
    assert isinstance(parse_mrz("P<UTO", "passport"), FieldError)
    card = str(
        TD1CodeGenerator(
            "I", "UTO", "D23145890", "740812", "F", "320415", "UTO", "Eriksson", "Anna"
        )
    )
    assert isinstance(parse_mrz(card, "national_id"), MrzFacts)
    assert isinstance(parse_mrz(card, "passport"), FieldError)


def test_an_mrz_when_names_or_birth_date_differ_then_inconsistent() -> None:
    facts = parse_mrz(icao_passport(), "passport")
    assert isinstance(facts, MrzFacts)
    other = {"legal_name": {"given": "Anna", "family": "Larsson"}, "date_of_birth": "1974-08-12"}
    assert not mrz_consistent(cross_check(facts, other, TODAY))
    older = {**ANSWERS, "date_of_birth": "1975-08-12"}
    assert not mrz_consistent(cross_check(facts, older, TODAY))


def test_an_expired_passport_when_checked_then_marked_expired() -> None:
    facts = parse_mrz(icao_passport(expires="200101"), "passport")
    assert isinstance(facts, MrzFacts)
    assert cross_check(facts, ANSWERS, TODAY)["expired"] is True
