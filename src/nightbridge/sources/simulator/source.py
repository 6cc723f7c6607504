"""The simulator as a ``Source``: deterministic synthetic data, never in the future."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import ClassVar, TypeVar

from nightbridge.engine.clock import SystemClock, WallClock
from nightbridge.errors import SkippableError
from nightbridge.model import Collection, NSDocument
from nightbridge.sources.base import Batch, FetchWindow
from nightbridge.sources.simulator import generator
from nightbridge.sources.simulator.settings import DEFAULT_DEVICE, SimulatorSettings
from nightbridge.sources.simulator.transform import to_devicestatus, to_entry, to_treatment

V = TypeVar("V")
D = TypeVar("D", bound=NSDocument)


def _built(batch: Batch, make: Callable[[V, str], D], values: Iterable[V], device: str) -> list[D]:
    """Model documents of ``values``; one that fails validation is counted in ``batch.skipped``.

    (Only possible when the injected clock is far from the wall clock the model checks against.)
    """
    docs: list[D] = []
    for value in values:
        try:
            docs.append(make(value, device))
        except SkippableError as exc:
            batch.count_skip(exc.field)
    return docs


class SimulatorSource:
    """A synthetic CGM + pump person. Same ``seed`` and time ⇒ same documents, in any window.

    ``fetch`` returns sgv entries on the 5-minute grid, Meal/Correction boluses, Carb
    Corrections and Site Changes as treatments, and a devicestatus every 30 minutes, all with
    ``date`` in the window and not after ``clock.now_ms()``.
    """

    kind: ClassVar[str] = "simulator"
    cadence = timedelta(minutes=5)
    session_lifetime: timedelta | None = None
    #: Every collection ``fetch`` fills: the engine's gap analysis asks an output about each.
    collections: tuple[Collection, ...] = (
        Collection.ENTRIES,
        Collection.TREATMENTS,
        Collection.DEVICESTATUS,
    )
    #: How far before its cursor the engine re-reads (a real CGM vendor backfills late).
    overlap = timedelta(hours=1)

    def __init__(
        self,
        account: str = "demo",
        seed: int = 1,
        device: str = DEFAULT_DEVICE,
        clock: WallClock | None = None,
        max_history: timedelta = timedelta(days=90),
    ) -> None:
        self.account = account
        self.seed = seed
        self.device = device
        self.max_history = max_history
        self._clock: WallClock = clock or SystemClock()

    @classmethod
    def from_settings(
        cls, settings: SimulatorSettings, clock: WallClock | None = None
    ) -> SimulatorSource:
        return cls(
            account=settings.account,
            seed=settings.seed,
            device=settings.device,
            clock=clock,
            max_history=timedelta(days=settings.max_history_days),
        )

    async def check(self) -> None:
        """Always fine: there is nothing to log in to."""

    async def fetch(self, window: FetchWindow) -> Batch:
        end = min(window.end_ms, self._clock.now_ms() + 1)
        batch = Batch()
        if end <= window.start_ms:
            return batch
        start, device = window.start_ms, self.device
        batch.entries = _built(batch, to_entry, generator.readings(self.seed, start, end), device)
        batch.treatments = _built(
            batch, to_treatment, generator.doses(self.seed, start, end), device
        )
        batch.devicestatus = _built(batch, to_devicestatus, generator.statuses(start, end), device)
        return batch

    async def aclose(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"SimulatorSource(account={self.account!r}, seed={self.seed})"
