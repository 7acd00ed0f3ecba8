"""``tradeguard audit``: verify, checkpoint, export, offline bundle verification, proofs."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated

import typer

from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.export import export_bundle, verify_bundle
from tradeguard.audit.export_range import export_range
from tradeguard.audit.proofs import prove_consistency, prove_inclusion
from tradeguard.audit.publication import Republished, republish_missing
from tradeguard.audit.verify import VerificationResult, verify_database
from tradeguard.cli import audit_query_commands
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.errors import TradeGuardError
from tradeguard.db.session import transaction

EXIT_REPAIRABLE = 3
"""`audit verify`: the database is intact, some checkpoints are not yet in the witness."""
app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
audit_query_commands.register(app)


class KeysFileError(TradeGuardError):
    """The trusted keys given to ``verify-bundle`` cannot be read."""


@app.command("verify")
def verify() -> None:
    """Recompute every hash and check every signed checkpoint; exit 1 naming the first bad event."""
    with command_runtime() as runtime:
        result = verify_database(runtime.engine, Witness(runtime.settings.effective_witness_file))
    _report(result)


@app.command("checkpoint")
def checkpoint() -> None:
    """Publish the checkpoints the witness lacks, then sign one now if events arrived."""
    with command_runtime() as runtime:
        repaired = republish_missing(runtime.sessions, runtime.audit)
        with transaction(runtime.sessions) as session:
            made = runtime.audit.checkpoint(session)
    if repaired.changed:
        typer.echo(_republished_line(repaired))
    typer.echo("no new events" if made is None else f"checkpoint at tree size {made.tree_size}")


def _republished_line(repaired: Republished) -> str:
    sizes = ", ".join(str(size) for size in repaired.tree_sizes) or "none"
    cut = (
        f"; removed a partial last line of {repaired.torn_bytes} bytes"
        if repaired.torn_bytes
        else ""
    )
    return f"published again to the witness: checkpoints at {sizes}{cut}"


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Bundle file to write (zstd JSON lines).")],
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First event: a sequence number, or a UTC date/time (events at or after it)."
            " Default: the first event of the trail.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Last event: a sequence number (included; past the head is refused), or a UTC"
            " date/time (events before it; that instant excluded). Default: the head.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a range of the trail (default: all of it) with its checkpoints and public keys."""
    with command_runtime() as runtime, transaction(runtime.sessions) as session:
        first, last = export_range(session, start, end)
        summary = export_bundle(session, runtime.audit, first, last, out)
    covered = f"{summary.first_seq}..{summary.last_seq}"
    typer.echo(f"exported events {covered} with {summary.checkpoints} checkpoints to {out}")


@app.command("verify-bundle")
def verify_bundle_command(
    bundle: Annotated[Path, typer.Argument(help="A bundle written by `tradeguard audit export`.")],
    keys: Annotated[
        Path | None, typer.Option(help="Trusted keys: JSON from /v1/keys/signing.")
    ] = None,
) -> None:
    """Verify a bundle offline: no database and no private key needed."""
    _report(verify_bundle(bundle, None if keys is None else _trusted_keys(keys)))


@app.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(help="Sequence number of the event.")],
    tree_size: Annotated[int | None, typer.Option(help="Checkpoint to prove against.")] = None,
) -> None:
    """Print an RFC 9162 inclusion proof of one event in a signed checkpoint."""
    with command_runtime() as runtime, runtime.sessions() as session:
        proof = prove_inclusion(session, seq, tree_size)
    typer.echo(json.dumps(proof.to_json(), indent=2))


@app.command("prove-consistency")
def prove_consistency_command(
    old: Annotated[int, typer.Argument(help="Tree size of the older checkpoint.")],
    new: Annotated[int, typer.Argument(help="Tree size of the newer checkpoint.")],
) -> None:
    """Print an RFC 9162 consistency proof between two checkpoints."""
    with command_runtime() as runtime, runtime.sessions() as session:
        proof = prove_consistency(session, old, new)
    typer.echo(json.dumps(proof.to_json(), indent=2))


def _report(result: VerificationResult) -> None:
    typer.echo(result.line())
    if result.repairable:
        raise typer.Exit(EXIT_REPAIRABLE)
    if not result.ok:
        raise typer.Exit(1)


def _trusted_keys(path: Path) -> dict[str, bytes]:
    """The audit public keys of a key document (the JSON of ``GET /v1/keys/signing``)."""
    try:
        document = json.loads(path.read_text("utf-8"))
        return {
            key["kid"]: _unpadded_b64(key["public_key"])
            for key in document["keys"]
            if key.get("purpose") == "audit"
        }
    except OSError as exc:
        raise KeysFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeysFileError(
            f"{path} is not a key document: expected the JSON of GET /v1/keys/signing"
        ) from None


def _unpadded_b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
