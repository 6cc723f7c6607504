"""The contract every Output passes (issue 3 item 5).

How to use it for a new output: subclass ``OutputContract`` in a ``test_<output>.py`` module
(the class name must start with ``Test``) and provide three fixtures as methods of the class::

    class TestMyOutput(OutputContract):
        @pytest.fixture
        async def output(self, ...) -> AsyncIterator[Output]:
            # an OPENED output on an EMPTY destination; aclose() it after the yield
            ...

        @pytest.fixture
        def stored(self, ...) -> Stored:
            # async (collection) -> list of the documents the destination holds there,
            # as Nightscout JSON dicts (read through a separate handle, not the output's cache)
            ...

        @pytest.fixture
        def break_output(self, ...) -> Breaker:
            # async () -> None: make every later write of ``output`` fail
            # (e.g. close the database, stop the fake server, make the file unwritable);
            # ``stored`` must still work afterwards
            ...

The tests write ``Entry``/``Treatment`` documents with identifiers from ``identity`` and check:
the same batch twice leaves one copy and reports 0 created the second time; an in-batch
duplicate identifier is stored once; ``newest`` follows the writes (and the device filter); a
failing write raises a ``NightbridgeError`` and leaves both the destination and ``newest``
unchanged; unknown extra fields survive; collections stay apart; an empty write is a no-op.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from nightbridge.errors import NightbridgeError
from nightbridge.identity import identify
from nightbridge.model import Collection, Entry, NSDocument, Treatment
from nightbridge.outputs.base import Output, WriteResult

Stored = Callable[[Collection], Awaitable[list[dict[str, Any]]]]
Breaker = Callable[[], Awaitable[None]]

#: 2023-11-14T22:13:20Z: old enough for any "plausible time" check, fixed for repeatability.
T0 = 1_700_000_000_000
FIVE_MINUTES = 300_000


def entries(count: int, *, start: int = T0, device: str = "contract-cgm") -> list[NSDocument]:
    """``count`` sgv entries 5 minutes apart, identified."""
    return [
        identify(
            Entry.build(date=start + i * FIVE_MINUTES, sgv=100 + i, direction="Flat", device=device)
        )
        for i in range(count)
    ]


def treatments(count: int, *, start: int = T0) -> list[NSDocument]:
    """``count`` correction boluses 5 minutes apart, identified."""
    return [
        identify(
            Treatment.build(
                date=start + i * FIVE_MINUTES,
                eventType="Correction Bolus",
                insulin=1 + i,
                device="contract-pump",
            )
        )
        for i in range(count)
    ]


def identifiers(docs: list[dict[str, Any]]) -> list[str]:
    """The identifiers of ``docs``, sorted."""
    return sorted(str(d["identifier"]) for d in docs)


class OutputContract:
    """Base class of the contract; see the module docstring for the fixtures to provide."""

    async def test_writes_and_reads_back(self, output: Output, stored: Stored) -> None:
        batch = entries(3)
        result = await output.write(Collection.ENTRIES, batch)
        assert result == WriteResult(created=3, duplicates=0)
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted(str(d.identifier) for d in batch)
        by_id = {d["identifier"]: d for d in held}
        for doc in batch:
            assert by_id[doc.identifier]["sgv"] == doc.to_nightscout()["sgv"]
            assert by_id[doc.identifier]["date"] == doc.date

    async def test_same_batch_twice_leaves_one_copy(self, output: Output, stored: Stored) -> None:
        batch = entries(5)
        first = await output.write(Collection.ENTRIES, batch)
        second = await output.write(Collection.ENTRIES, batch)
        assert first.created == 5
        assert second == WriteResult(created=0, duplicates=5)
        held = await stored(Collection.ENTRIES)
        assert len(held) == 5 and len(set(identifiers(held))) == 5

    async def test_overlapping_window_writes_only_new(self, output: Output, stored: Stored) -> None:
        await output.write(Collection.ENTRIES, entries(4))
        result = await output.write(Collection.ENTRIES, entries(6))
        assert result == WriteResult(created=2, duplicates=4)
        assert len(await stored(Collection.ENTRIES)) == 6

    async def test_in_batch_duplicate_identifier_stored_once(
        self, output: Output, stored: Stored
    ) -> None:
        one, two = entries(2)
        again = one.model_copy(deep=True)
        result = await output.write(Collection.ENTRIES, [one, again, two])
        assert result.created == 2
        assert result.created + result.duplicates == 3
        held = await stored(Collection.ENTRIES)
        assert identifiers(held) == sorted([str(one.identifier), str(two.identifier)])

    async def test_newest_reflects_writes(self, output: Output) -> None:
        assert await output.newest(Collection.ENTRIES) is None
        await output.write(Collection.ENTRIES, entries(3))
        newest = T0 + 2 * FIVE_MINUTES
        assert await output.newest(Collection.ENTRIES) == newest
        assert await output.newest(Collection.ENTRIES, device="contract-cgm") == newest
        assert await output.newest(Collection.ENTRIES, device="someone-else") is None
        await output.write(Collection.ENTRIES, entries(1, start=T0 + 10 * FIVE_MINUTES))
        assert await output.newest(Collection.ENTRIES) == T0 + 10 * FIVE_MINUTES
        assert await output.newest(Collection.TREATMENTS) is None

    async def test_failed_write_raises_and_changes_nothing(
        self, output: Output, stored: Stored, break_output: Breaker
    ) -> None:
        await output.write(Collection.ENTRIES, entries(2))
        before = identifiers(await stored(Collection.ENTRIES))
        await break_output()
        with pytest.raises(NightbridgeError):
            await output.write(Collection.ENTRIES, entries(4, start=T0 + 20 * FIVE_MINUTES))
        assert identifiers(await stored(Collection.ENTRIES)) == before
        try:
            newest = await output.newest(Collection.ENTRIES)
        except NightbridgeError:
            return  # a broken output may refuse to answer; it must not claim the new data
        assert newest == T0 + FIVE_MINUTES

    async def test_unknown_fields_are_kept(self, output: Output, stored: Stored) -> None:
        doc = identify(
            Entry.build(
                date=T0,
                sgv=120,
                device="contract-cgm",
                xDripExtra={"nested": [1, 2.5, "three"]},
                customFlag=True,
            )
        )
        await output.write(Collection.ENTRIES, [doc])
        (held,) = await stored(Collection.ENTRIES)
        assert held["xDripExtra"] == {"nested": [1, 2.5, "three"]}
        assert held["customFlag"] is True

    async def test_collections_stay_apart(self, output: Output, stored: Stored) -> None:
        await output.write(Collection.ENTRIES, entries(2))
        result = await output.write(Collection.TREATMENTS, treatments(3))
        assert result.created == 3
        held = await stored(Collection.TREATMENTS)
        assert len(held) == 3 and {d["eventType"] for d in held} == {"Correction Bolus"}
        assert len(await stored(Collection.ENTRIES)) == 2

    async def test_empty_write_is_a_no_op(self, output: Output, stored: Stored) -> None:
        assert await output.write(Collection.ENTRIES, []) == WriteResult()
        assert await stored(Collection.ENTRIES) == []
