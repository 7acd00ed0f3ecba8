# ruff: noqa: FBT003, PLR2004 - a generator: steps say who acts (True: the fraudster) and
# its rates are the scenario's own numbers, written where they are used
"""A seeded synthetic generator of customers, legitimate and fraudulent (SYNTHETIC DATA).

It bootstraps a model for a new installation that has no labelled cases yet. Every
customer's history is simulated event by event through the same ``ProfileStore`` as
production; at each decision point the features are taken before the event is applied
and labelled by who acts (the customer: 0, a fraudster: 1). The patterns follow the
published typologies: account takeover (FINRA Regulatory Notice 21-18: new device and
location, credential and contact changes, then a liquidation or a withdrawal), first-party
fraud (deposit, withdraw at once, the deposit returned) and money mules (shared devices,
new bank links, money in and straight out; Notices 22-21 and 23-06).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tradeguard.fraud.catalog import vector
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.features import DAY_NS, snapshot
from tradeguard.fraud.geo import Network
from tradeguard.fraud.profiles import HOUR_NS, ProfileStore

START_NS = 1_767_225_600 * 10**9  # 2026-01-01
HOME_COUNTRIES = ("US", "US", "US", "CA", "GB")
FOREIGN = ("RO", "NG", "VN", "BR", "RU", "UA", "CN", "ID")
DECIDED = {
    Kind.LOGIN: Action.LOGIN,
    Kind.ORDER: Action.ORDER,
    Kind.SELL_ORDER: Action.ORDER,
    Kind.WITHDRAWAL: Action.WITHDRAWAL,
    Kind.BANK_LINK: Action.BANK_LINK,
    Kind.PASSWORD_CHANGE: Action.CREDENTIAL_CHANGE,
    Kind.EMAIL_CHANGE: Action.PROFILE_CHANGE,
    Kind.PHONE_CHANGE: Action.PROFILE_CHANGE,
    Kind.FACTOR_ADDED: Action.CREDENTIAL_CHANGE,
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One decision point: its features, its label, its action and the scenario it came from."""

    features: list[float]
    label: int
    action: Action
    scenario: str
    context: DecisionContext


Observer = Callable[[Sample, ProfileStore], None]
"""Called at each decision point with the profiles as they stand before its event."""


@dataclass(slots=True)
class Step:
    """One simulated event, with who did it and the balance at the time."""

    event: FraudEvent
    fraud: bool
    balance_cents: int


