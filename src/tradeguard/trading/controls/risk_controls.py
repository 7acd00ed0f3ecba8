"""Risk controls for staff: limits, the restricted and threshold lists, close-outs, locates.

Each change is one unit of work of the trading desk (see ``trading_controls``): the row,
the in-memory state the checks read and the audit event change together, under the lock.
A limit change re-reads every stored limit and swaps the whole ``RiskLimits`` at once;
if the unit of work fails, the limits the desk had are put back (its rebuild from the
database keeps the risk context's limits as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.money import Money
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import Instrument, Locate, TradingState
from tradeguard.trading.controls.limits_store import (
    LimitDefinition,
    LimitError,
    LimitScope,
    LimitValue,
    effective_limits,
    load_limits,
    public_definition,
    stored_rows,
    value_in,
    write_override,
)
from tradeguard.trading.controls.locate_store import (
    end_of_day_ns,
    expiry_fits,
    locate_rows,
    write_locate,
)
from tradeguard.trading.controls.problems import ControlReason, invalid_control
from tradeguard.trading.controls.trading_controls import (
    ControlChange,
    DeskControls,
    JsonScalar,
    recorded,
)
from tradeguard.trading.models import CloseoutObligationRow, InstrumentRow, LocateRow
from tradeguard.trading.orders.booking import Booking
from tradeguard.trading.orders.loader import instrument_of

FLAGS = ("restricted", "threshold", "easy_to_borrow")
LISTS = ("restricted", "threshold")


@dataclass(frozen=True, slots=True)
class Listing:
    """A stored instrument, the checks' view of it (latest reference price) and its state."""

    row: InstrumentRow
    live: Instrument | None
    state: TradingState


