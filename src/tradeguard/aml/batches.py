"""Filing batches: the reports ready to file, in one FinCEN batch file with its totals.

Each SAR and CTR is generated as a batch of one activity. For upload, the ones ready to
file (generated, filing not yet recorded) are merged into one batch of their form: their
activities in order, every ``SeqNum`` renumbered so it stays unique in the document, and
the batch's totals (``TotalAmount``, ``PartyCount``, ``ActivityCount`` and, for SARs, the
attachment counts) summed over them. Each export is one ``aml.batch.exported`` audit
(``aml.sar.batch_exported`` for SARs, shown only to holders of ``aml:sar``)
event with the reports it holds, the totals and the file's SHA-256.

SAR and CTR files and their batches are sealed (encrypted, ``aml/sealed_files.py``): a
batch is merged from its reports' decrypted files and written sealed, and a download
decrypts it. Deleting a SAR deletes the batches that hold it (``batches_holding``): a
batch is a copy made for the upload, and every other report in it keeps its own file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.fincen_xml import NAMESPACE, new_batch, serialize
from tradeguard.aml.models import CtrRow, SarRow
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.core.clock import Clock
from tradeguard.core.errors import CONFLICT, NOT_FOUND, ProblemError

TOTALS = ("TotalAmount", "PartyCount", "ActivityCount", "ActivityAttachmentCount",
          "AttachmentCount")  # fmt: skip
BATCH_NAME = re.compile(r"^batch-(CTRX|SARX)-[0-9]{8}T[0-9]{6}-[0-9]{1,9}\.xml$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
SAR_BATCH_EXPORTED = "aml.sar.batch_exported"
BATCH_EXPORTED = "aml.batch.exported"


@dataclass(frozen=True, slots=True)
class Batch:
    """One exported batch: its file, form, reports and totals."""

    file: str
    form: str
    reports: list[str]
    totals: dict[str, int]
    sha256: str


def merge(form: str, documents: list[bytes]) -> tuple[bytes, dict[str, int]]:
    """One batch of ``form`` holding every activity of ``documents``; its summed totals."""
    writer = new_batch(form)
    totals = dict.fromkeys(TOTALS, 0)
    present: set[str] = set()
    for document in documents:
        root = etree.fromstring(document, _PARSER)
        for name in TOTALS:
            if name in root.attrib:
                present.add(name)
                totals[name] += int(root.attrib[name])
        for activity in root.findall(f"{{{NAMESPACE}}}Activity"):
            writer.root.append(activity)
    for number, node in enumerate(writer.root.iter(f"{{{NAMESPACE}}}*"), 1):
        if "SeqNum" in node.attrib:
            node.set("SeqNum", str(number))
    kept = {name: totals[name] for name in TOTALS if name in present}
    for name, value in kept.items():
        writer.root.set(name, str(value))
    return serialize(writer), kept


class FilingBatches:
    """Exports the SARs or the CTRs ready to file as one batch file under ``out_dir``."""

    def __init__(self, audit: AuditTrail, clock: Clock, out_dir: Path, files: SealedFiles) -> None:
        self.audit, self.clock, self.out_dir, self.files = audit, clock, out_dir, files

    def ready(self, db: Session, form: str) -> list[tuple[str, Path]]:
        """The reports of ``form`` generated and not yet filed, with their files."""
        if form == "SARX":
            sars = db.scalars(
                select(SarRow).where(SarRow.status == "generated").order_by(SarRow.deadline)
            )
            return [(row.id, self.out_dir / f"sar-{row.id}.xml") for row in sars]
        ctrs = db.scalars(
            select(CtrRow).where(CtrRow.status == "generated").order_by(CtrRow.day, CtrRow.customer)
        )
        return [(row.id, self.out_dir / "ctr" / row.file) for row in ctrs]

    def export(self, db: Session, actor: Actor, form: str) -> Batch:
        """Write the batch of every ready report of ``form``; 409 when none is ready."""
        ready = [(report, path) for report, path in self.ready(db, form) if path.is_file()]
        if not ready:
            raise ProblemError(
                CONFLICT, "AML_NOTHING_TO_FILE", f"no {form} report is ready to file"
            )
        document, totals = merge(form, [self.files.read(path) for _, path in ready])
        now = self.clock.now_ns()
        stamp = datetime.fromtimestamp(now // 10**9, UTC).strftime("%Y%m%dT%H%M%S")
        name = f"batch-{form}-{stamp}-{now % 10**9}.xml"
        self.files.write(self.out_dir / "batches" / name, document)
        batch = Batch(name, form, [report for report, _ in ready], totals,
                      hashlib.sha256(document).hexdigest())  # fmt: skip
        data = {"form": form, "file": name, "reports": batch.reports, "sha256": batch.sha256,
                **{key: str(value) for key, value in totals.items()}}  # fmt: skip
        kind = SAR_BATCH_EXPORTED if form == "SARX" else BATCH_EXPORTED  # SARs: confidential
        self.audit.record(db, kind, actor, subject=f"batch:{name}", data=data)
        return batch

    def seal_clear_ctr_batches(self, db: Session, actor: Actor) -> list[str]:
        """Seal each CTRX batch file exported in clear before batch files were sealed; their names.

        As for the CTRs themselves: only a file whose bytes hash to its export's audited
        SHA-256 is sealed, each audited (``aml.batch.sealed``).
        """
        sealed = []
        for event in exports(db, BATCH_EXPORTED):
            name, sha256 = str(event.data["file"]), str(event.data["sha256"])
            if event.data.get("form") == "CTRX" and self.files.seal_clear(
                self.out_dir / "batches" / name, sha256
            ):
                data = {"file": name, "sha256": sha256}
                self.audit.record(db, "aml.batch.sealed", actor, subject=f"batch:{name}", data=data)
                sealed.append(name)
        return sealed

    def read(self, name: str, form: str) -> bytes:
        """An exported batch file of ``form`` by name; 404 ``AML_BATCH_NOT_FOUND``."""
        path = self.out_dir / "batches" / name
        found = BATCH_NAME.fullmatch(name)
        if found is None or found.group(1) != form or not path.is_file():
            raise ProblemError(NOT_FOUND, "AML_BATCH_NOT_FOUND", "no such batch")
        return self.files.read(path)


def batches_holding(db: Session, sar_id: str) -> list[str]:
    """The names of the SARX batches exported with ``sar_id`` in them (from the trail)."""
    return [
        str(event.data["file"])
        for event in exports(db, SAR_BATCH_EXPORTED)
        if sar_id in event.data.get("reports", ())
    ]


def exports(db: Session, kind: str) -> Iterator[AuditEvent]:
    """The trail's batch exports of ``kind``, oldest first."""
    query = select(AuditEventRow.seq, AuditEventRow.record).where(AuditEventRow.event_type == kind)
    for seq, record in db.execute(query.order_by(AuditEventRow.seq)):
        event = trusted_event(seq, bytes(record))
        if event is not None:
            yield event
