"""The filing institution named on every CTR and SAR, from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.config import Settings


@dataclass(frozen=True, slots=True)
class FilingInstitution:
    """Who files: legal name, EIN, address, the contact office and the transmitter code."""

    name: str
    ein: str
    street: str
    city: str
    state: str
    zip_code: str
    contact_name: str
    contact_phone: str
    transmitter_control_code: str


def filer_from(settings: Settings) -> FilingInstitution:
    """The filing institution the settings describe."""
    return FilingInstitution(
        name=settings.aml_filer_name,
        ein=settings.aml_filer_ein,
        street=settings.aml_filer_street,
        city=settings.aml_filer_city,
        state=settings.aml_filer_state,
        zip_code=settings.aml_filer_zip,
        contact_name=settings.aml_filer_contact_name,
        contact_phone=settings.aml_filer_contact_phone,
        transmitter_control_code=settings.aml_transmitter_control_code,
    )
