"""``tradeguard fraud report``: decision rates, scores, feature drift, precision of blocks.

Read from the audit trail (``fraud.decision`` events) and the alert store (the fraud
alerts' cases: a case decided ``false_positive`` is a wrong block, any other decision a
right one). Drift compares the feature bins recorded with the champion's decisions to
the champion's training data (``fraud.drift``).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.search import AuditQuery, search
from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.fraud.artifact import FraudModel
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.drift import drift, level
from tradeguard.fraud.profiles import NS

PAGE = 1000
BUCKETS = 10
TOP_DRIFTING = 10


def decision_report(db: Session, now_ns: int, days: int, champion: FraudModel | None = None) -> str:
    """The report's text (drift against ``champion``'s training data when it has bins)."""
    since = max(now_ns - days * 86_400 * NS, 0)
    outcomes: Counter[tuple[str, str]] = Counter()
    scores: Counter[int] = Counter()
    recorded: list[str] = []
    version = None if champion is None else champion.version
    after = 0
    while True:
        page = search(
            db, AuditQuery(event_type="fraud.decision", since_ns=since, after_seq=after, limit=PAGE)
        )
        for event in page.events:
            outcomes[(str(event.data.get("action")), str(event.data.get("outcome")))] += 1
            scores[min(int(float(event.data.get("score", 0)) * BUCKETS), BUCKETS - 1)] += 1
            bins = event.data.get("feature_bins")
            if isinstance(bins, str) and event.data.get("model_version") == version:
                recorded.append(bins)
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
    lines += _drift(champion, recorded)
    lines.append(_precision(db, since))
    return "\n".join(lines)


def _drift(champion: FraudModel | None, recorded: list[str]) -> list[str]:
    if champion is None or champion.bins is None:
        return ["feature drift: no champion trained with feature bins"]
    seen, ranked = drift(champion.bins, FEATURE_NAMES, recorded)
    if seen == 0:
        return [f"feature drift: no decision of {champion.version} recorded its features yet"]
    shifted = sum(1 for _, index in ranked if level(index) == "shifted")
    head = f"feature drift against {champion.version}'s training data"
    lines = [f"{head} ({seen} decisions; PSI; {shifted} features shifted):"]
    lines += [f"  {name:<40} {index:.3f} {level(index)}" for name, index in ranked[:TOP_DRIFTING]]
    return lines


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
