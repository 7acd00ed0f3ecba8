"""A SAR (FinCEN BSA E-Filing form ``SARX``) built from a draft."""

from __future__ import annotations

from datetime import date

from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.fincen_xml import (
    EIN_ID,
    YES,
    BatchWriter,
    PartyType,
    clean,
    contact_party,
    institution_party,
    new_batch,
    person_name,
    prose,
    serialize,
    transmitter_parties,
    whole_dollars,
    yyyymmdd,
)
from tradeguard.aml.sar import CLASSIFICATIONS, SarDraft

SUBJECT = "33"
ACCOUNT_HOLDER_INSTITUTION = "41"
ACTIVITY_AFFECTED_ACCOUNT = "7"
INSTITUTION_HOLDING_ACCOUNT = "5"
NARRATIVE_BLOCK = 4000
MAX_ACCOUNTS = 99


def build_sar(draft: SarDraft, filer: FilingInstitution, filed_on: date) -> bytes:
    """The SAR as one batch file holding one activity."""
    w = new_batch("SARX")
    with w.element("Activity"):
        if draft.prior_document is not None:
            w.text("EFilingPriorDocumentNumber", str(draft.prior_document))
        w.text("FilingDateText", yyyymmdd(filed_on))
        with w.element("ActivityAssociation"):
            continuing = draft.prior_document is not None
            w.text("ContinuingActivityReportIndicator", YES if continuing else "")
            w.text("InitialReportIndicator", "" if continuing else YES)
        transmitter_parties(w, filer)
        institution_party(w, filer, PartyType.FILING_INSTITUTION)
        contact_party(w, filer)
        institution_party(w, filer, PartyType.TRANSACTION_LOCATION)
        _subject(w, draft, filer)
        _suspicious_activity(w, draft)
        _narrative(w, draft.narrative)
    amount = whole_dollars(draft.amount_cents) if draft.amount_cents else "0"
    for name, value in (("TotalAmount", amount), ("PartyCount", "1"), ("ActivityCount", "1"),
                        ("ActivityAttachmentCount", "0"), ("AttachmentCount", "0")):  # fmt: skip
        w.root.set(name, value)
    return serialize(w)


def _subject(w: BatchWriter, draft: SarDraft, filer: FilingInstitution) -> None:
    subject = draft.subject
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", SUBJECT)
        if not draft.suspect_identified:
            w.text("AllCriticalSubjectInformationUnavailableIndicator", YES)
        if not subject.dob:
            w.text("BirthDateUnknownIndicator", YES)
        w.text("IndividualBirthDateText", subject.dob.replace("-", ""))
        w.text("UnknownGenderIndicator", YES)
        if draft.suspect_identified:
            person_name(w, subject.name)
            with w.element("PartyIdentification"):
                w.text("TINUnknownIndicator", YES)
        if subject.occupation:
            with w.element("PartyOccupationBusiness"):
                w.text("OccupationBusinessText", clean(subject.occupation, 50))
        _accounts(w, draft, filer)


def _accounts(w: BatchWriter, draft: SarDraft, filer: FilingInstitution) -> None:
    with w.element("PartyAccountAssociation"):
        w.text("PartyAccountAssociationTypeCode", ACTIVITY_AFFECTED_ACCOUNT)
        with w.element("Party"):
            w.text("ActivityPartyTypeCode", ACCOUNT_HOLDER_INSTITUTION)
            with w.element("PartyIdentification"):
                w.text("PartyIdentificationNumberText", filer.ein)
                w.text("PartyIdentificationTypeCode", EIN_ID)
            for account in draft.accounts[:MAX_ACCOUNTS]:
                with w.element("Account"):
                    w.text("AccountNumberText", clean(account, 40))
                    with w.element("PartyAccountAssociation"):
                        w.text("PartyAccountAssociationTypeCode", INSTITUTION_HOLDING_ACCOUNT)


def _suspicious_activity(w: BatchWriter, draft: SarDraft) -> None:
    with w.element("SuspiciousActivity"):
        if not draft.amount_cents:
            w.text("NoAmountInvolvedIndicator", YES)
        w.text("SuspiciousActivityFromDateText", yyyymmdd(draft.activity_from))
        w.text("SuspiciousActivityToDateText", yyyymmdd(draft.activity_to))
        if draft.amount_cents:
            w.text("TotalSuspiciousAmountText", whole_dollars(draft.amount_cents))
        codes = sorted({CLASSIFICATIONS[t] for t in draft.typologies}, key=lambda c: c[1])
        for type_id, subtype_id in codes:
            with w.element("SuspiciousActivityClassification"):
                w.text("SuspiciousActivitySubtypeID", subtype_id)
                w.text("SuspiciousActivityTypeID", type_id)


def _narrative(w: BatchWriter, narrative: str) -> None:
    text = prose(narrative) or "No narrative."
    blocks = [text[i : i + NARRATIVE_BLOCK] for i in range(0, len(text), NARRATIVE_BLOCK)][:5]
    for number, block in enumerate(blocks, 1):
        with w.element("ActivityNarrativeInformation"):
            w.text("ActivityNarrativeSequenceNumber", str(number))
            w.text("ActivityNarrativeText", block)
