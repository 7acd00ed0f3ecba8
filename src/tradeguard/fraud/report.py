"""``tradeguard fraud report``: decision rates, score distribution, precision of blocks.

Read from the audit trail (``fraud.decision`` events) and the alert store (the fraud
alerts' cases: a case decided ``false_positive`` is a wrong block, any other decision a
right one). Feature drift against the training data is not computed yet.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.search import AuditQuery, search
from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.fraud.profiles import NS

PAGE = 1000
BUCKETS = 10


def decision_report(db: Session, now_ns: int, days: int) -> str:
    """The report's text."""
    since = max(now_ns - days * 86_400 * NS, 0)
    outcomes: Counter[tuple[str, str]] = Counter()
    scores: Counter[int] = Counter()
    after = 0
    while True:
        page = search(
            db, AuditQuery(event_type="fraud.decision", since_ns=since, after_seq=after, limit=PAGE)
        )
        for event in page.events:
            outcomes[(str(event.data.get("action")), str(event.data.get("outcome")))] += 1
            scores[min(int(float(event.data.get("score", 0)) * BUCKETS), BUCKETS - 1)] += 1
            after = event.seq
        if len(page.events) < PAGE:
            break
    lines = [f"fraud decisions of the last {days} days: {sum(outcomes.values())}"]
    lines += [
        f"  {action:<18} {outcome:<8} {count}"
        for (action, outcome), count in sorted(outcomes.items())
    ]
    lines.append("score distribution:")
    lines += [f"  {b / BUCKETS:.1f}-{(b + 1) / BUCKETS:.1f} {scores[b]}" for b in range(BUCKETS)]
    lines.append(_precision(db, since))
    return "\n".join(lines)


def _precision(db: Session, since: int) -> str:
    query = (
        select(CaseRow.decision)
        .join(AlertRow, AlertRow.case_id == CaseRow.id)
        .where(
            AlertRow.source == "fraud", AlertRow.start_ns >= since, CaseRow.decision.is_not(None)
        )
    )
    decided = list(db.scalars(query))
    if not decided:
        return "precision of blocks: no reviewed fraud case yet"
    right = sum(1 for decision in decided if decision != "false_positive")
    return f"precision of blocks: {right / len(decided):.3f} ({right} of {len(decided)} reviewed)"
