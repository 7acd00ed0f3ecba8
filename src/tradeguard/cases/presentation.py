"""How an alert's evidence is shown to a reviewer: measures against thresholds, tables, a timeline.

Each alert source may register a presenter on the alert store (surveillance does; a source
without one gets ``generic_presentation``, which shows every scalar member as a measure and
every list of records as a table). The staff console renders a presentation as it is:
it never interprets evidence itself, so every source's alerts read the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tradeguard.core.clock import ns_to_rfc3339

MAX_TABLE_ROWS = 50
MAX_COLUMNS = 12
MAX_TIMELINE = 200


@dataclass(frozen=True, slots=True)
class Measure:
    """One number of the evidence, and the threshold it was held against (if any)."""

    label: str
    value: str
    threshold: str | None = None
    met: bool | None = None
    """Whether the value passed its threshold; None where no threshold applies."""


def measured(
    label: str, value: float | None, threshold: float, *, at_most: bool = False
) -> Measure:
    """``value`` against ``threshold`` (at least it, or at most it with ``at_most``)."""
    if value is None:
        return Measure(label, "—", _number(threshold), None)
    met = value <= threshold if at_most else value >= threshold
    bound = f"≤ {_number(threshold)}" if at_most else f"≥ {_number(threshold)}"
    return Measure(label, _number(value), bound, met)


@dataclass(frozen=True, slots=True)
class Table:
    """Records of the evidence (orders, trades, positions) as rows of text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def table(title: str, columns: Mapping[str, str], records: Iterable[Mapping[str, Any]]) -> Table:
    """A table with ``columns`` (member name to heading) from ``records``."""
    rows = tuple(
        tuple(cell(record.get(name)) for name in columns)
        for record, _ in zip(records, range(MAX_TABLE_ROWS), strict=False)
    )
    return Table(title, tuple(columns.values()), rows)


@dataclass(frozen=True, slots=True)
class Moment:
    """One step of the episode, in time order on the timeline."""

    ts_ns: int
    what: str
    price: str | None = None
    """The price of the trade or order at that moment, for the price picture."""


@dataclass(frozen=True, slots=True)
class Presentation:
    """An alert's evidence as a reviewer reads it."""

    summary: str
    measures: tuple[Measure, ...] = ()
    tables: tuple[Table, ...] = ()
    timeline: tuple[Moment, ...] = field(default=())


Presenter = Callable[[str, Mapping[str, Any], Mapping[str, Any]], Presentation]
"""From typology, evidence and parameters to a presentation."""


def generic_presentation(
    typology: str, evidence: Mapping[str, Any], _parameters: Mapping[str, Any]
) -> Presentation:
    """Any evidence: its scalar members as measures, its lists of records as tables."""
    measures = tuple(
        Measure(_label(name), cell(value))
        for name, value in evidence.items()
        if value is None or isinstance(value, str | int | float | bool)
    )
    tables = tuple(
        table(_label(name), {key: _label(key) for key in _keys(value)}, value)
        for name, value in evidence.items()
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value)
    )
    return Presentation(summary=_label(typology), measures=measures, tables=tables)


def _keys(records: list[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    return list(keys)[:MAX_COLUMNS]


def _label(name: str) -> str:
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) >= 1 else f"{value:.4g}"


def cell(value: Any) -> str:  # noqa: ANN401 - any JSON value of the evidence
    """A JSON value as the text of one table cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list | dict):
        return f"{len(value)} items"
    return str(value)[:200]


class MeasureView(BaseModel):
    """A measure as the API shows it."""

    label: str
    value: str
    threshold: str | None
    met: bool | None


class TableView(BaseModel):
    """A table as the API shows it."""

    title: str
    columns: list[str]
    rows: list[list[str]]


class MomentView(BaseModel):
    """A step of the timeline as the API shows it."""

    at: str
    ts_ns: int
    what: str
    price: str | None


class PresentationView(BaseModel):
    """The evidence as the staff console shows it."""

    summary: str
    measures: list[MeasureView]
    tables: list[TableView]
    timeline: list[MomentView]


def presentation_view(presentation: Presentation) -> PresentationView:
    """The API's view of a presentation (timeline in time order, bounded)."""
    moments = sorted(presentation.timeline, key=lambda moment: moment.ts_ns)[:MAX_TIMELINE]
    return PresentationView(
        summary=presentation.summary,
        measures=[
            MeasureView(label=m.label, value=m.value, threshold=m.threshold, met=m.met)
            for m in presentation.measures
        ],
        tables=[
            TableView(title=t.title, columns=list(t.columns), rows=[list(row) for row in t.rows])
            for t in presentation.tables
        ],
        timeline=[
            MomentView(at=ns_to_rfc3339(m.ts_ns), ts_ns=m.ts_ns, what=m.what, price=m.price)
            for m in moments
        ],
    )
