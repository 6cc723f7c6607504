"""``LibreLinkUpSource``: one followed LibreLinkUp patient as a nightbridge ``Source``.

Each fetch asks for the graph (about 12 h of 5-minute history, plus the current reading, which
changes about every minute with Libre 3) and the logbook (scans and alarms), and returns the
documents whose time lies in the window. The graph cannot be asked for an older range, so
``max_history`` is 12 h. The poll cadence defaults to 5 minutes (what nightscout-librelink-up
and nightscout-connect do; faster polling invites HTTP 429 from the vendor).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import httpx

from nightbridge.engine.sessions import Clock, monotonic
from nightbridge.model import Collection
from nightbridge.sources.base import Batch, FetchWindow
from nightbridge.sources.librelinkup.api import DEFAULT_TICKET_DURATION, LibreLinkUpApi
from nightbridge.sources.librelinkup.settings import LibreSettings
from nightbridge.sources.librelinkup.transform import add_logbook, graph_batch

MAX_HISTORY = timedelta(hours=12)


class LibreLinkUpSource:
    """Readings, alarms and sensor of one patient followed by a LibreLinkUp account."""

    kind: ClassVar[str] = "librelinkup"
    #: What ``fetch`` returns (the engine's gap analysis asks an output for these alone).
    collections: ClassVar[tuple[Collection, ...]] = (
        Collection.ENTRIES,
        Collection.TREATMENTS,
        Collection.DEVICESTATUS,
    )
    max_history: timedelta = MAX_HISTORY

    def __init__(
        self,
        api: LibreLinkUpApi,
        *,
        cadence: timedelta = timedelta(minutes=5),
        include_logbook: bool = True,
    ) -> None:
        self.api = api
        self.account = api.settings.username
        self.device = api.settings.device
        self.cadence = cadence
        self.include_logbook = include_logbook
        self._lifetime: timedelta | None = DEFAULT_TICKET_DURATION

    @classmethod
    def from_settings(
        cls,
        settings: LibreSettings,
        *,
        client: httpx.AsyncClient,
        clock: Clock = monotonic,
        cadence: timedelta = timedelta(minutes=5),
    ) -> LibreLinkUpSource:
        """A source over ``client`` (not closed by ``aclose``: the caller owns it)."""
        return cls(LibreLinkUpApi(settings, client, clock), cadence=cadence)

    @property
    def session_lifetime(self) -> timedelta | None:
        """The ticket's duration once logged in (180 days in every recorded ticket)."""
        session = self.api.session
        if session is not None and session.lifetime is not None:
            return session.lifetime
        return self._lifetime

    @session_lifetime.setter
    def session_lifetime(self, value: timedelta | None) -> None:
        """Only the lifetime assumed before the first login; a ticket's own duration wins."""
        self._lifetime = value

    async def check(self) -> None:
        """Log in and select the patient; raises AuthError, TermsNotAcceptedError, ..."""
        await self.api.auth.current()  # reuses a live session: no login per check
        await self.api.patient_id()

    async def fetch(self, window: FetchWindow) -> Batch:
        """Entries, alarm notes, sensor start and sensor status with time in ``window``."""
        patient = await self.api.patient_id()
        graph = await self.api.graph(patient)
        batch = graph_batch(graph, self.device)
        if self.include_logbook:
            add_logbook(batch, await self.api.logbook(patient), self.device)
            batch.entries.sort(key=lambda e: e.date)
        return in_window(batch, window)

    async def aclose(self) -> None:
        """Drop the session. The HTTP client belongs to whoever passed it in."""
        self.api.auth.forget()


def in_window(batch: Batch, window: FetchWindow) -> Batch:
    """A copy of ``batch`` holding only documents with ``start_ms <= date < end_ms``."""

    def inside(date: int) -> bool:
        return window.start_ms <= date < window.end_ms

    return Batch(
        entries=[d for d in batch.entries if inside(d.date)],
        treatments=[d for d in batch.treatments if inside(d.date)],
        devicestatus=[d for d in batch.devicestatus if inside(d.date)],
        skipped=dict(batch.skipped),
    )