class Simulator:
    """Plays customers' histories through one profile store and records decision points."""

    def __init__(self, seed: int, observe: Observer | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.store = ProfileStore()
        self.observe = observe
        self.samples: list[Sample] = []
        self.events: list[FraudEvent] = []
        self.mule_devices = [f"mule-dev-{seed}-{i}" for i in range(3)]

    def play(self, steps: list[Step], scenario: str, opened_ns: int) -> None:
        """Apply ``steps`` in time order, sampling each decision point before its event."""
        for step in sorted(steps, key=lambda s: s.event.ts_ns):
            action = DECIDED.get(step.event.kind)
            if action is not None:
                self.samples.append(self._sample(step, action, scenario, opened_ns))
                if self.observe is not None:
                    self.observe(self.samples[-1], self.store)
            self.store.apply(step.event)
            self.events.append(step.event)

    def _sample(self, step: Step, action: Action, scenario: str, opened_ns: int) -> Sample:
        event = step.event
        ctx = DecisionContext(
            user=event.user,
            ts_ns=event.ts_ns,
            device=event.device,
            network=event.network,
            session=event.session,
            amount_cents=event.amount_cents,
            balance_cents=step.balance_cents,
            symbol=event.symbol,
            sell=event.kind is Kind.SELL_ORDER,
            quantity=event.quantity,
            account_created_ns=opened_ns,
        )
        features = vector(snapshot(self.store, action, ctx))
        return Sample(features, int(step.fraud), action, scenario, ctx)

    def network(self, country: str) -> Network:
        """A random /24 in ``country``."""
        rng = self.rng
        return Network(
            f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24", country
        )


def _legit_history(sim: Simulator, user: str, days: int) -> tuple[list[Step], int]:
    rng = sim.rng
    country = rng.choice(HOME_COUNTRIES)
    home, device = sim.network(country), f"{user}-phone"
    opened = START_NS + rng.randint(0, 30) * DAY_NS
    steps: list[Step] = []
    balance = rng.randint(2_000, 200_000) * 100
    steps.append(Step(FraudEvent(Kind.BANK_LINK, user, opened + HOUR_NS), False, 0))
    steps.append(
        Step(FraudEvent(Kind.DEPOSIT, user, opened + 2 * HOUR_NS, amount_cents=balance), False, 0)
    )
    ts = opened + DAY_NS
    for index in range(days):
        ts += rng.randint(8, 60) * HOUR_NS
        here, dev = home, device
        if rng.random() < 0.04:  # a new phone or laptop
            device = dev = f"{user}-device-{index}"
        if rng.random() < 0.03:  # travel: own device, another country
            here = sim.network(rng.choice(FOREIGN + HOME_COUNTRIES))
        if rng.random() < 0.05:
            steps.append(
                Step(
                    FraudEvent(Kind.LOGIN_FAILED, user, ts - 60 * 10**9, dev, here), False, balance
                )
            )
        session = f"{user}-s{index}"
        steps.append(Step(FraudEvent(Kind.LOGIN, user, ts, dev, here, session), False, balance))
        steps.extend(_legit_session(sim, user, ts, dev, here, session, balance))
    return steps, opened


def _legit_session(  # noqa: PLR0913, PLR0917 - one session's facts
    sim: Simulator, user: str, ts: int, device: str, here: Network, session: str, balance: int
) -> list[Step]:
    rng = sim.rng
    steps = []
    for n in range(rng.choice((0, 0, 1, 1, 2, 3, 5))):
        kind = Kind.SELL_ORDER if rng.random() < 0.35 else Kind.ORDER
        symbol = rng.choice(("AAPL", "MSFT", "SPY", "QQQ", "TSLA", "NVDA", "AMZN", "VTI"))
        event = FraudEvent(
            kind,
            user,
            ts + (n + 1) * 120 * 10**9,
            device,
            here,
            session,
            symbol=symbol,
            quantity=rng.randint(1, 50),
        )
        steps.append(Step(event, False, balance))
    roll = rng.random()
    later = ts + 900 * 10**9
    if roll < 0.05:
        amount = int(balance * rng.uniform(0.05, 0.4))
        steps.append(
            Step(
                FraudEvent(
                    Kind.WITHDRAWAL, user, later, device, here, session, amount_cents=amount
                ),
                False,
                balance,
            )
        )
    elif roll < 0.06:
        amount = int(balance * rng.uniform(0.2, 0.9))
        steps.append(
            Step(
                FraudEvent(Kind.PASSWORD_CHANGE, user, later, device, here, session), False, balance
            )
        )
        steps.append(
            Step(
                FraudEvent(
                    Kind.WITHDRAWAL,
                    user,
                    later + HOUR_NS,
                    device,
                    here,
                    session,
                    amount_cents=amount,
                ),
                False,
                balance,
            )
        )
    elif roll < 0.07:
        steps.append(
            Step(
                FraudEvent(Kind.PASSWORD_CHANGE, user, later, device, here, session), False, balance
            )
        )
    elif roll < 0.08:
        steps.append(
            Step(FraudEvent(Kind.PHONE_CHANGE, user, later, device, here, session), False, balance)
        )
    elif roll < 0.1:
        steps.append(
            Step(
                FraudEvent(Kind.DEPOSIT, user, later, amount_cents=rng.randint(100, 5_000) * 100),
                False,
                balance,
            )
        )
    return steps


def _takeover(sim: Simulator, user: str, last_ns: int, balance: int, home: Network) -> list[Step]:
    """Someone else signs in and empties the account (RN 21-18's pattern).

    Most come from a new device, abroad or through a proxy in the customer's country; one
    in ten works the customer's own device remotely (remote-access malware): no new
    device, no new network, only what is done gives it away.
    """
    rng = sim.rng
    ts = last_ns + rng.randint(2, 72) * HOUR_NS
    here = sim.network(rng.choice(FOREIGN) if rng.random() < 0.7 else rng.choice(HOME_COUNTRIES))
    device, session = f"ato-{user}", f"{user}-ato"
    if rng.random() < 0.1:
        here, device = home, f"{user}-phone"
    steps = [
        Step(FraudEvent(Kind.LOGIN_FAILED, user, ts - k * 30 * 10**9, device, here), True, balance)
        for k in range(rng.randint(0, 4))
    ]
    steps.append(Step(FraudEvent(Kind.LOGIN, user, ts, device, here, session), True, balance))
    ts += rng.randint(1, 20) * 60 * 10**9
    for kind in rng.sample(
        [Kind.PASSWORD_CHANGE, Kind.EMAIL_CHANGE, Kind.PHONE_CHANGE], rng.randint(0, 2)
    ):
        ts += 60 * 10**9
        steps.append(Step(FraudEvent(kind, user, ts, device, here, session), True, balance))
    if rng.random() < 0.3:
        ts += 60 * 10**9
        steps.append(
            Step(
                FraudEvent(Kind.FACTOR_ADDED, user, ts, device, here, session, method="sms"),
                True,
                balance,
            )
        )
    if rng.random() < 0.5:
        for n in range(rng.randint(1, 6)):
            event = FraudEvent(
                Kind.SELL_ORDER,
                user,
                ts + n * 20 * 10**9,
                device,
                here,
                session,
                symbol=rng.choice(("AAPL", "SPY", "MSFT", "PENNY")),
                quantity=rng.randint(10, 500),
            )
            steps.append(Step(event, True, balance))
        ts += 600 * 10**9
    if rng.random() < 0.5:
        steps.append(
            Step(
                FraudEvent(Kind.BANK_LINK, user, ts + 30 * 10**9, device, here, session),
                True,
                balance,
            )
        )
    amount = int(balance * rng.uniform(0.6, 1.0))
    steps.append(
        Step(
            FraudEvent(
                Kind.WITHDRAWAL, user, ts + 60 * 10**9, device, here, session, amount_cents=amount
            ),
            True,
            balance,
        )
    )
    return steps


def _first_party(sim: Simulator, user: str) -> tuple[list[Step], int]:
    """A new account deposits, withdraws at once, and the deposit comes back (ACH return)."""
    rng = sim.rng
    opened = START_NS + rng.randint(0, 60) * DAY_NS
    here, device = sim.network(rng.choice(HOME_COUNTRIES)), f"{user}-fp"
    amount = rng.randint(1_000, 25_000) * 100
    return [
        Step(FraudEvent(Kind.LOGIN, user, opened, device, here, f"{user}-s"), True, 0),
        Step(
            FraudEvent(Kind.BANK_LINK, user, opened + 60 * 10**9, device, here, f"{user}-s"),
            True,
            0,
        ),
        Step(FraudEvent(Kind.DEPOSIT, user, opened + HOUR_NS, amount_cents=amount), False, 0),
        Step(
            FraudEvent(
                Kind.WITHDRAWAL,
                user,
                opened + rng.randint(2, 48) * HOUR_NS,
                device,
                here,
                f"{user}-s",
                amount_cents=int(amount * rng.uniform(0.8, 1.0)),
            ),
            True,
            amount,
        ),
    ], opened


def _mule(sim: Simulator, user: str) -> tuple[list[Step], int]:
    """A mule account on a shared device: money in from several sources, straight out."""
    rng = sim.rng
    opened = START_NS + rng.randint(0, 60) * DAY_NS
    here, device = sim.network(rng.choice(HOME_COUNTRIES)), rng.choice(sim.mule_devices)
    steps = [Step(FraudEvent(Kind.LOGIN, user, opened, device, here, f"{user}-s"), True, 0)]
    ts = opened
    for _ in range(rng.randint(1, 4)):
        ts += rng.randint(1, 24) * HOUR_NS
        amount = rng.randint(500, 9_000) * 100
        steps.append(Step(FraudEvent(Kind.BANK_LINK, user, ts, device, here, f"{user}-s"), True, 0))
        steps.append(
            Step(FraudEvent(Kind.DEPOSIT, user, ts + HOUR_NS, amount_cents=amount), False, 0)
        )
        out = FraudEvent(
            Kind.WITHDRAWAL,
            user,
            ts + rng.randint(2, 12) * HOUR_NS,
            device,
            here,
            f"{user}-s",
            amount_cents=int(amount * 0.95),
        )
        steps.append(Step(out, True, amount))
    return steps, opened


def simulate(
    seed: int, customers: int, fraud_share: float = 0.1, observe: Observer | None = None
) -> Simulator:
    """``customers`` simulated customers (SYNTHETIC), seeded: their profiles and samples.

    ``observe`` sees each decision point with the profiles as they were at that moment.
    """
    sim = Simulator(seed, observe)
    for index in range(customers):
        user = f"syn-{seed}-{index}"
        roll = sim.rng.random()
        if roll < fraud_share * 0.2:
            steps, opened = _first_party(sim, user)
            sim.play(steps, "first_party", opened)
        elif roll < fraud_share * 0.4:
            steps, opened = _mule(sim, user)
            sim.play(steps, "mule", opened)
        else:
            steps, opened = _legit_history(sim, user, sim.rng.randint(5, 40))
            taken = roll < fraud_share
            if taken:
                last = max(step.event.ts_ns for step in steps)
                home = _home_of(steps)
                steps.extend(_takeover(sim, user, last, steps[1].event.amount_cents, home))
            sim.play(steps, "takeover" if taken else "legitimate", opened)
    return sim


def _home_of(steps: list[Step]) -> Network:
    """The network of the customer's first sign-in."""
    for step in steps:
        if step.event.kind is Kind.LOGIN and step.event.network is not None:
            return step.event.network
    raise ValueError("a legitimate history signs in")


def generate(seed: int, customers: int, fraud_share: float = 0.1) -> list[Sample]:
    """The decision points of ``customers`` simulated customers (SYNTHETIC), seeded."""
    return simulate(seed, customers, fraud_share).samples


def iter_rows(samples: list[Sample]) -> Iterator[tuple[list[float], int]]:
    """The samples as (features, label) rows."""
    for sample in samples:
        yield sample.features, sample.label
