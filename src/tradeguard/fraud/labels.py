"""Review outcomes become training labels: decided fraud cases as labelled history.

A blocked decision's alert keeps the feature values it was decided on. Once its case is
decided, ``false_positive`` makes it a legitimate example (label 0) and any other decision
a fraud example (label 1). ``labelled_history`` writes them in the format
``tradeguard fraud train --history`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.guard import SOURCE

FALSE_POSITIVE = "false_positive"


def labelled_history(db: Session) -> Iterator[str]:
    """One JSON line per reviewed fraud alert that kept its features."""
    query = (
        select(AlertRow.evidence, CaseRow.decision)
        .join(CaseRow, AlertRow.case_id == CaseRow.id)
        .where(AlertRow.source == SOURCE, CaseRow.decision.is_not(None))
        .order_by(AlertRow.start_ns)
    )
    known = set(FEATURE_NAMES)
    for evidence, decision in db.execute(query):
        features = json.loads(evidence).get("features")
        if not isinstance(features, dict) or set(features) - known:
            continue
        label = 0 if decision == FALSE_POSITIVE else 1
        yield json.dumps({"features": features, "label": label}, sort_keys=True)
