"""Audit events of API keys written by the buffered writer: refused signed requests."""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.apikeys.models import is_key_id
from tradeguard.apikeys.signed_request import SignedRequest
from tradeguard.apikeys.signing import HEADER_KEY
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor, EventRecord
from tradeguard.core.clock import ns_to_rfc3339

REFUSED = "apikey.request.refused"


@dataclass(frozen=True, slots=True)
class RefusedRequest:
    """A signed request that was refused: which key it named, why, from where, when."""

    key_id: str
    reason: str
    ip: str | None
    route: str
    request_id: str | None
    at_ns: int

    @classmethod
    def of(cls, request: SignedRequest, reason: str, at_ns: int) -> RefusedRequest:
        """The event of refusing ``request`` for ``reason``."""
        return cls(
            key_id=_recordable_key_id(request.headers.get(HEADER_KEY, "")),
            reason=reason,
            ip=request.ip,
            route=request.route,
            request_id=request.request_id,
            at_ns=at_ns,
        )

    def draft(self, audit: AuditTrail) -> EventRecord:
        """This event, for the buffered writer to number and chain with its batch."""
        return audit.draft(
            REFUSED,
            Actor("apikey", self.key_id, ip=self.ip),
            subject=self.key_id,
            data={"reason": self.reason, "route": self.route, "at": ns_to_rfc3339(self.at_ns)},
            request_id=self.request_id,
        )


def _recordable_key_id(presented: str) -> str:
    """The key id as sent when it has the shape of one, else ``invalid`` (never raw input)."""
    return presented if is_key_id(presented) else "invalid"
