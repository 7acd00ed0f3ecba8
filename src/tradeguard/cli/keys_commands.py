"""``tradeguard keys``: rotation status, rotation and re-encryption."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tradeguard import tables
from tradeguard.cli.progress import progress_bar
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.crypto.keyring import DataClass, KeysetStatus
from tradeguard.crypto.reencrypt import DEFAULT_BATCH_SIZE, Reencryptor
from tradeguard.crypto.signing import SigningPurpose
from tradeguard.db.base import Base

app = typer.Typer(help="Key rotation and re-encryption.", no_args_is_help=True)
ClassOption = Annotated[
    DataClass | None, typer.Option("--class", help="Data class (default: every class).")
]
del tables  # imported for its side effect: every table is mapped


@app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Each keyset's primary key, its age, keys in use and rotation due date; exit 1 if overdue."""
    with command_runtime() as runtime, runtime.sessions() as session:
        statuses = runtime.crypto.keyring.status(session)
    rows = [_status_row(item) for item in statuses]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            typer.echo(
                f"{row['keyset']:<26} primary {row['primary_key_id']:>10}  "
                f"age {row['primary_age_days']:>6}d  in use {row['keys_in_use']:<24} "
                f"due {row['rotation_due']}{'  OVERDUE' if row['overdue'] else ''}"
            )
    if any(item.overdue for item in statuses):
        raise typer.Exit(1)


def _status_row(item: KeysetStatus) -> dict[str, object]:
    due = "manual" if item.rotation_due_ns is None else ns_to_rfc3339(item.rotation_due_ns)
    return {
        "keyset": item.name,
        "kind": item.kind.value,
        "primary_key_id": item.primary_key_id,
        "primary_age_days": round(item.primary_age_days, 1),
        "keys_in_use": ",".join(str(key_id) for key_id in item.keys_in_use),
        "rotation_due": due,
        "overdue": item.overdue,
    }


@app.command("rotate")
def rotate(
    data_class: Annotated[DataClass, typer.Option("--class", help="Data class to rotate.")],
) -> None:
    """Add a new key to a class's keyset and make it primary (old keys keep decrypting)."""
    with command_runtime() as runtime, runtime.sessions() as session, session.begin():
        key_id = runtime.crypto.keyring.rotate(session, data_class.value)
    typer.echo(f"{data_class.value}: new primary key {key_id}; run `tradeguard keys reencrypt`")


@app.command("reencrypt")
def reencrypt(
    data_class: ClassOption = None,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Rows per transaction.")
    ] = DEFAULT_BATCH_SIZE,
) -> None:
    """Re-encrypt values under old keys, resumably; disable old keys when none remain."""
    classes = None if data_class is None else [data_class]
    with command_runtime() as runtime, progress_bar() as bar:
        tasks: dict[str, object] = {}

        def advance(label: str, done: int, total: int) -> None:
            task = tasks.setdefault(label, bar.add_task(label, total=total))
            bar.update(task, completed=done, total=total)  # type: ignore[arg-type]

        job = Reencryptor(runtime.sessions, runtime.crypto.keyring, runtime.clock, batch_size)
        reports = job.run(list(Base.registry.mappers), classes, advance)
    for report in reports:
        disabled = ",".join(str(key_id) for key_id in report.disabled_key_ids) or "none"
        typer.echo(
            f"{report.data_class.value}: {report.rewritten} re-encrypted, "
            f"{report.remaining} still under old keys, disabled keys: {disabled}"
        )
    if any(report.remaining for report in reports):
        raise typer.Exit(1)


@app.command("signing")
def signing() -> None:
    """List the public signing keys (audit checkpoints, tokens), active and retired."""
    with command_runtime() as runtime, runtime.sessions() as session:
        keys = runtime.crypto.signing.public_keys(session)
    for key in keys:
        state = "active" if key.active else "retired"
        typer.echo(f"{key.purpose.value:<6} {key.key_id}  {state}  {key.public_bytes.hex()}")


@app.command("rotate-signing")
def rotate_signing(
    purpose: Annotated[SigningPurpose, typer.Option(help="Which signing key to replace.")],
) -> None:
    """Make a new signing key active; the old one stays published to verify old signatures."""
    with command_runtime() as runtime, runtime.sessions() as session, session.begin():
        key = runtime.crypto.signing.rotate(session, purpose)
    typer.echo(f"{purpose.value}: new signing key {key.key_id}")
