"""``nightbridge status``: the connector table from the store, plain, rich and JSON."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from nightbridge.cli.main import app
from nightbridge.cli.status import Snapshot, render_rich, render_text
from nightbridge.model.time import now_ms
from nightbridge.server.dashboard.connectors import ConnectorRow, ConnectorState
from nightbridge.store import Store

MIN = 60_000


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    saved = dict(os.environ)
    os.environ.clear()
    try:
        yield CliRunner()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def record(db: Path, *, failing: bool) -> int:
    """Two connectors in the store at ``db``; returns the 'now' used (epoch ms)."""
    now = now_ms()

    async def run() -> None:
        store = await Store.open(f"sqlite:///{db}")
        try:
            await store.record_run(
                "demo", "simulator", ok=True, at_ms=now - 3 * MIN, next_poll_ms=now + 2 * MIN
            )
            if failing:
                await store.record_run(
                    "mum@example.org",
                    "dexcom_share",
                    ok=False,
                    at_ms=now - 10 * MIN,
                    error_family="terms",
                    error_message="Dexcom wants the terms of use accepted",
                )
            await store.add_pending("demo", "nightscout", "entries", [{"date": 1}])
        finally:
            await store.close()

    asyncio.run(run())
    return now


def test_status_prints_one_plain_row_per_connector(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    record(tmp_path / "data" / "nightbridge.db", failing=True)
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 3, result.output  # a person must accept the terms
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "SOURCE",
        "ACCOUNT",
        "STATE",
        "LAST",
        "SYNC",
        "LAST",
        "ERROR",
        "NEXT",
        "POLL",
    ]
    dexcom, simulator = lines[1], lines[2]
    assert dexcom.startswith("dexcom_share") and "mum@example.org" in dexcom
    assert "stopped" in dexcom and "terms not accepted (10 min ago)" in dexcom
    assert "never" in dexcom
    assert simulator.split()[:3] == ["simulator", "demo", "ok"]
    assert "3 min ago" in simulator and ("in 2 min" in simulator or "in 1 min" in simulator)
    assert lines[-1] == "pending batches: 1; newest reading: never"
    assert "\x1b[" not in result.stdout  # no colours when not a terminal


def test_status_json_and_exit_zero_when_all_is_well(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    record(tmp_path / "data" / "nightbridge.db", failing=False)
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pending_batches"] == 1
    (row,) = data["connectors"]
    assert row["source"] == "simulator" and row["state"] == "ok" and row["last_error"] is None


def test_status_without_a_store_creates_nothing(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("no store yet at ")
    assert not (tmp_path / "data" / "nightbridge.db").exists()


def _snapshot(rows: list[ConnectorRow]) -> Snapshot:
    return Snapshot(rows=rows, pending=0, newest_ms=1_000_000 - 20 * MIN, now_ms=1_000_000)


def test_rich_table_on_a_terminal() -> None:
    row = ConnectorRow(
        source="librelinkup",
        account="dad@example.org",
        state=ConnectorState.FAILING,
        last_success_ms=1_000_000 - 120 * MIN,
        last_error_ms=1_000_000 - MIN,
        last_error="rate limited",
        last_error_detail="429",
        next_poll_ms=1_000_000 + 5 * MIN,
        newest_ms=None,
    )
    out = io.StringIO()
    render_rich(_snapshot([row]), Console(file=out, force_terminal=True, width=140))
    text = out.getvalue()
    assert "\x1b[" in text  # coloured
    assert "librelinkup" in text and "rate limited (1 min ago)" in text and "in 5 min" in text
    assert "2 h ago" in text and "newest reading: 20 min ago" in text


def test_plain_text_says_when_nothing_ran() -> None:
    assert render_text(_snapshot([])).splitlines()[1] == "(no connector has run yet)"
