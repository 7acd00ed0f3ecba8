"""``SanctionsScreening``: the registry's screening service.

One decision function (``decide.decide``) serves onboarding, rescreening, the staff
API and the batch command. The service keeps the current version of each list in
memory, indexed, and notices a newer version loaded by another process at the next
screening. With no list loaded it refuses to decide (fail closed).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.db.session import transaction
from tradeguard.screening.decide import ScreeningParameters, decide
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.list_store import current_versions, read_watchlist, store_version
from tradeguard.screening.models import ListVersionRow
from tradeguard.screening.ofac_csv import LIST_FILES, ListFiles, read_list
from tradeguard.screening.parties import NoParties, ScreenedParties
from tradeguard.screening.problems import no_list_loaded
from tradeguard.screening.watchlist import Watchlist

Progress = Callable[[int], None]
"""Told how many more parties were screened."""


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load wrote and what its rescreening found."""

    list_name: str
    version_id: str
    replaced: str | None
    entries: int
    aliases: int
    addresses: int
    file_hashes: dict[str, str]
    rescreen: RescreenReport | None = None


@dataclass(frozen=True, slots=True)
class RescreenHit:
    """One party a rescreen found a potential match for, and the entry it matched."""

    party_id: str
    decision: ScreeningDecision


@dataclass(frozen=True, slots=True)
class RescreenReport:
    """How many parties a rescreen looked at, how many potential matches, and which."""

    screened: int
    hits: int
    found: tuple[RescreenHit, ...] = ()


class Screener:
    """The decision function over a fixed set of list versions (one batch, one request)."""

    def __init__(self, watchlists: list[Watchlist], parameters: ScreeningParameters) -> None:
        if not watchlists:
            raise no_list_loaded()
        self.watchlists = watchlists
        self.parameters = parameters

    def screen(self, subject: ScreeningSubject) -> ScreeningDecision:
        """The decision for ``subject``."""
        return decide(subject, self.watchlists, self.parameters)


class SanctionsScreening:
    """Screens subjects against the loaded lists; loads lists; rescreens parties."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        audit: AuditTrail,
        clock: Clock,
        parameters: ScreeningParameters | None = None,
        parties: ScreenedParties | None = None,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self.parameters = parameters or ScreeningParameters()
        self.parties: ScreenedParties = parties or NoParties()
        self._loaded: dict[str, Watchlist] = {}
        self._lock = threading.Lock()

    def screen(self, subject: ScreeningSubject) -> ScreeningDecision:
        """The screening decision for ``subject`` against every current list."""
        return self.screener().screen(subject)

    def screener(self) -> Screener:
        """A screener over the current version of every list (refused when none is loaded)."""
        with self._sessions() as session:
            return Screener(self._current(session), self.parameters)

    def _current(self, session: Session) -> list[Watchlist]:
        """The current watchlists, read from the database only when a version changed."""
        versions = current_versions(session)
        with self._lock:
            fresh = {version.id: self._watchlist(session, version) for version in versions}
            self._loaded = fresh
            return list(fresh.values())

    def _watchlist(self, session: Session, version: ListVersionRow) -> Watchlist:
        known = self._loaded.get(version.id)
        return known if known is not None else read_watchlist(session, version)

    def load(
        self, directory: Path, list_name: str, actor: Actor, progress: Progress | None = None
    ) -> LoadReport:
        """Load a list as its new current version (all or nothing), then rescreen the parties."""
        parsed = read_list(directory, list_name)
        version_id = str(new_id(self._clock))
        with transaction(self._sessions) as session:
            stored = store_version(session, parsed, version_id, self._clock.now_ns(), actor.id)
            report = LoadReport(
                list_name,
                version_id,
                stored.replaced,
                len(parsed.entries),
                parsed.alias_count,
                parsed.address_count,
                parsed.file_hashes,
            )
            self._audit.record(
                session, "screening.list.loaded", actor, subject=version_id, data=_load_data(report)
            )
        rescreened = self.rescreen(actor, progress)
        return replace(report, rescreen=rescreened)

    def reload_changed(self, directory: Path, actor: Actor) -> list[LoadReport]:
        """Load each list whose files in ``directory`` differ from its current version's."""
        reports = []
        with self._sessions() as session:
            stored = {
                version.list_name: version.file_hashes for version in current_versions(session)
            }
        for list_name, files in LIST_FILES.items():
            if (directory / files.primary).is_file() and not _unchanged(
                directory, files, stored.get(list_name)
            ):
                reports.append(self.load(directory, list_name, actor))
        return reports

    def rescreen(self, actor: Actor, progress: Progress | None = None) -> RescreenReport:
        """Screen every party again; each potential match goes to the parties' owner."""
        screener = self.screener()
        with transaction(self._sessions) as session:
            report = self._rescreen_parties(session, screener, progress)
            self._audit.record(
                session,
                "screening.rescreen.completed",
                actor,
                data={
                    "screened": report.screened,
                    "hits": report.hits,
                    "versions": _versions(screener),
                },
            )
        return report

    def _rescreen_parties(
        self, session: Session, screener: Screener, progress: Progress | None
    ) -> RescreenReport:
        screened, found = 0, []
        for party in self.parties.parties(session):
            decision = screener.screen(party.subject)
            screened += 1
            if decision.match:
                self.parties.raise_hit(session, party.party_id, decision)
                found.append(RescreenHit(party.party_id, decision))
            if progress is not None:
                progress(1)
        return RescreenReport(screened, len(found), tuple(found))

    def versions(self) -> list[ListVersionRow]:
        """The current version of every loaded list."""
        with self._sessions() as session:
            return current_versions(session)

    def party_count(self) -> int:
        """How many parties a rescreen would look at."""
        with self._sessions() as session:
            return _count(self.parties.parties(session))


def _unchanged(directory: Path, files: ListFiles, stored: str | None) -> bool:
    """Whether the list files in ``directory`` are those of the stored version."""
    if stored is None:
        return False
    hashes: dict[str, str] = json.loads(stored)
    for name in (files.primary, files.aliases, files.addresses, files.comments):
        path = directory / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        if digest != hashes.get(name):
            return False
    return True


def _count(items: Iterable[object]) -> int:
    return sum(1 for _ in items)


def _versions(screener: Screener) -> dict[str, str]:
    return {watchlist.list_name: watchlist.version for watchlist in screener.watchlists}


def _load_data(report: LoadReport) -> dict[str, object]:
    return {
        "list": report.list_name,
        "replaced": report.replaced,
        "entries": report.entries,
        "aliases": report.aliases,
        "addresses": report.addresses,
        "file_sha256": report.file_hashes,
    }
