"""Building blocks of FinCEN BSA E-Filing batch XML shared by CTRs and SARs."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from lxml import etree

from tradeguard.aml.filer import FilingInstitution

NAMESPACE = "www.fincen.gov/base"
YES = "Y"
_SPACES = re.compile(r"\s+")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


class PartyType:
    """Activity party type codes used here (FinCEN's ``ActivityPartyTypeCode``)."""

    TRANSMITTER = "35"
    TRANSMITTER_CONTACT = "37"
    FILING_INSTITUTION = "30"
    TRANSACTION_LOCATION = "34"
    CONTACT_FOR_ASSISTANCE = "8"
    CONDUCTOR_OWN_BEHALF = "50"


SEC_REGULATOR = "6"
SECURITIES_FUTURES = "5"
EIN_ID = "2"
TCC_ID = "28"


def clean(text: str, limit: int) -> str:
    """``text`` as FinCEN accepts it: printable, single spaces, no edges, at most ``limit``."""
    return _SPACES.sub(" ", _UNPRINTABLE.sub(" ", text)).strip()[:limit].strip()


def prose(text: str) -> str:
    """Free text (a narrative) with line breaks kept and characters XML cannot hold removed."""
    return _NOT_XML.sub("", text).strip()


def whole_dollars(cents: int) -> str:
    """An amount as FinCEN's reports take it: whole dollars, cents rounded up."""
    return str(math.ceil(cents / 100))


def yyyymmdd(day: date) -> str:
    """A date as FinCEN writes it."""
    return day.strftime("%Y%m%d")


@dataclass(slots=True)
class BatchWriter:
    """Builds one batch document; hands out the SeqNum every element needs."""

    root: etree._Element
    next_seq: int = 1
    parties: int = 0
    stack: list[etree._Element] = field(default_factory=list)

    def seq(self) -> str:
        """The next SeqNum, unique in the document."""
        value, self.next_seq = self.next_seq, self.next_seq + 1
        return str(value)

    @property
    def here(self) -> etree._Element:
        """The element children are added to."""
        return self.stack[-1] if self.stack else self.root

    def text(self, name: str, value: str) -> None:
        """Add ``<name>value</name>`` under the current element."""
        etree.SubElement(self.here, f"{{{NAMESPACE}}}{name}").text = value

    @contextmanager
    def element(self, name: str, *, numbered: bool = True) -> Iterator[etree._Element]:
        """Open ``<name SeqNum=..>`` under the current element for the block's children."""
        node = etree.SubElement(self.here, f"{{{NAMESPACE}}}{name}")
        if numbered:
            node.set("SeqNum", self.seq())
        self.stack.append(node)
        try:
            yield node
        finally:
            self.stack.pop()


def new_batch(form: str) -> BatchWriter:
    """An empty batch of ``form`` (``CTRX`` or ``SARX``)."""
    root = etree.Element(f"{{{NAMESPACE}}}EFilingBatchXML", nsmap={"fc2": NAMESPACE})
    writer = BatchWriter(root)
    writer.text("FormTypeCode", form)
    return writer


def serialize(writer: BatchWriter) -> bytes:
    """The batch as UTF-8 XML bytes with declaration."""
    data: bytes = etree.tostring(
        writer.root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return data


def name_block(w: BatchWriter, full_name: str, *, code: str = "L") -> None:
    """A ``PartyName`` holding an organisation's or office's full name."""
    with w.element("PartyName"):
        w.text("PartyNameTypeCode", code)
        w.text("RawPartyFullName", clean(full_name, 150))


class UsAddress(Protocol):
    """A US postal address (the filer's, or a person's)."""

    @property
    def street(self) -> str:
        """Street, number and unit."""
        ...

    @property
    def city(self) -> str:
        """The city."""
        ...

    @property
    def state(self) -> str:
        """The state's two-letter code."""
        ...

    @property
    def zip_code(self) -> str:
        """The ZIP code, five or nine digits."""
        ...


def address_block(w: BatchWriter, place: UsAddress) -> None:
    """A US address (a ZIP+4 written without its hyphen)."""
    with w.element("Address"):
        w.text("RawCityText", clean(place.city, 50))
        w.text("RawCountryCodeText", "US")
        w.text("RawStateCodeText", place.state)
        w.text("RawStreetAddress1Text", clean(place.street, 100))
        w.text("RawZIPCode", place.zip_code.replace("-", ""))


def identification_block(w: BatchWriter, number: str, type_code: str) -> None:
    """A ``PartyIdentification`` of ``type_code`` (EIN, TCC, ...)."""
    with w.element("PartyIdentification"):
        w.text("PartyIdentificationNumberText", number)
        w.text("PartyIdentificationTypeCode", type_code)


def phone_block(w: BatchWriter, phone: str) -> None:
    """A ``PhoneNumber``."""
    with w.element("PhoneNumber"):
        w.text("PhoneNumberText", phone)


def transmitter_parties(w: BatchWriter, filer: FilingInstitution) -> None:
    """The transmitter (35) and transmitter contact (37) parties: the filer itself."""
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", PartyType.TRANSMITTER)
        name_block(w, filer.name)
        address_block(w, filer)
        phone_block(w, filer.contact_phone)
        identification_block(w, filer.transmitter_control_code, TCC_ID)
        identification_block(w, filer.ein, "4")
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", PartyType.TRANSMITTER_CONTACT)
        name_block(w, filer.contact_name)


def institution_party(w: BatchWriter, filer: FilingInstitution, party_type: str) -> None:
    """The filer as reporting institution (30) or place of the transaction (34)."""
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", party_type)
        w.text("PrimaryRegulatorTypeCode", SEC_REGULATOR)
        name_block(w, filer.name)
        address_block(w, filer)
        identification_block(w, filer.ein, EIN_ID)
        with w.element("OrganizationClassificationTypeSubtype"):
            w.text("OrganizationTypeID", SECURITIES_FUTURES)


def contact_party(w: BatchWriter, filer: FilingInstitution) -> None:
    """The office to contact for assistance (8)."""
    with w.element("Party"):
        w.text("ActivityPartyTypeCode", PartyType.CONTACT_FOR_ASSISTANCE)
        name_block(w, filer.contact_name)
        phone_block(w, filer.contact_phone)


def person_name(w: BatchWriter, full_name: str) -> None:
    """A person's legal name given as one text, split into its parts.

    The last word is the last name, the first the first name, any between middle names.
    """
    parts = [p for p in clean(full_name, 400).split(" ") if p]
    if len(parts) < 2:  # noqa: PLR2004 - a first name needs a second word
        legal_name(w, "".join(parts), "", "")
    else:
        legal_name(w, parts[-1], parts[0], " ".join(parts[1:-1]))


def legal_name(w: BatchWriter, last: str, first: str, middle: str) -> None:
    """A person's legal name in its parts ("" for a part not known)."""
    last, first, middle = clean(last, 150), clean(first, 35), clean(middle, 35)
    with w.element("PartyName"):
        if not last:
            w.text("EntityLastNameUnknownIndicator", YES)
        if not first:
            w.text("FirstNameUnknownIndicator", YES)
        w.text("PartyNameTypeCode", "L")
        if last:
            w.text("RawEntityIndividualLastName", last)
        if first:
            w.text("RawIndividualFirstName", first)
        if middle:
            w.text("RawIndividualMiddleName", middle)
