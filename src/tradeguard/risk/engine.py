"""The risk engine: runs the checks in a fixed order and holds the kill switches.

The engine fails closed. The first check that denies decides; an exception or missing
data in any check denies with ``RISK_INTERNAL_ERROR`` — an order is never let through
because the engine could not decide. Cancels never pass through the engine: they are
always allowed, also while trading is halted.

With the standard ``CHECKS`` the engine first asks the single-pass screen
(``screen.passes_every_check``), which evaluates the conditions of all 26 checks in one
function. An order it passes is allowed; any other order (and any order the screen
cannot judge) runs through the checks one by one, whose first denial is the answer. An
engine given other checks always runs them one by one.
"""

from __future__ import annotations

from tradeguard.core.clock import Clock
from tradeguard.risk.checks import CHECKS, Check
from tradeguard.risk.context import RiskContext
from tradeguard.risk.model import Denial, OrderRequest, RiskLimits, RiskReason, TradingState
from tradeguard.risk.screen import passes_every_check
from tradeguard.risk.view import CheckContext


class RiskEngine:
    """Pre-trade risk checks over a risk context (which holds the limits), clock injected."""

    def __init__(self, clock: Clock, checks: tuple[Check, ...] = CHECKS) -> None:
        self.clock = clock
        self.checks = checks

    def new_context(self, limits: RiskLimits) -> RiskContext:
        """An empty risk context under ``limits``, on this engine's clock."""
        return RiskContext(limits, self.clock)

    def check(self, ctx: RiskContext, order: OrderRequest) -> Denial | None:
        """None if the order may go to the market, otherwise the first denial."""
        try:
            now_ns = self.clock.now_ns()
            checks, limits = self.checks, ctx.limits
            if checks is CHECKS:
                try:
                    if passes_every_check(ctx, limits, order, now_ns):
                        return None
                except Exception:  # noqa: BLE001, S110 - the checks below decide, fail closed
                    pass
            view = CheckContext(ctx, limits, order, now_ns)
            for check in checks:
                denial = check(view, order)
                if denial is not None:
                    return denial
        except Exception as error:  # noqa: BLE001 - fail closed: any failure is a denial
            return internal_error(error)
        return None

    @staticmethod
    def set_global_state(ctx: RiskContext, state: TradingState) -> TradingState:
        """Set the platform-wide trading state (the kill switch); returns the previous one."""
        previous, ctx.global_state = ctx.global_state, TradingState(state)
        return previous

    @staticmethod
    def set_symbol_state(ctx: RiskContext, symbol: str, state: TradingState) -> TradingState:
        """Set one symbol's trading state; returns the previous one."""
        return _set_state(ctx.symbol_states, symbol, TradingState(state))

    @staticmethod
    def set_account_state(ctx: RiskContext, account_id: str, state: TradingState) -> TradingState:
        """Set one account's trading state; returns the previous one."""
        return _set_state(ctx.account_states, account_id, TradingState(state))


def internal_error(error: Exception) -> Denial:
    """The fail-closed denial for a check that could not decide."""
    return Denial(
        reason_code=RiskReason.INTERNAL_ERROR,
        detail="the risk checks could not decide; the order is refused",
        inputs={"error": type(error).__name__},
        threshold=None,
    )


def _set_state(states: dict[str, TradingState], key: str, state: TradingState) -> TradingState:
    previous = states.get(key, TradingState.ACTIVE)
    if state is TradingState.ACTIVE:
        states.pop(key, None)
    else:
        states[key] = state
    return previous
