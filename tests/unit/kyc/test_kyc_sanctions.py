"""What onboarding screens of an applicant, and how a clearance is remembered."""

from __future__ import annotations

from datetime import date

from tradeguard.kyc.sanctions import alpha2, evidence_of, hit_key, hit_keys, subject_of
from tradeguard.kyc.sanctions_alerts import alert_evidence, matched_fields
from tradeguard.screening.decisions import OtherMatch, ScreeningDecision


def test_the_subject_when_built_then_name_in_order_birth_date_and_two_letter_country() -> None:
    answers = {
        "legal_name": {"given": "Nicolas", "family": "Maduro Moros"},
        "date_of_birth": "1962-11-23",
        "citizenship": "VEN",
    }
    subject = subject_of(answers)
    assert (subject.name, subject.dob, subject.country) == (
        "Nicolas Maduro Moros",
        date(1962, 11, 23),
        "VE",
    )


def test_a_country_code_when_iso_does_not_list_it_then_none() -> None:
    assert alpha2("USA") == "US"
    assert alpha2("UTO") is None
    assert alpha2(None) is None


def hit(score: float, name: str, digest: str = "d1") -> ScreeningDecision:
    return ScreeningDecision(
        match=True,
        score=score,
        ent_num="22151",
        matched_name=name,
        list_name="ofac-sdn",
        entry_digest=digest,
    )


def test_a_clearance_key_when_the_entry_changes_then_differs() -> None:
    assert hit_key(hit(0.93, "MADURO MOROS, Nicolas")) != hit_key(
        hit(0.93, "MADURO MOROS, Nicolas", digest="d2")
    )


def test_a_clearance_key_when_the_matched_name_changes_then_differs() -> None:
    first = hit(0.93, "MADURO MOROS, Nicolas")
    assert hit_key(first) != hit_key(hit(0.93, "MADURO, Nicolas"))
    assert hit_key(first) == hit_key(hit(0.99, "MADURO MOROS, Nicolas"))


def test_clearance_keys_when_namesakes_also_match_then_each_must_be_cleared() -> None:
    namesake = OtherMatch("30001", "MADURO MOROS, Nicolas", 0.9, "d9")
    decision = hit(0.93, "MADURO MOROS, Nicolas")
    with_namesake = ScreeningDecision(
        match=True,
        score=0.93,
        ent_num="22151",
        matched_name="MADURO MOROS, Nicolas",
        list_name="ofac-sdn",
        entry_digest="d1",
        also_matched=(namesake,),
    )
    assert hit_keys(decision) == [hit_key(decision)]
    keys = hit_keys(with_namesake)
    assert keys[0] == hit_key(decision)
    assert keys[1] == "ofac-sdn|30001|MADURO MOROS, Nicolas|d9"
    assert evidence_of(with_namesake)["also_keys"] == keys[1:]


def test_the_evidence_when_stored_then_the_score_is_a_decimal_string() -> None:
    decision = ScreeningDecision(
        match=True, score=0.912345, ent_num="1", matched_name="X", reasons=["r"]
    )
    stored = evidence_of(decision)
    assert stored["score"] == "0.9123"
    assert stored["reasons"] == ["r"]


def test_alert_evidence_when_built_then_the_list_side_and_the_fields_that_agreed() -> None:
    found = {
        "list_name": "ofac-sdn",
        "list_version": "v7",
        "ent_num": "22151",
        "matched_name": "MADURO MOROS, Nicolas",
        "score": "0.9900",
        "key": "ofac-sdn|22151|MADURO MOROS, Nicolas|d1",
        "reasons": [
            "name 0.93 against primary name 'MADURO MOROS, Nicolas': MADURO exact 1.00",
            "date of birth agrees with 23 Nov 1962: +0.05",
            "country VE not on the entry: -0.03",
        ],
    }
    evidence = alert_evidence(found)
    assert evidence["matched_fields"] == ["name", "date_of_birth"]
    assert (evidence["list_version"], evidence["ent_num"], evidence["hit"]) == (
        "v7",
        "22151",
        found["key"],
    )
    assert matched_fields(["country VE agrees (VENEZUELA): +0.03"]) == ["name", "country"]
    assert matched_fields(["date of birth near 1962: does not clear"]) == ["name"]
