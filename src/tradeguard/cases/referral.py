"""A regulator referral package: a case with the audit events it rests on, proved and signed.

It holds the case, its alerts and their evidence, and is verifiable offline with the
audit public key. The package is JSON: ``body`` is the exact text that is signed (Ed25519, the audit
signing key), so no canonical form is needed to check it. The body holds a checkpoint
of the trail signed at the time of the referral and, for every supporting event, its
canonical record and its RFC 9162 inclusion proof against that checkpoint. Supporting
events: the case's own events, its alerts' events, and the events of the orders named
in the alerts' evidence.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradeguard.audit.checkpoints import Checkpoint
from tradeguard.audit.merkle import leaf_hash, verify_inclusion
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.proofs import prove_inclusion
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.cases.problems import case_not_escalated
from tradeguard.cases.schemas import alert_view, case_view
from tradeguard.cases.service import Cases
from tradeguard.crypto.signing import SigningPurpose

REFERRAL_FORMAT = "tradeguard-referral/1"
ORDER_KEYS = frozenset({"order_id", "genuine_order", "client_order"})


def build_referral(
    db: Session, trail: AuditTrail, cases: Cases, case_id: str, actor: Actor
) -> dict[str, Any]:
    """The signed package of a case (its export is itself audited)."""
    case = cases.get(db, case_id)
    if case.status != "escalated" and case.decision != "report":
        raise case_not_escalated()
    alerts = cases.alerts(db, case_id)
    trail.record(db, "case.referral.exported", actor, subject=case.id, data={"alerts": len(alerts)})
    db.flush()
    head = db.scalar(select(func.max(AuditEventRow.seq))) or 0
    checkpoint = trail.checkpoint_at(db, head)
    key = trail.signing.active(db, SigningPurpose.AUDIT)
    public = base64.b64encode(key.public_key.public_bytes).decode("ascii")
    body = {
        "format": REFERRAL_FORMAT,
        "case": case_view(case, trail.clock.now_ns()).model_dump(),
        "alerts": [alert_view(alert).model_dump() for alert in alerts],
        "checkpoint": checkpoint.to_json(key.public_key.public_bytes),
        "events": list(_proved_events(db, _supporting(db, case, alerts), checkpoint.tree_size)),
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    signature = key.sign(text.encode("utf-8"))
    return {
        "body": text,
        "key_id": key.key_id,
        "public_key": public,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def verify_referral(package: dict[str, Any], trusted_key: bytes | None = None) -> list[str]:
    """What is wrong with a package (empty when it verifies); needs no database."""
    try:
        public = base64.b64decode(package["public_key"], validate=True)
        if trusted_key is not None and public != trusted_key:
            return ["the package is signed with a key that is not the trusted audit key"]
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(package["signature"], validate=True), package["body"].encode("utf-8")
        )
        body = json.loads(package["body"])
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return ["the package's signature does not verify"]
    return _check_body(body, public)


def _check_body(body: dict[str, Any], public: bytes) -> list[str]:
    checkpoint, checkpoint_key = Checkpoint.from_json(body["checkpoint"])
    problems = []
    if checkpoint_key != public:
        problems.append("the checkpoint is signed with another key")
    try:
        Ed25519PublicKey.from_public_bytes(checkpoint_key).verify(
            checkpoint.signature, checkpoint.signed_message()
        )
    except InvalidSignature:
        problems.append("the checkpoint's signature does not verify")
    for event in body["events"]:
        problems += _check_event(event, checkpoint)
    return problems


def _check_event(event: dict[str, Any], checkpoint: Checkpoint) -> list[str]:
    record = base64.b64decode(event["record"])
    proof = event["proof"]
    path = [bytes.fromhex(node) for node in proof["path"]]
    seq = int(event["seq"])
    if json.loads(record).get("seq") != seq or proof["tree_size"] != checkpoint.tree_size:
        return [f"event {seq}: the record or its proof names another place"]
    if not verify_inclusion(
        leaf_hash(record), seq - 1, checkpoint.tree_size, path, checkpoint.root_hash
    ):
        return [f"event {seq}: not included in the signed checkpoint"]
    return []


def _supporting(db: Session, case: CaseRow, alerts: Sequence[AlertRow]) -> list[int]:
    subjects = {case.id} | {alert.id for alert in alerts}
    for alert in alerts:
        subjects |= set(_order_ids(json.loads(alert.evidence)))
    query = select(AuditEventRow.seq).where(AuditEventRow.subject.in_(sorted(subjects)))
    return list(db.scalars(query.order_by(AuditEventRow.seq)))


def _order_ids(value: Any) -> Iterator[str]:  # noqa: ANN401 - any JSON value
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ORDER_KEYS and isinstance(item, str):
                yield item
            else:
                yield from _order_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _order_ids(item)


def _proved_events(db: Session, seqs: Sequence[int], tree_size: int) -> Iterator[dict[str, Any]]:
    records = dict(
        db.execute(
            select(AuditEventRow.seq, AuditEventRow.record).where(AuditEventRow.seq.in_(seqs))
        ).all()
    )
    for seq in seqs:
        record = bytes(records[seq])
        yield {
            "seq": seq,
            "record": base64.b64encode(record).decode("ascii"),
            "record_sha256": hashlib.sha256(record).hexdigest(),
            "proof": prove_inclusion(db, seq, tree_size).to_json(),
        }
