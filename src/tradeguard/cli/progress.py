"""The progress bar of long commands (re-encryption, list loads, rescreens, batches)."""

from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn


def progress_bar() -> Progress:
    """A bar with its description and done/total, gone once the command finishes."""
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True
    )
