"""Scale-out over NATS JetStream: a relay publishes the trail, partition consumers watch it.

The relay reads the audit table after its own cursor and publishes each event's signed
record to ``<prefix>.<partition>`` with the JetStream message id set to the audit
sequence, so a record published twice (the relay crashed after publishing, before its
cursor moved) is dropped by the stream's duplicate window. A consumer of partition N/M
pulls from a durable consumer on ``<prefix>.<N>``, feeds the same watcher code the
embedded runner uses, stores the alerts and moves the partition's cursor in one
transaction, and only then acknowledges: a crash redelivers, and the cursor skips
what was already stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import BadRequestError
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.head import head_sequence
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.core.canonical_json import canonical_dumps
from tradeguard.core.clock import Clock
from tradeguard.db.session import transaction
from tradeguard.watch.cursor import events_between, locked_cursor
from tradeguard.watch.partitions import partition_key, partition_of
from tradeguard.watch.runner import CursorRunner, Progress

RELAY_CURSOR = "nats-relay"
SEQ_HEADER = "Tradeguard-Seq"
DUPLICATE_WINDOW_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class BusLayout:
    """Where the trail goes on the bus: the stream, its subjects, how many partitions."""

    stream: str = "TRADEGUARD_AUDIT"
    prefix: str = "tradeguard.audit"
    partitions: int = 4

    def subject(self, event: AuditEvent) -> str:
        """The subject of ``event``: its partition's."""
        return f"{self.prefix}.{partition_of(partition_key(event), self.partitions) + 1}"

    def partition_subject(self, number: int) -> str:
        """The subject of partition ``number`` (counted from 1)."""
        return f"{self.prefix}.{number}"


async def ensure_stream(js: JetStreamContext, layout: BusLayout) -> None:
    """Create the stream (or bring its subjects and duplicate window up to date)."""
    config = StreamConfig(
        name=layout.stream,
        subjects=[f"{layout.prefix}.*"],
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


class Relay:
    """Publishes the audit trail to JetStream after its cursor, in order."""

    def __init__(
        self, sessions: sessionmaker[Session], layout: BusLayout, clock: Clock, batch: int = 500
    ) -> None:
        self.sessions = sessions
        self.layout = layout
        self.clock = clock
        self.batch = batch

    async def run_once(self, js: JetStreamContext) -> int:
        """Publish the next batch; the cursor moves only after every publish was acknowledged."""
        with transaction(self.sessions) as db:
            cursor = locked_cursor(db, RELAY_CURSOR, self.clock.now_ns())
            events = events_between(db, cursor.seq, min(head_sequence(db), cursor.seq + self.batch))
            await asyncio.gather(*(self._publish(js, event) for event in events))
            if events:
                cursor.move(db, events[-1].seq, events[-1].ts_ns, self.clock.now_ns())
            return len(events)

    async def _publish(self, js: JetStreamContext, event: AuditEvent) -> None:
        record = canonical_dumps(event.document(event.seq))
        headers = {"Nats-Msg-Id": str(event.seq), SEQ_HEADER: str(event.seq)}
        await js.publish(
            self.layout.subject(event), record, stream=self.layout.stream, headers=headers
        )


class PartitionConsumer:
    """One watcher partition fed from its JetStream subject through a durable consumer."""

    def __init__(
        self,
        runner: CursorRunner,
        sessions: sessionmaker[Session],
        layout: BusLayout,
        ack_wait_seconds: float = 30.0,
        batch: int = 200,
    ) -> None:
        self.runner = runner
        self.batch = batch
        self.sessions = sessions
        self.layout = layout
        self.ack_wait_seconds = ack_wait_seconds
        self._subscription: JetStreamContext.PullSubscription | None = None
        number = runner.partition.index + 1
        self.subject = layout.partition_subject(number)
        self.durable = f"{runner.factory().name}-p{number}of{runner.partition.count}"

    async def run_once(self, js: JetStreamContext, wait_seconds: float = 1.0) -> Progress | None:
        """Pull, process and acknowledge one batch; None when nothing arrived in ``wait_seconds``.

        At most ``batch`` messages are ever unacknowledged, so after a crash the server
        redelivers those before it sends anything newer: the partition stays in order.
        """
        subscription = await self._subscribe(js)
        try:
            messages = await subscription.fetch(self.batch, timeout=wait_seconds)
        except (NatsTimeout, TimeoutError):  # nothing arrived in time
            return None
        events = [_event_of(message.data, message.headers) for message in messages]
        known = sorted((event for event in events if event is not None), key=lambda e: e.seq)
        through = max((event.seq for event in known), default=0)
        self.runner.forget_stored()
        with transaction(self.sessions) as db:
            progress = self.runner.process(db, known, through)
        self.runner.store.committed(self.runner.stored())
        await asyncio.gather(*(message.ack() for message in messages))
        return progress

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        if self._subscription is None:
            self._subscription = await js.pull_subscribe(
                self.subject,
                durable=self.durable,
                stream=self.layout.stream,
                config=ConsumerConfig(ack_wait=self.ack_wait_seconds, max_ack_pending=self.batch),
            )
        return self._subscription


def _event_of(data: bytes, headers: dict[str, str] | None) -> AuditEvent | None:
    """The audit event a message carries, checked against the sequence in its headers."""
    seq = (headers or {}).get(SEQ_HEADER, "")
    return trusted_event(int(seq), data) if seq.isdigit() else None
