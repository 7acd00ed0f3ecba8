"""The witness compared with the database: published, not yet published, contradicted, ahead.

A checkpoint is committed with its events, then appended to the witness. A crash
between the two leaves a checkpoint the witness lacks: repairable, since the database
still proves it (``audit.publication`` publishes it again). A witness line that says
something else than the database is tampering. A witness line beyond the database's
last event means the database lost what it had committed and published (a power loss
without durable commits, or an older backup restored): that is never repaired by
itself, the operator decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tradeguard.audit.checkpoints import Checkpoint, WitnessContents

REPAIR_COMMAND = "tradeguard audit checkpoint"


@dataclass(frozen=True, slots=True)
class WitnessComparison:
    """How the witness stands against the database's checkpoints and events."""

    unpublished: tuple[int, ...] = ()
    """Tree sizes of committed checkpoints that the witness lacks."""
    conflict: tuple[int, str] | None = None
    """The first witness line that contradicts the database: (tree size, what is wrong)."""
    ahead: tuple[int, int] | None = None
    """(largest witnessed tree size, the database's last event) when the witness is ahead."""
    torn_tail: bool = False

    @property
    def repairable(self) -> bool:
        """Something to publish again, and nothing that forbids it."""
        return self.conflict is None and self.ahead is None and self.needs_repair

    @property
    def needs_repair(self) -> bool:
        """Checkpoints to publish again or a partial last line to remove."""
        return bool(self.unpublished) or self.torn_tail

    def refusal(self) -> tuple[int, str] | None:
        """(first bad sequence number, what is wrong) when the witness must not be repaired."""
        if self.conflict is not None:
            return self.conflict
        if self.ahead is not None:
            witnessed, last = self.ahead
            return last + 1, ahead_problem(witnessed, last)
        return None

    def repair_problem(self) -> tuple[int, str]:
        """(first unpublished tree size, what to do) for a repairable witness."""
        parts = []
        if self.unpublished:
            sizes = ", ".join(str(size) for size in self.unpublished)
            parts.append(
                f"checkpoints at {sizes} are committed but not yet published to the witness"
                " (the service stopped between the commit and the witness append)"
            )
        if self.torn_tail:
            parts.append("the witness ends with a partial line (an append cut off by a crash)")
        first = self.unpublished[0] if self.unpublished else 0
        return (
            first,
            f"{'; '.join(parts)}; repairable: run `{REPAIR_COMMAND}` or restart the service",
        )


def ahead_problem(witnessed: int, last: int) -> str:
    """What a witness ahead of the database means, and what to do about it."""
    return (
        f"the witness holds a checkpoint at {witnessed} but the database ends at event {last}:"
        f" events {last + 1}..{witnessed} were committed and published, then lost by the"
        " database (a power loss while commits were not durable, or an older backup"
        " restored) or deleted. Restore the database from a backup that reaches"
        f" {witnessed}; the service refuses to start until the two agree"
        " (docs/operations.md, Durability)"
    )


def compare_witness(
    contents: WitnessContents,
    stored: Sequence[Checkpoint],
    keys: Mapping[str, bytes],
    last_seq: int,
) -> WitnessComparison:
    """Compare the witness with the stored checkpoints, the audit keys and the last event.

    Read the witness before the database: a checkpoint committed and published in
    between then counts as not yet published, never as one the database lacks.
    """
    by_size = {checkpoint.tree_size: checkpoint for checkpoint in stored}
    conflicts, beyond = [], []
    for checkpoint, public_key in contents.entries:
        if checkpoint.tree_size > last_seq:
            beyond.append(checkpoint.tree_size)
            continue
        problem = _published_problem(checkpoint, public_key, by_size, keys)
        if problem is not None:
            conflicts.append((checkpoint.tree_size, problem))
    witnessed = {checkpoint.tree_size for checkpoint, _ in contents.entries}
    return WitnessComparison(
        unpublished=tuple(sorted(size for size in by_size if size not in witnessed)),
        conflict=min(conflicts) if conflicts else None,
        ahead=(max(beyond), last_seq) if beyond else None,
        torn_tail=contents.torn_tail,
    )


def _published_problem(
    checkpoint: Checkpoint,
    public_key: bytes,
    by_size: Mapping[int, Checkpoint],
    keys: Mapping[str, bytes],
) -> str | None:
    size = checkpoint.tree_size
    stored = by_size.get(size)
    if stored is None:
        return f"the witness has a checkpoint at {size} that the database lacks (deleted)"
    if stored != checkpoint:
        return f"the witness and the database disagree on the checkpoint at {size}"
    if keys.get(checkpoint.key_id) != public_key:
        return f"the witness and the database disagree on signing key {checkpoint.key_id}"
    return None
