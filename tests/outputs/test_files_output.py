"""The files output passes the output contract; it survives torn lines and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from nightbridge.model import Collection
from nightbridge.outputs.base import Output
from nightbridge.outputs.files import FilesOutput
from tests.outputs.contract import T0, Breaker, Healer, OutputContract, Stored, entries


class TestFilesOutput(OutputContract):
    @pytest.fixture
    def directory(self, tmp_path: Path) -> Path:
        return tmp_path / "out"

    @pytest.fixture
    async def output(self, directory: Path) -> AsyncIterator[Output]:
        out = FilesOutput(directory)
        await out.open()
        yield out
        await out.aclose()

    @pytest.fixture
    def stored(self, directory: Path, tmp_path: Path) -> Stored:
        async def read(collection: Collection) -> list[dict[str, object]]:
            moved = tmp_path / "moved"  # where break_output puts the real directory
            base = moved if moved.is_dir() else directory
            path = base / f"{collection.value}.jsonl"
            if not path.exists():
                return []
            return [orjson.loads(line) for line in path.read_bytes().splitlines()]

        return read

    @pytest.fixture
    def break_output(self, directory: Path, tmp_path: Path) -> Breaker:
        async def break_it() -> None:
            # a plain file where the directory was: every open() fails, even for root
            await asyncio.to_thread(directory.rename, tmp_path / "moved")
            await asyncio.to_thread(directory.write_text, "not a directory")

        return break_it

    @pytest.fixture
    def heal_output(self, output: Output, directory: Path, tmp_path: Path) -> Healer:
        async def heal() -> Output:
            await asyncio.to_thread(directory.unlink)
            await asyncio.to_thread((tmp_path / "moved").rename, directory)
            return output

        return heal


async def test_restart_keeps_dedup_and_newest(tmp_path: Path) -> None:
    first = FilesOutput(tmp_path)
    await first.open()
    await first.write(Collection.ENTRIES, entries(3))
    second = FilesOutput(tmp_path)
    await second.open()
    assert await second.newest(Collection.ENTRIES) == T0 + 2 * 300_000
    result = await second.write(Collection.ENTRIES, entries(4))
    assert (result.created, result.duplicates) == (1, 3)
    assert len((tmp_path / "entries.jsonl").read_bytes().splitlines()) == 4


async def test_torn_last_line_is_cut_at_open(tmp_path: Path) -> None:
    good = orjson.dumps(entries(1)[0].to_nightscout()) + b"\n"
    (tmp_path / "entries.jsonl").write_bytes(good + b'{"identifier": "half')
    output = FilesOutput(tmp_path)
    await output.open()
    assert (tmp_path / "entries.jsonl").read_bytes() == good
    assert (await output.write(Collection.ENTRIES, entries(2))).created == 1
