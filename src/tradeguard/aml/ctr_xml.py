"""A CTR (FinCEN BSA E-Filing form ``CTRX``) for one customer's cash on one business day."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import date

from lxml import etree

from tradeguard.aml.currency_reports import CashDay, CashDirection
from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.fincen_xml import (
    YES,
    BatchWriter,
    PartyType,
    address_block,
    clean,
    contact_party,
    identification_block,
    institution_party,
    legal_name,
    new_batch,
    person_name,
    serialize,
    transmitter_parties,
    whole_dollars,
    yyyymmdd,
)
from tradeguard.aml.transactions import CustomerProfile

CASH_IN_ACCOUNT = "8"
CASH_OUT_ACCOUNT = "9"
DEPOSITS = "55"
WITHDRAWALS = "56"
MAX_ACCOUNTS = 198
SSN_OR_ITIN = "1"
"""``PartyIdentificationTypeCode`` of a US taxpayer id (SSN or ITIN)."""


@dataclass(frozen=True, slots=True)
class VerifiedSubject:
    """What onboarding verified of the person a CTR names (from their approved application)."""

    last_name: str
    first_name: str
    middle_name: str
    dob: str
    street: str
    city: str
    state: str
    zip_code: str
    tin: str
    """The SSN or ITIN, digits only."""


@dataclass(frozen=True, slots=True)
class CurrencyReport:
    """What one CTR reports: the person, the day and the directions that exceeded the threshold."""

    profile: CustomerProfile
    cash_day: CashDay
    report_in: bool
    report_out: bool
    verified: VerifiedSubject | None = None
    """The person's identity from onboarding; without it the CTR says what is unknown."""

    @property
    def cash_in_cents(self) -> int:
        """Cash in reported (0 when that direction is not reported)."""
        return self.cash_day.cash_in.cents if self.report_in else 0

    @property
    def cash_out_cents(self) -> int:
        """Cash out reported (0 when that direction is not reported)."""
        return self.cash_day.cash_out.cents if self.report_out else 0


def _amount(cents: int) -> str:
    return whole_dollars(cents) if cents else ""


@dataclass(frozen=True, slots=True)
class CtrTemplate:
    """What every CTR of one filer and filing date holds before its subject: built once.

    ``root`` is the batch with its activity open after the filer's parties; ``next_seq`` the
    SeqNum its subject party takes.
    """

    root: etree._Element
    next_seq: int


def ctr_template(filer: FilingInstitution, filed_on: date) -> CtrTemplate:
    """The filer's part of the CTRs it files on ``filed_on``."""
    w = new_batch("CTRX")
    with w.element("Activity"):
        w.text("FilingDateText", yyyymmdd(filed_on))
        with w.element("ActivityAssociation"):
            w.text("CorrectsAmendsPriorReportIndicator", "")
            w.text("FinCENDirectBackFileIndicator", "")
            w.text("InitialReportIndicator", YES)
        transmitter_parties(w, filer)
        institution_party(w, filer, PartyType.FILING_INSTITUTION)
        contact_party(w, filer)
        institution_party(w, filer, PartyType.TRANSACTION_LOCATION)
    return CtrTemplate(w.root, w.next_seq)


def build_ctr(
    report: CurrencyReport,
    filer: FilingInstitution,
    filed_on: date,
    template: CtrTemplate | None = None,
) -> bytes:
    """The CTR as one batch file holding one activity.

    ``template`` (from ``ctr_template`` for the same filer and date) saves building the
    filer's parties again for each of many CTRs; the document is the same without it.
    """
    template = template or ctr_template(filer, filed_on)
    root = deepcopy(template.root)
    w = BatchWriter(root, template.next_seq, stack=[root[-1]])  # into the open activity
    _subject_party(w, report)
    _activity(w, report)
    total = _whole(report.cash_in_cents) + _whole(report.cash_out_cents)
    w.root.set("TotalAmount", str(total))
    w.root.set("PartyCount", "1")
    w.root.set("ActivityCount", "1")
    return serialize(w)


