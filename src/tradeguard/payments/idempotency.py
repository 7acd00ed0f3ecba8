"""Idempotency keys of money-moving requests.

Every money-moving POST carries an ``Idempotency-Key``. The key is claimed (a row) in a
transaction of its own before the work runs, so two requests with one key never both
run; the answer (success or refusal) is then stored with a digest of the request. The
same key with the same request gets the stored answer again; with another request it
is refused (``PAYMENT_IDEMPOTENCY_KEY_REUSED``). A request that failed unexpectedly
gives its key back, so a retry runs it again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.core.clock import Clock
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.db.session import transaction
from tradeguard.payments.models import IdempotencyRow
from tradeguard.payments.problems import PaymentReason, conflict, invalid

KEY = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
IN_FLIGHT = 0
Answer = tuple[int, dict[str, Any]]


def request_digest(path: str, body: object) -> str:
    """SHA-256 of the route and its canonical JSON body."""
    text = json.dumps([path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKeys:
    """Runs a money-moving request once per (customer, key)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def run(self, user_id: str, key: str | None, digest: str, work: Callable[[], Answer]) -> Answer:
        """The stored answer of ``key``, or ``work``'s (stored); a refusal is stored too."""
        if key is None or KEY.fullmatch(key) is None:
            raise invalid(
                PaymentReason.IDEMPOTENCY_KEY_REQUIRED,
                "send an Idempotency-Key header of 8-64 letters, digits, '-' or '_'",
            )
        stored = self._claim(user_id, key, digest)
        if stored is not None:
            return stored
        try:
            answer = work()
        except ProblemError as refusal:
            if refusal.status >= 500:  # noqa: PLR2004 - unavailable: the key may be used again
                self._release(user_id, key)
                raise
            self._store(user_id, key, (refusal.status, _refusal_body(refusal)))
            raise
        except BaseException:
            self._release(user_id, key)
            raise
        self._store(user_id, key, answer)
        return answer

    def _claim(self, user_id: str, key: str, digest: str) -> Answer | None:
        try:
            with transaction(self.sessions) as db:
                row = IdempotencyRow(
                    user_id=user_id,
                    key=key,
                    request_hash=digest,
                    status_code=IN_FLIGHT,
                    response="{}",
                    created_at_ns=self.clock.now_ns(),
                )
                db.add(row)
        except IntegrityError:
            return self._replayed(user_id, key, digest)
        return None

    def _replayed(self, user_id: str, key: str, digest: str) -> Answer:
        with self.sessions() as db:
            found = db.get_one(IdempotencyRow, (user_id, key))
        if found.request_hash != digest:
            raise invalid(
                PaymentReason.IDEMPOTENCY_KEY_REUSED,
                "this Idempotency-Key was used for another request",
            )
        if found.status_code == IN_FLIGHT:
            raise conflict(PaymentReason.STATE, "a request with this key is still running")
        body: dict[str, Any] = json.loads(found.response)
        if found.status_code >= 400:  # noqa: PLR2004 - a stored refusal is refused again
            raise ProblemError(**_refusal_of(found.status_code, body))
        return found.status_code, body

    def _store(self, user_id: str, key: str, answer: Answer) -> None:
        with transaction(self.sessions) as db:
            row = db.get_one(IdempotencyRow, (user_id, key))
            row.status_code, row.response = answer[0], json.dumps(answer[1])

    def _release(self, user_id: str, key: str) -> None:
        with transaction(self.sessions) as db:
            db.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.user_id == user_id, IdempotencyRow.key == key
                )
            )


def _refusal_body(refusal: ProblemError) -> dict[str, Any]:
    return {
        "type": refusal.type.slug,
        "title": refusal.type.title,
        "reason_code": refusal.reason_code,
        "detail": refusal.detail,
        "extensions": refusal.extensions,
    }


def _refusal_of(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": ProblemType(body["type"], body["title"], status),
        "reason_code": body["reason_code"],
        "detail": body["detail"],
        "extensions": body["extensions"],
    }
