"""A deterministic synthetic person: CGM readings, boluses, carbs and device status.

Every value is a pure function of ``(seed, time)``: a reading is computed from its own timestamp
(and the day plans around it), never from a running state, so any window asked in any order
gives the same values. Readings lie on the 5-minute grid of the epoch (UTC).

The curve: a slow daily baseline, meals (a rise peaking ~50 min after the bolus, a small insulin
undershoot later), on some days an unannounced snack corrected by a Correction Bolus, on some
days a low treated with 15 g of carbs, and smoothed sensor noise. Glucose is mg/dL within the
40-400 a CGM reports.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

MINUTE_MS = 60_000
CADENCE_MS = 5 * MINUTE_MS
DAY_MS = 24 * 60 * MINUTE_MS
STATUS_EVERY_MS = 30 * MINUTE_MS
#: The pump reservoir is refilled (and the site changed) every three days.
SITE_CYCLE_MS = 3 * DAY_MS
SITE_CHANGE_HOUR_MS = 9 * 60 * MINUTE_MS
LOW_MGDL, HIGH_MGDL = 40, 400
#: Grams per unit (insulin-to-carb ratio) and mg/dL per unit (sensitivity).
CARB_RATIO, SENSITIVITY = 10.0, 50.0


@dataclass(frozen=True, slots=True)
class Reading:
    """One CGM value: mg/dL, change over the last 5 min, and the 15-min rate in mg/dL/min."""

    date_ms: int
    sgv: int
    delta: int
    rate: float


@dataclass(frozen=True, slots=True)
class Dose:
    """A care event: ``kind`` is meal, correction, rescue or site; insulin U, carbs g."""

    date_ms: int
    kind: str
    insulin: float | None = None
    carbs: float | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """Uploader and pump state at ``date_ms``: battery % and reservoir units."""

    date_ms: int
    uploader_battery: int
    pump_battery: int
    reservoir: float


@dataclass(frozen=True, slots=True)
class _Effect:
    """A bump on the curve: ``height`` mg/dL (negative: a dip) peaking ``peak_ms`` after ``at``."""

    at_ms: int
    height: float
    peak_ms: int

    def value(self, t_ms: int) -> float:
        tau = (t_ms - self.at_ms) / self.peak_ms
        if tau <= 0 or tau > 8:
            return 0.0
        return self.height * tau * math.exp(1 - tau)


@dataclass(frozen=True, slots=True)
class _Day:
    effects: tuple[_Effect, ...]
    doses: tuple[Dose, ...]
    phase: float


@lru_cache(maxsize=256)
def _day(seed: int, day: int) -> _Day:
    """The plan of one UTC day: meals, an optional correction, an optional low."""
    rng = random.Random(f"nightbridge-simulator:{seed}:{day}")
    start = day * DAY_MS
    effects: list[_Effect] = []
    doses: list[Dose] = []

    def at(hour: float, spread_min: float) -> int:
        minute = round(hour * 60 + rng.uniform(-spread_min, spread_min))
        return start + minute * MINUTE_MS

    meals = [(7.0, 30, 30, 60), (12.5, 45, 40, 80), (19.0, 45, 50, 90)]
    if rng.random() < 0.5:
        meals.append((15.5, 60, 15, 30))
    for hour, spread, low, high in meals:
        when = at(hour, spread)
        carbs = float(rng.randrange(low, high + 1, 5))
        insulin = round(carbs / CARB_RATIO * rng.uniform(0.85, 1.1), 1)
        sensitivity = rng.uniform(1.0, 1.6)
        effects.append(_Effect(when, carbs * sensitivity, 50 * MINUTE_MS))
        effects.append(_Effect(when, -carbs * sensitivity * 0.25, 150 * MINUTE_MS))
        doses.append(Dose(when, "meal", insulin=insulin, carbs=carbs))
    if rng.random() < 0.35:
        snack = at(10.0, 40)
        rise = rng.uniform(70, 120)
        effects.append(_Effect(snack, rise, 70 * MINUTE_MS))
        corrected = snack + 90 * MINUTE_MS
        effects.append(_Effect(corrected, -rise * 0.6, 110 * MINUTE_MS))
        doses.append(Dose(corrected, "correction", insulin=round(rise * 0.6 / SENSITIVITY, 1)))
    if rng.random() < 0.25:
        dip = at(16.5, 60)
        effects.append(_Effect(dip, -rng.uniform(50, 70), 40 * MINUTE_MS))
        doses.append(Dose(dip + 40 * MINUTE_MS, "rescue", carbs=15.0))
    if start % SITE_CYCLE_MS == 0:
        doses.append(Dose(start + SITE_CHANGE_HOUR_MS, "site"))
    return _Day(tuple(effects), tuple(sorted(doses, key=lambda d: d.date_ms)), rng.uniform(0, 6.3))


def _noise(seed: int, slot: int) -> float:
    """A value in [-1, 1] fixed by (seed, slot): an integer hash, no state."""
    x = (slot * 0x9E3779B97F4A7C15 + seed * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    return (x & 0xFFFF) / 32767.5 - 1.0


def glucose(seed: int, t_ms: int) -> int:
    """The sensor glucose at ``t_ms`` (mg/dL, integer, 40-400)."""
    day = t_ms // DAY_MS
    today = _day(seed, day)
    frac = (t_ms - day * DAY_MS) / DAY_MS
    value = 115.0 + 12.0 * math.sin(2 * math.pi * frac + today.phase)
    for plan in (_day(seed, day - 1), today):
        for effect in plan.effects:
            value += effect.value(t_ms)
    slot = t_ms // CADENCE_MS
    value += 3.0 * (
        0.5 * _noise(seed, slot) + 0.25 * _noise(seed, slot - 1) + 0.25 * _noise(seed, slot + 1)
    )
    return max(LOW_MGDL, min(HIGH_MGDL, round(value)))


def readings(seed: int, start_ms: int, end_ms: int) -> Iterator[Reading]:
    """Readings on the 5-minute grid in ``[start_ms, end_ms)``, oldest first."""
    first = -(-start_ms // CADENCE_MS) * CADENCE_MS
    if first >= end_ms:
        return
    back = 3
    values = [glucose(seed, first - k * CADENCE_MS) for k in range(back, 0, -1)]
    t = first
    while t < end_ms:
        values.append(glucose(seed, t))
        now = values[-1]
        yield Reading(t, now, now - values[-2], (now - values[-1 - back]) / 15.0)
        t += CADENCE_MS


def doses(seed: int, start_ms: int, end_ms: int) -> Iterator[Dose]:
    """Care events in ``[start_ms, end_ms)``, oldest first."""
    for day in range(start_ms // DAY_MS, (end_ms - 1) // DAY_MS + 1):
        for dose in _day(seed, day).doses:
            if start_ms <= dose.date_ms < end_ms:
                yield dose


def statuses(start_ms: int, end_ms: int) -> Iterator[Status]:
    """Device status every 30 minutes in ``[start_ms, end_ms)``: batteries drain, refills."""
    t = -(-start_ms // STATUS_EVERY_MS) * STATUS_EVERY_MS
    while t < end_ms:
        day_frac = ((t - 7 * 60 * MINUTE_MS) % DAY_MS) / DAY_MS
        site_frac = ((t - SITE_CHANGE_HOUR_MS) % SITE_CYCLE_MS) / SITE_CYCLE_MS
        yield Status(
            date_ms=t,
            uploader_battery=100 - round(75 * day_frac),
            pump_battery=100 - round(60 * site_frac),
            reservoir=round(200 - 150 * site_frac, 1),
        )
        t += STATUS_EVERY_MS