def _whole(cents: int) -> int:
    return int(whole_dollars(cents)) if cents else 0


def _subject_party(w: BatchWriter, report: CurrencyReport) -> None:
    profile, verified = report.profile, report.verified
    dob = verified.dob if verified is not None else profile.dob
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", PartyType.CONDUCTOR_OWN_BEHALF)
        if not dob:
            w.text("BirthDateUnknownIndicator", YES)
        w.text("IndividualBirthDateText", dob.replace("-", ""))
        w.text("IndividualEntityCashInAmountText", _amount(report.cash_in_cents))
        w.text("IndividualEntityCashOutAmountText", _amount(report.cash_out_cents))
        w.text("UnknownGenderIndicator", YES)
        if verified is None:
            person_name(w, profile.name)
            _unknown_address(w, profile.country)
            with w.element("PartyIdentification"):
                w.text("TINUnknownIndicator", YES)
        else:
            legal_name(w, verified.last_name, verified.first_name, verified.middle_name)
            address_block(w, verified)
            identification_block(w, verified.tin, SSN_OR_ITIN)
        if profile.occupation:
            with w.element("PartyOccupationBusiness"):
                w.text("OccupationBusinessText", clean(profile.occupation, 50))
        _accounts(w, report)


def _unknown_address(w: BatchWriter, country: str) -> None:
    with w.element("Address"):
        w.text("CityUnknownIndicator", YES)
        if len(country) != 2:  # noqa: PLR2004 - ISO alpha-2
            w.text("CountryCodeUnknownIndicator", YES)
        else:
            w.text("RawCountryCodeText", country.upper())
        w.text("StateCodeUnknownIndicator", YES)
        w.text("StreetAddressUnknownIndicator", YES)
        w.text("ZIPCodeUnknownIndicator", YES)


def _accounts(w: BatchWriter, report: CurrencyReport) -> None:
    directions: list[tuple[CashDirection, str]] = []
    if report.report_in:
        directions.append((report.cash_day.cash_in, CASH_IN_ACCOUNT))
    if report.report_out:
        directions.append((report.cash_day.cash_out, CASH_OUT_ACCOUNT))
    listed = [(a, code) for d, code in directions for a in sorted(d.accounts)][:MAX_ACCOUNTS]
    for account, code in listed:
        with w.element("Account"):
            w.text("AccountNumberText", clean(account, 40))
            with w.element("PartyAccountAssociation"):
                w.text("PartyAccountAssociationTypeCode", code)


def _activity(w: BatchWriter, report: CurrencyReport) -> None:
    day = report.cash_day
    with w.element("CurrencyTransactionActivity"):
        several = len(day.cash_in.transactions) + len(day.cash_out.transactions) > 1
        w.text("AggregateTransactionIndicator", YES if several else "")
        for indicator in ("ArmoredCarService", "ATM", "MailDepositShipment", "NightDeposit"):
            w.text(f"{indicator}Indicator", "")
        w.text("SharedBranchingIndicator", "")
        w.text("TotalCashInReceiveAmountText", _amount(report.cash_in_cents))
        w.text("TotalCashOutAmountText", _amount(report.cash_out_cents))
        w.text("TransactionDateText", yyyymmdd(day.day))
        for cents, code in ((report.cash_in_cents, DEPOSITS), (report.cash_out_cents, WITHDRAWALS)):
            if cents:
                _detail(w, code, cents)


def _detail(w: BatchWriter, code: str, cents: int) -> None:
    with w.element("CurrencyTransactionActivityDetail"):
        w.text("CurrencyTransactionActivityDetailTypeCode", code)
        w.text("DetailTransactionAmountText", whole_dollars(cents))
        w.text("OtherCurrencyTransactionActivityDetailText", "")
        w.text("OtherForeignCurrencyCountryText", "")
