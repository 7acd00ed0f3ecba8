"""The AML monitors as a live watcher over the audit trail.

It reads trade settlements (``trade.executed``), account openings (``account.opened``,
to learn whose an account is) and the money-movement events ``payments.deposit.settled``
and ``payments.withdrawal.settled``, whose ``data`` carries ``account``, ``amount``
(decimal dollars), ``method`` (``cash``, ``ach``, ``wire``, ``check`` or ``card``) and
optionally ``counterparty`` and ``counterparty_country``. It turns each into the
monitors' transactions, runs the same engine as ``tradeguard aml replay`` and raises one
alert per episode in the shared case queue. A money-movement or trade event it cannot
read is not dropped in silence: it raises an operations alert (``aml.event_unreadable``,
one per event) naming the event and what was wrong, never its data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.findings import Episode
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.transactions import (
    NS_PER_DAY,
    AmlInputError,
    CustomerProfile,
    Kind,
    Method,
    Transaction,
    parse_cents,
)
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.core.money import Price

TRADE_EXECUTED = "trade.executed"
ACCOUNT_OPENED = "account.opened"
DEPOSIT_SETTLED = "payments.deposit.settled"
WITHDRAWAL_SETTLED = "payments.withdrawal.settled"
MONEY_EVENTS = {DEPOSIT_SETTLED: Kind.DEPOSIT, WITHDRAWAL_SETTLED: Kind.WITHDRAWAL}
MONEY_METHODS = frozenset(Method) - {Method.TRADE}
WATCHER_NAME = "aml"
UNREADABLE = "aml.event_unreadable"
MICROS_PER_PRICE_UNIT = 100
"""A price unit is 1/10,000 of a dollar; the monitors count millionths."""


class AmlWatcher:
    """Feeds the trail's money movement and trades to the AML engine; alerts per episode."""

    name = WATCHER_NAME
    event_types = frozenset({TRADE_EXECUTED, ACCOUNT_OPENED, *MONEY_EVENTS})

    def __init__(
        self,
        parameters: MonitorParameters,
        profiles: Mapping[str, CustomerProfile] | None = None,
    ) -> None:
        self.parameters = parameters
        self.engine = AmlEngine(parameters, {} if profiles is None else profiles)
        self.owners: dict[str, str] = {}
        longest = max(
            parameters.unusual_activity.window_days, parameters.structuring.long_window_days
        )
        self.warmup_ns = (longest + parameters.episode_gap_days) * NS_PER_DAY

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        """Take in one event; the alerts whose episodes it opened or extended."""
        if event.event_type == ACCOUNT_OPENED:
            self._learn_owner(event)
            return ()
        txns, unreadable = read_event(event, self.customer_of)
        drafts = [] if unreadable is None else [unreadable]
        for txn in txns:
            drafts.extend(
                alert_of(episode, self.parameters) for episode, _ in self.engine.observe(txn)
            )
        return drafts

    def _learn_owner(self, event: AuditEvent) -> None:
        user = event.data.get("user_id")
        if event.subject and isinstance(user, str):
            self.owners[event.subject] = user

    def customer_of(self, account: str) -> str:
        """The user who holds ``account`` (the account itself until its opening is seen)."""
        return self.owners.get(account, account)

    def transactions(self, event: AuditEvent) -> list[Transaction]:
        """The monitors' transactions in ``event``; none when its data is not understood."""
        return transactions_of(event, self.customer_of)


def transactions_of(event: AuditEvent, owner: Callable[[str], str]) -> list[Transaction]:
    """The transactions a trade or money-movement event holds; none when it is not understood."""
    return read_event(event, owner)[0]


def read_event(
    event: AuditEvent, owner: Callable[[str], str]
) -> tuple[list[Transaction], AlertDraft | None]:
    """The event's transactions, or none and the operations alert saying it was unreadable."""
    reader = _trade_sides if event.event_type == TRADE_EXECUTED else _money_movement
    try:
        return list(reader(event, owner)), None
    except (AmlInputError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return [], unreadable_alert(event, exc)


def unreadable_alert(event: AuditEvent, exc: Exception) -> AlertDraft:
    """The operations alert of an event the monitors cannot read: which, and the kind of fault."""
    fault = f"missing {exc.args[0]!r}" if isinstance(exc, KeyError) else type(exc).__name__
    evidence = {"seq": event.seq, "event_type": event.event_type, "fault": fault,
                "effect": "not seen by the AML monitors or the CTR rule"}  # fmt: skip
    return AlertDraft(UNREADABLE, 1.0, Subject(), event.ts_ns, event.ts_ns, UNREADABLE,
                      f"seq:{event.seq}", evidence)  # fmt: skip


def _trade_sides(event: AuditEvent, owner: Callable[[str], str]) -> Iterator[Transaction]:
    data = event.data
    price = Price.parse(str(data["price"]))
    cents = price.notional(int(data["quantity"])).cents
    symbol, micros = str(data["symbol"]), price.units * MICROS_PER_PRICE_UNIT
    venue = data.get("venue")  # an outside venue's side is a market center, not a customer
    for side, kind in (("buy", Kind.BUY), ("sell", Kind.SELL)):
        account = str(data[side]["account"])
        if account == venue:
            continue
        yield Transaction(event.ts_ns, f"{event.seq}:{side}", account, owner(account), kind,
                          Method.TRADE, cents, symbol=symbol, price_micros=micros)  # fmt: skip


def _money_movement(event: AuditEvent, owner: Callable[[str], str]) -> Iterator[Transaction]:
    data: dict[str, Any] = event.data
    method = Method(str(data["method"]))
    if method not in MONEY_METHODS:
        raise AmlInputError(f"{method} is not a way money moves")
    account = str(data["account"])
    yield Transaction(
        event.ts_ns, str(event.seq), account, owner(account), MONEY_EVENTS[event.event_type],
        method, parse_cents(str(data["amount"])), _text(data, "counterparty"),
        _text(data, "counterparty_country"),
    )  # fmt: skip


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


def alert_of(episode: Episode, parameters: MonitorParameters) -> AlertDraft:
    """The shared case queue's alert for ``episode``: subject, window, evidence, thresholds."""
    alert = episode.as_alert()
    group = parameters.model_dump(mode="json").get(_parameter_group(str(episode.typology)), {})
    return AlertDraft(
        typology=str(episode.typology),
        score=episode.score,
        subject=Subject(customer=episode.customer, accounts=tuple(episode.accounts)),
        start_ns=episode.start_ts,
        end_ns=episode.end_ts,
        rule=f"aml.{episode.typology}",
        episode=f"{episode.customer}:{episode.opened_ts}",
        evidence=alert["evidence"],
        parameters=group,
    )


def _parameter_group(typology: str) -> str:
    return {"fan_in": "fan", "fan_out": "fan", "high_risk_geography": "geography"}.get(
        typology, typology
    )
