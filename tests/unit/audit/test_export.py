"""Proofs against checkpoints, and export bundles verified with no database and no private key."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
import zstandard
from audit_kit import AuditKit

from tradeguard.audit.export import BundleError, export_bundle, verify_bundle
from tradeguard.audit.merkle import verify_consistency, verify_inclusion
from tradeguard.audit.proofs import ProofError, prove_consistency, prove_inclusion
from tradeguard.db.session import transaction


@pytest.fixture
def trail(audit: AuditKit) -> AuditKit:
    audit.record_many(23)
    return audit


def _export(trail: AuditKit, first: int, last: int, out: Path) -> Path:
    with transaction(trail.sessions) as session:
        export_bundle(session, trail.trail, first, last, out)
    return out


def _lines(bundle: Path) -> list[dict]:
    raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(bundle.read_bytes())).read()
    return [json.loads(line) for line in raw.decode().splitlines()]


def _write(bundle: Path, lines: list[dict]) -> None:
    payload = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode()
    bundle.write_bytes(zstandard.ZstdCompressor().compress(payload))


def test_inclusion_proof_when_checked_then_proves_event_in_signed_root(trail: AuditKit) -> None:
    with trail.sessions() as session:
        proof = prove_inclusion(session, 7)
    assert proof.checkpoint.tree_size == 10
    assert verify_inclusion(proof.leaf_hash, 6, 10, proof.path, proof.checkpoint.root_hash)
    assert not verify_inclusion(proof.leaf_hash, 5, 10, proof.path, proof.checkpoint.root_hash)


def test_consistency_proof_when_checked_then_old_root_is_prefix_of_new(trail: AuditKit) -> None:
    with trail.sessions() as session:
        proof = prove_consistency(session, 5, 20)
    assert verify_consistency(5, 20, proof.old.root_hash, proof.new.root_hash, proof.path)
    assert not verify_consistency(5, 20, proof.new.root_hash, proof.old.root_hash, proof.path)


def test_proofs_when_not_covered_then_clear_error(trail: AuditKit) -> None:
    with trail.sessions() as session:
        with pytest.raises(ProofError, match="no checkpoint covers event 22"):
            prove_inclusion(session, 22)
        with pytest.raises(ProofError, match="no checkpoint at tree size 7"):
            prove_consistency(session, 7, 10)


@pytest.mark.parametrize(("first", "last"), [(1, 23), (6, 12), (11, 11), (3, 20)])
def test_bundle_when_exported_then_verifies_offline(
    trail: AuditKit, tmp_path: Path, first: int, last: int
) -> None:
    bundle = _export(trail, first, last, tmp_path / "bundle.tgz")
    result = verify_bundle(bundle)
    assert result.ok, result.problem
    assert result.events == last - first + 1
    assert result.checkpoints >= 1


def test_bundle_when_record_edited_then_fails_at_that_event(
    trail: AuditKit, tmp_path: Path
) -> None:
    bundle = _export(trail, 6, 12, tmp_path / "bundle.tgz")
    lines = _lines(bundle)
    event = next(line for line in lines if line.get("seq") == 8)
    event["record"] = event["record"].replace('"n":7', '"n":70')
    _write(bundle, lines)
    result = verify_bundle(bundle)
    assert (result.ok, result.first_bad_seq) == (False, 10)
    assert "do not match the signed checkpoint" in (result.problem or "")


def test_bundle_when_event_dropped_then_gap_reported(trail: AuditKit, tmp_path: Path) -> None:
    bundle = _export(trail, 1, 12, tmp_path / "bundle.tgz")
    _write(bundle, [line for line in _lines(bundle) if line.get("seq") != 4])
    result = verify_bundle(bundle)
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_bundle_when_signature_forged_then_reported(trail: AuditKit, tmp_path: Path) -> None:
    bundle = _export(trail, 1, 12, tmp_path / "bundle.tgz")
    lines = _lines(bundle)
    for line in lines:
        if line["kind"] == "checkpoint" and line["tree_size"] == 5:
            line["signature"] = base64.b64encode(bytes(64)).decode()
    _write(bundle, lines)
    result = verify_bundle(bundle)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "invalid signature" in (result.problem or "")


def test_bundle_when_key_not_trusted_then_refused(trail: AuditKit, tmp_path: Path) -> None:
    bundle = _export(trail, 1, 12, tmp_path / "bundle.tgz")
    key_id = next(line["key_id"] for line in _lines(bundle) if line["kind"] == "key")
    assert verify_bundle(bundle, {key_id: bytes(32)}).problem == (
        f"signing key {key_id} in the bundle is not one of the trusted keys"
    )
    with trail.sessions() as session:
        published = {k.key_id: k.public_bytes for k in trail.crypto.signing.public_keys(session)}
    assert verify_bundle(bundle, published).ok


def test_bundle_when_not_a_bundle_then_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not zstd at all")
    with pytest.raises(BundleError, match=r"junk\.bin is not a readable bundle"):
        verify_bundle(junk)
    with pytest.raises(BundleError, match="does not exist"):
        verify_bundle(tmp_path / "absent")
