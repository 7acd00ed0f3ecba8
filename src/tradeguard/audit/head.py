"""The head of the trail: the sequence number of its newest event, which ranges end at."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradeguard.audit.models import EVENTS

NEWEST = select(func.max(EVENTS.c.seq))
"""Built once: the watchers read the head many times a second."""


def head_sequence(session: Session) -> int:
    """The sequence number of the newest event (0 for an empty trail)."""
    return int(session.scalar(NEWEST) or 0)


def past_head(seq: int, head: int) -> str:
    """Why ``seq`` names no event yet, saying where the trail ends."""
    if head == 0:
        return f"event {seq} does not exist: the audit trail is empty"
    return f"event {seq} is past the head of the audit trail (sequence {head})"
