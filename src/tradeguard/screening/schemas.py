"""Request and response shapes of the staff screening API."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.models import ListVersionRow
from tradeguard.web.bodies import Body

ScreenedName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$")]


class ScreenRequest(Body):
    """A name to screen, with what is known of its date of birth and country."""

    name: ScreenedName
    dob: date | None = Field(default=None, description="Date of birth, YYYY-MM-DD")
    country: CountryCode | None = Field(
        default=None, description="ISO 3166 alpha-2 of nationality or residence"
    )

    def subject(self) -> ScreeningSubject:
        """The subject this request screens."""
        return ScreeningSubject(self.name, self.dob, self.country.upper() if self.country else None)


class ScreeningResultView(BaseModel):
    """The screening decision: a potential match for review or not, and why."""

    match: bool = Field(description="A potential match that must go to review")
    score: float = Field(ge=0, le=1)
    ent_num: str | None = Field(description="The best entry when it scores above 0.5")
    matched_name: str | None
    reasons: list[str]
    list: str | None
    list_version: str | None

    @classmethod
    def of(cls, decision: ScreeningDecision) -> ScreeningResultView:
        """The view of ``decision``."""
        return cls(
            match=decision.match,
            score=round(decision.score, 4),
            ent_num=decision.ent_num,
            matched_name=decision.matched_name,
            reasons=decision.reasons,
            list=decision.list_name,
            list_version=decision.list_version,
        )


class ListVersionView(BaseModel):
    """A loaded list version: when, by whom, from which files, with how many rows."""

    list: str
    version: str
    loaded_at: str
    loaded_by: str
    entries: int
    aliases: int
    addresses: int
    file_sha256: dict[str, str]

    @classmethod
    def of(cls, row: ListVersionRow) -> ListVersionView:
        """The view of a stored version."""
        return cls(
            list=row.list_name,
            version=row.id,
            loaded_at=ns_to_rfc3339(row.loaded_at_ns),
            loaded_by=row.loaded_by,
            entries=row.entry_count,
            aliases=row.alias_count,
            addresses=row.address_count,
            file_sha256=json.loads(row.file_hashes),
        )
