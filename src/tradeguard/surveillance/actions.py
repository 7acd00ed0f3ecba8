"""Automatic actions on alerts: an account into REDUCING or HALTED, through trading controls.

The policy is a list of rules ``typology:min_score:STATE``. After the batch that stored
an alert has committed, each accused account whose alert matches a rule is put into
that trading state by ``TradingControls.set_state`` (its own unit of work, audited as
``trading.state.changed`` by the component ``surveillance``). A state is only ever made
stricter: an account already HALTED is not moved to REDUCING. The account's owner is
then emailed that trading is restricted pending a compliance review (no alert detail: what
surveillance suspects is not told to the suspect).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.access.caller import Caller
from tradeguard.cases.models import AlertRow
from tradeguard.core.errors import ProblemError
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.identity.notices import Notices, address_of
from tradeguard.logs import get_logger
from tradeguard.risk.model import TradingState
from tradeguard.trading.controls.trading_controls import StateTarget
from tradeguard.trading.desk_port import TradingControlsPort
from tradeguard.trading.orders.account_lookup import BrokerageAccountLookup

log = get_logger("tradeguard.surveillance")
STRICTNESS = (TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED)
RULE_PARTS = 3


@dataclass(frozen=True, slots=True)
class ActionRule:
    """Alerts of ``typology`` scoring ``min_score`` or more put their accounts in ``state``."""

    typology: str
    min_score: float
    state: TradingState

    @classmethod
    def parse(cls, text: str) -> ActionRule:
        """``typology:min_score:STATE``, e.g. ``spoofing:0.9:REDUCING``."""
        parts = text.split(":")
        if len(parts) != RULE_PARTS:
            raise ValueError(f"an action rule is typology:min_score:STATE, not {text!r}")
        state = TradingState(parts[2])
        if state is TradingState.ACTIVE:
            raise ValueError("an action rule restricts: REDUCING or HALTED")
        return cls(parts[0], float(parts[1]), state)


NOTICE_TEXT = {
    TradingState.REDUCING: "only orders that reduce a position are accepted",
    TradingState.HALTED: "no new orders are accepted",
}


class AlertActions:
    """Applies the action policy to committed alerts."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        controls: TradingControlsPort,
        rules: Sequence[ActionRule],
        notices: Notices | None = None,
    ) -> None:
        self.sessions = sessions
        self.controls = controls
        self.rules = tuple(rules)
        self.notices = notices

    def __call__(self, rows: Sequence[AlertRow]) -> None:
        """The store's after-commit listener."""
        for row in rows:
            state = self._state_for(row)
            if state is not None:
                for account in json.loads(row.accounts):
                    self._restrict(account, state, row)

    def _state_for(self, row: AlertRow) -> TradingState | None:
        matching = [
            rule.state
            for rule in self.rules
            if rule.typology == row.typology and row.score >= rule.min_score
        ]
        return max(matching, key=STRICTNESS.index) if matching else None

    def _restrict(self, account: str, state: TradingState, row: AlertRow) -> None:
        reason = f"surveillance alert {row.id}: {row.typology} scored {row.score:.2f}"
        try:
            with self.sessions() as db:
                current = self.controls.standing(db, account).account_state
            if STRICTNESS.index(current) >= STRICTNESS.index(state):
                return
            self.controls.set_state(
                Caller.automatic("surveillance"), StateTarget.account(account), state, reason
            )
        except ProblemError as error:  # an account the desk does not know (replayed data)
            log.warning("surveillance.action_refused", account=account, reason=error.reason_code)
            return
        self._tell_owner(account, state)

    def _tell_owner(self, account: str, state: TradingState) -> None:
        """Email the account's owner that trading is restricted (sent once this commits)."""
        if self.notices is None:
            return
        allowed = NOTICE_TEXT[state]
        with transaction(self.sessions) as db:
            owner = BrokerageAccountLookup().owner_of(db, account)
            user = db.get(User, owner) if owner is not None else None
            if user is None:
                return
            text = (
                f"Trading on your brokerage account is restricted: {allowed}, pending a "
                "review by our compliance team. Your positions and cash are unchanged. "
                "Please contact support if you have questions."
            )
            subject = "Trading on your account is restricted"
            self.notices.email(db, address_of(user), "trading.restricted", subject, text)
