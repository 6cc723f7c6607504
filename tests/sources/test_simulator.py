"""The simulator: the Source contract, determinism across windows, realism, no future data."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from nightbridge.model import Collection, Direction, EventType
from nightbridge.sources.base import FetchWindow, Source
from nightbridge.sources.simulator import SimulatorSettings, SimulatorSource
from nightbridge.sources.simulator.transform import direction_of
from tests.sources.contract import SourceContract

NOW = 1_699_999_800_000  # 2023-11-14T22:10:00Z, on the 5-minute grid
MIN = 60_000
DAY = 86_400_000


class FixedClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


class TestSimulatorContract(SourceContract):
    @pytest.fixture
    def now_ms(self) -> int:
        return NOW

    @pytest.fixture
    async def source(self) -> AsyncIterator[Source]:
        src = SimulatorSource(account="demo", seed=7, clock=FixedClock(NOW))
        yield src
        await src.aclose()

    @pytest.fixture
    def window(self) -> FetchWindow:
        return FetchWindow(NOW - DAY, NOW + 1)


def sim(seed: int = 1, now: int = NOW) -> SimulatorSource:
    return SimulatorSource(seed=seed, clock=FixedClock(now))


async def test_overlapping_windows_agree_on_every_reading() -> None:
    src = sim()
    whole = await src.fetch(FetchWindow(NOW - DAY, NOW))
    parts = [
        await src.fetch(FetchWindow(NOW - DAY + 7 * MIN, NOW - 3 * 60 * MIN)),
        await src.fetch(FetchWindow(NOW - 4 * 60 * MIN - 13 * MIN, NOW)),
    ]
    by_date = {e.date: e.to_nightscout() for e in whole.entries}
    for part in parts:
        for entry in part.entries:
            assert entry.to_nightscout() == by_date[entry.date]
    later = sim(now=NOW + 30 * DAY)
    again = await later.fetch(FetchWindow(NOW - DAY, NOW))
    assert [e.to_nightscout() for e in again.entries] == list(by_date.values())


async def test_seed_changes_the_person() -> None:
    window = FetchWindow(NOW - DAY, NOW)
    one, two = await sim(1).fetch(window), await sim(2).fetch(window)
    assert [e.sgv for e in one.entries] != [e.sgv for e in two.entries]


async def test_never_produces_future_data() -> None:
    src = sim(now=NOW + 2 * MIN)
    batch = await src.fetch(FetchWindow(NOW - 60 * MIN, NOW + DAY))
    assert max(d.date for d in batch) <= NOW + 2 * MIN
    assert batch.entries[-1].date == NOW
    assert len(await src.fetch(FetchWindow(NOW + 3 * MIN, NOW + DAY))) == 0


async def test_readings_every_five_minutes_on_the_grid() -> None:
    batch = await sim().fetch(FetchWindow(NOW - DAY + 1, NOW + 1))
    dates = [e.date for e in batch.entries]
    assert len(dates) == 288
    assert all(d % (5 * MIN) == 0 for d in dates)
    assert all(b - a == 5 * MIN for a, b in itertools.pairwise(dates))


async def test_ninety_days_look_like_a_person() -> None:
    batch = await sim(seed=4).fetch(FetchWindow(NOW - 90 * DAY, NOW))
    sgv = [e.sgv for e in batch.entries if e.sgv is not None]
    assert len(sgv) == 90 * 288
    assert all(40 <= v <= 400 for v in sgv)
    assert 100 < sum(sgv) / len(sgv) < 160
    assert any(v < 70 for v in sgv) and any(v > 180 for v in sgv)
    directions = {e.direction for e in batch.entries}
    assert {Direction.FLAT, Direction.SINGLE_UP, Direction.FORTY_FIVE_DOWN} <= directions
    events = {t.eventType for t in batch.treatments}
    assert {EventType.MEAL_BOLUS, EventType.CORRECTION_BOLUS, EventType.CARB_CORRECTION} <= events
    meals = [t for t in batch.treatments if t.eventType == EventType.MEAL_BOLUS]
    assert all(t.insulin and t.carbs for t in meals)
    assert len(batch.devicestatus) == 90 * 48


async def test_delta_is_the_change_since_the_previous_reading() -> None:
    entries = (await sim().fetch(FetchWindow(NOW - 6 * 60 * MIN, NOW))).entries
    for before, after in itertools.pairwise(entries):
        assert after.delta == after.sgv - before.sgv  # type: ignore[operator]


async def test_devicestatus_has_uploader_and_pump() -> None:
    batch = await sim().fetch(FetchWindow(NOW - 60 * MIN, NOW))
    status = batch.devicestatus[0].to_nightscout()
    assert 0 <= status["uploader"]["battery"] <= 100
    assert 0 < status["pump"]["reservoir"] <= 200
    assert Collection.DEVICESTATUS in batch.by_collection()


@pytest.mark.parametrize(
    ("rate", "direction"),
    [
        (3.5, Direction.DOUBLE_UP),
        (2.5, Direction.SINGLE_UP),
        (1.5, Direction.FORTY_FIVE_UP),
        (0.0, Direction.FLAT),
        (-1.5, Direction.FORTY_FIVE_DOWN),
        (-2.5, Direction.SINGLE_DOWN),
        (-3.5, Direction.DOUBLE_DOWN),
    ],
)
def test_direction_from_slope(rate: float, direction: Direction) -> None:
    assert direction_of(rate)[0] is direction


def test_settings_build_the_source() -> None:
    settings = SimulatorSettings(account="kid", seed=9, max_history_days=400)
    src = SimulatorSource.from_settings(settings, clock=FixedClock(NOW))
    assert (src.account, src.seed, src.max_history) == ("kid", 9, timedelta(days=400))
    assert src.kind == "simulator" and src.cadence == timedelta(minutes=5)


async def test_records_the_model_refuses_are_counted_not_raised() -> None:
    from nightbridge.model.time import now_ms

    ahead = now_ms() + 3 * DAY  # a clock days ahead of the wall clock the model checks against
    batch = await sim(now=ahead).fetch(FetchWindow(ahead - 60 * MIN, ahead))
    assert len(batch) == 0
    assert batch.skipped["date"] >= 12  # twelve readings, plus any status or treatment


async def test_declares_every_collection_it_fills_and_an_overlap() -> None:
    """The engine's gap analysis asks an output about exactly the declared collections."""
    batch = await sim().fetch(FetchWindow(NOW - DAY, NOW + 1))
    assert set(batch.by_collection()) == set(SimulatorSource.collections)
    assert timedelta(0) < SimulatorSource.overlap <= timedelta(hours=1)
