"""Real-time email to compliance when a new alert scores high (queued in its transaction)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import ALERT_RAISED
from tradeguard.identity.notices import Notices, VerifiedAddress


class HighScoreEmail:
    """Queues one email to ``compliance_email`` per new alert at or above ``min_score``."""

    def __init__(self, notices: Notices, address: str, min_score: float) -> None:
        self.notices = notices
        self.address = address
        self.min_score = min_score

    def __call__(self, db: Session, row: AlertRow, event: str) -> None:
        """The store's listener: new alerts only; the text names ids, never personal data."""
        if event != ALERT_RAISED or row.score < self.min_score:
            return
        self.notices.email(
            db,
            VerifiedAddress(self.address),  # the operator's own address
            f"alert.{row.typology}",
            f"Alert: {row.typology.replace('_', ' ')} ({row.score:.2f})",
            f"A {row.typology} alert scored {row.score:.2f} (rule {row.rule}).\n\n"
            f"Symbol: {row.symbol or '-'}\nAccounts: {row.accounts}\nAlert: {row.id}\n\n"
            f"Review it at {self.notices.link(f'/v1/compliance/alerts/{row.id}')}.",
        )
