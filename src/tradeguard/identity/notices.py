"""What identity tells people by email and SMS, sent only once the unit of work commits.

Messages are queued on the database session and handed to the notifier after commit
(never for work that rolled back), off the request path: a response takes as long
whether or not a message was sent, which keeps sign-up and password reset from
revealing who has an account.

Anyone can make the service write to an address it has not verified (a sign-up with
someone else's address, a taken username, an email change, a staff invitation), so
every message is capped per recipient (``RecipientCap``) unless its address is a
`VerifiedAddress`: one the account proved it owns, or one an operator configured. The
cap counts a keyed digest of the address, never the address, in the shared counters
(Redis when configured), and a message over it is dropped without a trace in the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import redis
from limits.errors import StorageError
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.identity.models import User
from tradeguard.identity.user_agents import device_name
from tradeguard.logs import get_logger
from tradeguard.notify.messages import EmailMessage, SmsMessage
from tradeguard.notify.notifier import Notifier

OUTGOING_KEY = "tradeguard.outgoing"
CAPPED_EVENT = "notify.recipient.capped"
Deliver = Callable[[Callable[[], None]], Any]
Digest = Callable[[str], str]
log = get_logger("tradeguard.identity.notices")


COUNTER_ERRORS: tuple[type[Exception], ...] = (StorageError, redis.RedisError)
"""What a failing counter store raises (the rate limits' ``limits`` storage, or Redis)."""


class Counters(Protocol):
    """The part of the rate limits' counter storage the cap uses (in process or Redis)."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key`` (created to expire in ``expiry`` s); the new count."""
        ...


class VerifiedAddress(str):
    """An address verified for the account written to, or configured by an operator.

    Messages to it are not capped; any other address (a plain ``str``) is.
    """

    __slots__ = ()


def address_of(user: User) -> str:
    """The user's email address, marked verified when the account has proved it owns it."""
    if user.email_verified_at_ns is None:
        return user.email
    return VerifiedAddress(user.email)


class RecipientCap:
    """At most ``limit`` messages per unverified recipient per window, across processes."""

    def __init__(
        self,
        counters: Counters,
        digest: Digest,
        audit: AuditTrail,
        *,
        limit: int,
        window_seconds: int,
    ) -> None:
        self._counters = counters
        self._digest = digest
        self._audit = audit
        self._limit = limit
        self._window = window_seconds

    def admit(self, db: Session, message: EmailMessage | SmsMessage) -> bool:
        """Count one message to its recipient; ``False`` (dropped) when over the cap.

        A store that cannot be reached drops the message (fail closed). The first drop
        of a window is audited with the recipient's digest; every drop is logged.
        """
        recipient = self._digest(message.to.casefold())
        try:
            count = self._counters.incr(f"recipient:{recipient}", self._window)
        except COUNTER_ERRORS:
            log.exception("notify.recipient_cap_unavailable", kind=message.kind)
            return False
        if count <= self._limit:
            return True
        log.warning("notify.recipient_capped", kind=message.kind, recipient=recipient[:16])
        if count == self._limit + 1:
            data = {
                "kind": message.kind,
                "recipient": recipient,
                "limit": self._limit,
                "window_seconds": self._window,
            }
            self._audit.record(db, CAPPED_EVENT, Actor.system("notify"), data=data)
        return False


def activity_lines(device_label: str, ip: str | None, at_ns: int) -> str:
    """When, from which device and which address something happened, as notices say it.

    ``device_label`` is what the device is stored as (a user agent or the client's own
    name): the notice shows its name, "Chrome 131 on macOS", never the raw agent.
    """
    return (
        f"When: {ns_to_rfc3339(at_ns)}\n"
        f"Device: {device_name(device_label)}\n"
        f"Address: {ip or 'unknown'}"
    )


def deliver_inline(send: Callable[[], None]) -> None:
    """Send at once, in the committing thread (tests, command-line tools)."""
    send()


class Outgoing:
    """Queues messages on a session and delivers them after it commits."""

    def __init__(
        self, notifier: Notifier, cap: RecipientCap, deliver: Deliver = deliver_inline
    ) -> None:
        self._notifier = notifier
        self._cap = cap
        self._deliver = deliver

    def install(self, sessions: sessionmaker[Session]) -> None:
        """Deliver the queue of each session of ``sessions`` when it commits."""
        event.listen(sessions, "after_commit", self._after_commit)
        event.listen(sessions, "after_soft_rollback", _discard)

    def queue(
        self, db: Session, message: EmailMessage | SmsMessage, *, verified: bool = False
    ) -> None:
        """Send ``message`` if and when ``db`` commits; capped unless ``verified``.

        Every message of the service passes here, so this is where the per-recipient
        cap holds: a message to an unverified recipient over it is dropped silently.
        """
        if not verified and not self._cap.admit(db, message):
            return
        db.info.setdefault(OUTGOING_KEY, []).append(message)

    def _after_commit(self, db: Session) -> None:
        for message in db.info.pop(OUTGOING_KEY, []):
            self._deliver(partial(self._send, message))

    def _send(self, message: EmailMessage | SmsMessage) -> None:
        try:
            if isinstance(message, EmailMessage):
                self._notifier.send_email(message)
            else:
                self._notifier.send_sms(message)
        except Exception:
            log.exception("notify.delivery_failed", kind=message.kind)


def _discard(db: Session, _previous_transaction: object) -> None:
    db.info.pop(OUTGOING_KEY, None)


class Notices:
    """The texts of identity's messages; each is queued on the caller's session."""

    def __init__(self, outgoing: Outgoing, public_url: str) -> None:
        self._outgoing = outgoing
        self._url = public_url

    def link(self, path: str) -> str:
        """An absolute link to ``path`` on this service."""
        return f"{self._url}{path}"

    def email(self, db: Session, to: str, kind: str, subject: str, text: str) -> None:
        """Queue one email; capped per recipient unless ``to`` is a `VerifiedAddress`."""
        message = EmailMessage(to=str(to), subject=subject, text=text, kind=kind)
        self._outgoing.queue(db, message, verified=isinstance(to, VerifiedAddress))

    def sms(self, db: Session, to: str, kind: str, text: str) -> None:
        """Queue one text message; capped per recipient unless ``to`` is verified."""
        message = SmsMessage(to=str(to), text=text, kind=kind)
        self._outgoing.queue(db, message, verified=isinstance(to, VerifiedAddress))

    def verification(self, db: Session, to: str, code: str, link: str) -> None:
        """The code that verifies a new account's email address."""
        self.email(
            db,
            to,
            "email.verification",
            "Verify your email address",
            f"Your TradeGuard verification code is {code}.\n\n"
            f"Or open this link: {link}\n\nIt expires in 10 minutes.",
        )

    def already_registered(self, db: Session, to: str) -> None:
        """Someone tried to sign up with an address that has an account."""
        self.email(
            db,
            to,
            "email.already_registered",
            "Sign-up attempt with your address",
            "Someone tried to create a TradeGuard account with this address, which already "
            f"has one. If it was you, sign in at {self.link('/signin')} or reset your password. "
            "If not, you can ignore this message.",
        )

    def username_taken(self, db: Session, to: str) -> None:
        """The chosen username is not available."""
        self.email(
            db,
            to,
            "email.username_taken",
            "Choose another username",
            f"The username you chose is not available. Please sign up again at "
            f"{self.link('/signup')} with another one.",
        )

    def sign_in_code(self, db: Session, to: str, code: str, *, sms: bool) -> None:
        """A one-time code for signing in or confirming an action."""
        text = f"TradeGuard code: {code}. Valid 10 minutes. Never share it; we never ask for it."
        if sms:
            self.sms(db, to, "otp.sms", text)
        else:
            self.email(db, to, "otp.email", "Your TradeGuard code", text)

    def password_reset(self, db: Session, to: str, code: str) -> None:
        """The code that lets the owner choose a new password."""
        self.email(
            db,
            to,
            "email.password_reset",
            "Reset your password",
            f"Your password reset code is {code}. It expires in 10 minutes. Signing in "
            "afterwards still needs your second factor. If you did not ask for this, "
            "ignore this message.",
        )

    def security(self, db: Session, to: str, kind: str, subject: str, text: str) -> None:
        """A security notice (lock, new device, token reuse, factor change)."""
        footer = f"\n\nIf this was not you, secure your account at {self.link('/account')}."
        self.email(db, to, f"security.{kind}", subject, text + footer)
