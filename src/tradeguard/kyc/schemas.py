"""Request and response shapes of onboarding: the application form, documents, decisions.

Shapes only: every field of the form is optional in a draft, and what a value must be
(a valid SSN, an adult's birth date, a street address) is checked by
``tradeguard.kyc.answers`` so that each refusal carries its own reason code.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from tradeguard.core.labels import Printable
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body

Text100 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), Printable]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), Printable]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=24), Printable]


class EmploymentStatus(StrEnum):
    """What the applicant does for a living."""

    EMPLOYED = "employed"
    SELF_EMPLOYED = "self_employed"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    STUDENT = "student"


class Industry(StrEnum):
    """The employer's industry; the last four are cash-intensive (a risk factor)."""

    FINANCE = "finance"
    TECHNOLOGY = "technology"
    HEALTHCARE = "healthcare"
    EDUCATION = "education"
    GOVERNMENT = "government"
    RETAIL = "retail"
    MANUFACTURING = "manufacturing"
    CONSTRUCTION = "construction"
    LEGAL = "legal"
    REAL_ESTATE = "real_estate"
    HOSPITALITY = "hospitality"
    OTHER = "other"
    GAMBLING = "gambling"
    MONEY_SERVICES = "money_services"
    PRECIOUS_METALS = "precious_metals"
    ARMS = "arms"


class Band(StrEnum):
    """A range of dollars, for annual income and net worth."""

    UNDER_25K = "under_25k"
    FROM_25K = "25k_50k"
    FROM_50K = "50k_100k"
    FROM_100K = "100k_250k"
    FROM_250K = "250k_1m"
    OVER_1M = "over_1m"


class SourceOfFunds(StrEnum):
    """Where the money to be invested comes from."""

    EMPLOYMENT = "employment"
    SAVINGS = "savings"
    INVESTMENTS = "investments"
    RETIREMENT = "retirement"
    INHERITANCE = "inheritance"
    BUSINESS = "business"
    GIFT = "gift"
    OTHER = "other"


class Objective(StrEnum):
    """What the applicant wants from the account."""

    PRESERVATION = "preservation"
    INCOME = "income"
    GROWTH = "growth"
    SPECULATION = "speculation"


class Experience(StrEnum):
    """How much the applicant has traded before."""

    NONE = "none"
    LIMITED = "limited"
    GOOD = "good"
    EXTENSIVE = "extensive"


class Agreement(StrEnum):
    """The agreements and consents an application records, each at a version."""

    CUSTOMER = "customer_agreement"
    PRIVACY = "privacy_notice"
    ESIGN = "esign_consent"
    MARGIN = "margin_agreement"


class LegalName(Body):
    """The name as on the identity document."""

    given: Text100 | None = None
    middle: Text100 | None = None
    family: Text100 | None = None


class Employment(Body):
    """Employment: status, and for the employed, where and as what."""

    status: EmploymentStatus | None = None
    employer: Text100 | None = None
    occupation: Text100 | None = None
    industry: Industry | None = None


class Affiliations(Body):
    """FINRA 3210/4512 questions and the politically exposed person declaration."""

    broker_dealer: bool | None = None
    exchange_or_finra: bool | None = None
    public_company_insider: bool | None = None
    insider_company: Text100 | None = None
    politically_exposed: bool | None = None


class AcceptedAgreement(Body):
    """An agreement the applicant accepted, at the version they were shown."""

    name: Agreement
    version: Short


class ApplicationDraft(Body):
    """Any part of the form; what is sent replaces what was saved, what is not is kept."""

    legal_name: LegalName | None = None
    date_of_birth: date | None = None
    tax_id: Short | None = None
    residential_address: Text200 | None = None
    citizenship: Short | None = None
    residence_country: Short | None = None
    phone: Short | None = None
    employment: Employment | None = None
    affiliations: Affiliations | None = None
    annual_income: Band | None = None
    net_worth: Band | None = None
    source_of_funds: SourceOfFunds | None = None
    investment_objective: Objective | None = None
    investment_experience: Experience | None = None
    account_kind: Literal["cash", "margin"] | None = None
    agreements: list[AcceptedAgreement] | None = None


class ApplicationOut(BaseModel):
    """The applicant's own application: their answers (tax id masked) and where it stands."""

    id: str
    status: str
    version: int
    answers: dict[str, Any]
    tax_id: str | None
    account_kind: str | None
    agreements: list[dict[str, Any]]
    missing: list[str]
    documents: list[dict[str, Any]]
    information_requested: str | None
    account_id: str | None
    created_at: str
    updated_at: str
    submitted_at: str | None
    decided_at: str | None


class Decision(Body):
    """A reviewer's decision on the version of the application they read."""

    version: int
    note: Reason


class Rejection(Decision):
    """A rejection names its reason."""

    reason_code: Literal[
        "KYC_IDENTITY_UNVERIFIED",
        "KYC_DOCUMENT_FRAUD",
        "KYC_SANCTIONS_MATCH",
        "KYC_RISK_UNACCEPTABLE",
        "KYC_DUPLICATE_CUSTOMER",
        "KYC_OTHER",
    ]


class MrzIn(Body):
    """The machine-readable zone of a passport or ID card, as printed (one line per row)."""

    mrz: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class QueueItem(BaseModel):
    """One application in the review queue."""

    id: str
    status: str
    version: int
    applicant: str
    risk_level: str | None
    account_kind: str | None
    account_class: str | None
    submitted_at: str | None
    failed_checks: list[str]


class ReviewView(BaseModel):
    """Everything a reviewer decides from, side by side."""

    id: str
    user_id: str
    status: str
    version: int
    answers: dict[str, Any]
    tax_id: str | None
    account_kind: str | None
    account_class: str | None
    agreements: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    risk_level: str | None
    risk_factors: list[dict[str, Any]]
    screening: dict[str, Any]
    documents: list[dict[str, Any]]
    first_approval_by: str | None
    decided_by: str | None
    decision_reason: str | None
    account_id: str | None
    retention_years: int
    retain_until: str | None = Field(
        description="End of retention; none while the account is open (kept until it closes)"
    )
    retention_basis: str | None = Field(description="The rule the retention period follows")
    screening_retain_until: str | None = Field(
        description="End of retention of the sanctions screening result"
    )
    submitted_at: str | None