class RiskControls(DeskControls):
    """Limits, instrument lists, close-out obligations and locates."""

    # -- limits --------------------------------------------------------------------------

    def change_limit(
        self,
        caller: Caller,
        scope_text: str,
        name: str,
        value: int | Money | None,
        reason: str,
    ) -> ControlChange:
        """Override one limit (``None``: back to the default) and swap the desk's limits."""
        scope, rule, stored = self._limit_request(scope_text, name, value)

        def work(booking: Booking) -> ControlChange:
            db = booking.context.db
            if scope.account_id is not None:
                self.account_row(db, scope.account_id, in_body=True)
            before = value_in(self.desk.limits, scope, rule.name)
            by, now = caller.actor.id, booking.now_ns
            write_override(db, scope.text, rule.name, stored, by=by, now_ns=now)
            limits = load_limits(db)
            self.desk.apply_limits(limits)
            after = value_in(limits, scope, rule.name)
            context: dict[str, JsonScalar] = {"scope": scope.text, "name": rule.public_name}
            change = ControlChange(
                "risk.limit.changed",
                scope.text,
                _shown(rule, before),
                _shown(rule, after),
                reason,
                context,
            )
            return recorded(booking, caller, change)

        with self.desk.lock:
            previous = self.desk.limits
            try:
                return self.run(caller, work)
            except Exception:
                self.desk.apply_limits(previous)
                raise

    def limits(self, db: Session) -> list[LimitValue]:
        """Every limit as it applies now, with its default and its override."""
        rows = stored_rows(db)
        with self.desk.lock:
            return effective_limits(self.desk.limits, rows)

    def _limit_request(
        self, scope_text: str, name: str, value: int | Money | None
    ) -> tuple[LimitScope, LimitDefinition, int | None]:
        try:
            scope = LimitScope.parse(scope_text, self.desk.limits.tier_limits)
            rule = public_definition(scope, name)
        except LimitError as error:
            raise invalid_control(ControlReason.LIMIT_UNKNOWN, str(error)) from error
        try:
            return scope, rule, None if value is None else rule.parsed(value)
        except LimitError as error:
            raise invalid_control(ControlReason.LIMIT_INVALID, str(error)) from error

    # -- instrument lists ----------------------------------------------------------------

    def set_flags(
        self, caller: Caller, symbol: str, flags: dict[str, bool], reason: str
    ) -> ControlChange:
        """Put an instrument on or off the restricted, threshold and easy-to-borrow lists."""
        unknown = set(flags) - set(FLAGS)
        if unknown:
            raise ValueError(f"not instrument flags: {sorted(unknown)}")

        def work(booking: Booking) -> ControlChange:
            row = self.instrument_row(booking.context.db, symbol)
            before = _flags(row)
            for name, value in flags.items():
                setattr(row, name, value)
            row.updated_at_ns = booking.now_ns
            risk = self.desk.risk
            live = risk.instruments.get(symbol) or instrument_of(row)
            risk.add_instrument(  # the live one keeps its latest reference price
                replace(
                    live,
                    restricted=row.restricted,
                    threshold=row.threshold,
                    easy_to_borrow=row.easy_to_borrow,
                )
            )
            change = ControlChange("instrument.flags.changed", symbol, before, _flags(row), reason)
            return recorded(booking, caller, change)

        return self.run(caller, work)

    def listed(self, db: Session, flag: str) -> list[Listing]:
        """The instruments on one list (``restricted`` or ``threshold``), by symbol."""
        if flag not in LISTS:
            raise ValueError(f"no {flag} list")
        column = getattr(InstrumentRow, flag)
        query = select(InstrumentRow).where(column.is_(True)).order_by(InstrumentRow.symbol)
        return self._with_live(db.scalars(query).all())

    def universe(self, db: Session, after: str | None, limit: int) -> list[Listing]:
        """Up to ``limit`` instruments by symbol, after ``after`` when given."""
        query = select(InstrumentRow).order_by(InstrumentRow.symbol).limit(limit)
        if after is not None:
            query = query.where(InstrumentRow.symbol > after)
        return self._with_live(db.scalars(query).all())

    def _with_live(self, rows: Sequence[InstrumentRow]) -> list[Listing]:
        """Each row with the instrument the checks hold and the firm's state for its symbol."""
        risk = self.desk.risk
        with self.desk.lock:
            return [
                Listing(
                    row,
                    risk.instruments.get(row.symbol),
                    risk.symbol_states.get(row.symbol, TradingState.ACTIVE),
                )
                for row in rows
            ]

    # -- close-outs ----------------------------------------------------------------------

    def set_closeout(self, caller: Caller, symbol: str, shares: int, reason: str) -> ControlChange:
        """Record the firm's open close-out obligation in ``symbol`` (0 clears it)."""

        def work(booking: Booking) -> ControlChange:
            db = booking.context.db
            instrument = self.instrument_row(db, symbol)
            row = db.get(CloseoutObligationRow, symbol)
            before = 0 if row is None else row.shares
            _store_closeout(db, row, symbol, shares, by=caller.actor.id, now_ns=booking.now_ns)
            self.desk.risk.set_closeout_obligation(symbol, shares)
            change = ControlChange(
                "closeout.obligation.changed",
                symbol,
                {"shares": before},
                {"shares": shares},
                reason,
                {"symbol": symbol, "threshold": instrument.threshold},
            )
            return recorded(booking, caller, change)

        return self.run(caller, work)

    @staticmethod
    def closeouts(db: Session) -> list[tuple[CloseoutObligationRow, bool]]:
        """Open close-out obligations and whether each symbol is a threshold security."""
        query = (
            select(CloseoutObligationRow, InstrumentRow.threshold)
            .outerjoin(InstrumentRow, InstrumentRow.symbol == CloseoutObligationRow.symbol)
            .order_by(CloseoutObligationRow.symbol)
        )
        return [(row, bool(threshold)) for row, threshold in db.execute(query).all()]

    # -- locates -------------------------------------------------------------------------

    def grant_locate(
        self,
        caller: Caller,
        account_id: str,
        symbol: str,
        quantity: int,
        expires_at_ns: int | None,
    ) -> ControlChange:
        """Grant (replacing any earlier one) a locate of ``quantity`` shares of ``symbol``."""

        def work(booking: Booking) -> ControlChange:
            db, now = booking.context.db, booking.now_ns
            expires = end_of_day_ns(now) if expires_at_ns is None else expires_at_ns
            if not expiry_fits(expires, now):
                raise invalid_control(
                    ControlReason.LOCATE_EXPIRY_INVALID,
                    "a locate expires in the future and at most 5 days ahead",
                )
            self.instrument_row(db, symbol, in_body=True)
            _, account = self.account(db, account_id, in_body=True)
            before = _locate(account.locates.get(symbol))
            locate = Locate(symbol, quantity, expires)
            write_locate(db, account_id, locate, by=caller.actor.id, now_ns=now)
            self.desk.risk.add_locate(account_id, locate)
            context: dict[str, JsonScalar] = {"symbol": symbol}
            change = ControlChange(
                "locate.granted", account_id, before, _locate(locate), None, context
            )
            return recorded(booking, caller, change)

        return self.run(caller, work)

    def locates(self, db: Session, account_id: str | None) -> list[tuple[LocateRow, Locate | None]]:
        """Stored locates (of one account if given), each with what the checks hold now."""
        rows = locate_rows(db, account_id)
        with self.desk.lock:
            accounts = self.desk.risk.accounts
            return [(row, _live_locate(accounts.get(row.account_id), row.symbol)) for row in rows]


def _live_locate(account: AccountRisk | None, symbol: str) -> Locate | None:
    return None if account is None else account.locates.get(symbol)


def _store_closeout(  # noqa: PLR0913 - the row, its new content and who wrote it when
    db: Session,
    row: CloseoutObligationRow | None,
    symbol: str,
    shares: int,
    *,
    by: str,
    now_ns: int,
) -> None:
    if shares == 0:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        row = CloseoutObligationRow(symbol=symbol, fails_since_ns=now_ns)
        db.add(row)
    row.shares, row.updated_by, row.updated_at_ns = shares, by, now_ns


def _flags(row: InstrumentRow) -> dict[str, JsonScalar]:
    return {name: bool(getattr(row, name)) for name in FLAGS}


def _shown(rule: LimitDefinition, value: int | None) -> JsonScalar:
    shown = rule.shown(value)
    return str(shown) if isinstance(shown, Money) else shown


def _locate(locate: Locate | None) -> dict[str, JsonScalar] | None:
    if locate is None:
        return None
    return {"quantity": locate.quantity, "expires_at": ns_to_rfc3339(locate.expires_at_ns)}
