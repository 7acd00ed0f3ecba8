"""Foundation costs every later feature pays: ids, canonical JSON, money, the HTTP envelope."""

from __future__ import annotations

import tempfile
from pathlib import Path

from measure import Measurement, asgi_microseconds_per_request, microseconds_per_call
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.canonical_json import canonical_dumps
from tradeguard.core.clock import SystemClock
from tradeguard.core.ids import new_id
from tradeguard.core.money import Money, Price
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import transaction
from tradeguard.logs import configure_logging
from tradeguard.wiring import build_core

EVENT = {
    "event_type": "order.placed",
    "actor": {"user_id": "0190f3e2-7c1a-7000-8000-000000000001", "ip": "203.0.113.7"},
    "subject": "order:0190f3e2-7c1a-7000-8000-000000000002",
    "data": {"symbol": "ACME", "side": "buy", "quantity": 100, "limit_price": "12.3400"},
}


def _http_envelope_us() -> float:
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as directory:
        var = Path(directory)
        settings = Settings(_env_file=None, var_dir=var)  # type: ignore[call-arg]
        ensure_master_key(settings.effective_master_key_file, SystemClock(), settings.env)
        engine = build_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        core = build_core(settings, SystemClock(), engine)
        with transaction(core.sessions) as session:
            provision_keys(core.crypto, session)
        app = create_app(settings, engine=engine)
        result = asgi_microseconds_per_request(app, "/healthz", requests=5_000)
        engine.dispose()
    return result


def run() -> list[Measurement]:
    price = Price.parse("12.3456")
    return [
        Measurement("new_id (UUIDv7)", microseconds_per_call(new_id, calls=100_000), "µs/op"),
        Measurement(
            "canonical_dumps (audit-sized event)",
            microseconds_per_call(lambda: canonical_dumps(EVENT), calls=50_000),
            "µs/op",
        ),
        Measurement(
            "Money.parse + Price.notional",
            microseconds_per_call(
                lambda: (Money.parse("1234.56"), price.notional(100)), calls=50_000
            ),
            "µs/op",
        ),
        Measurement(
            "GET /healthz in process (middleware + routing)",
            _http_envelope_us(),
            "µs/req",
        ),
    ]
