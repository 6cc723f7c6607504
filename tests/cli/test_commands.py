"""The CLI in-process (typer's CliRunner): exit codes, one-line errors, no secret in output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nightbridge.cli.main import app
from tests.cli.conftest import API_SECRET, Site, nightscout_env, unused_url

WRONG = "wrong-secret-but-long-enough"


@pytest.fixture
def runner() -> Iterator[CliRunner]:
    # CliRunner sets only what ``env`` names; clear everything else the host may have set.
    saved = dict(os.environ)
    os.environ.clear()
    try:
        yield CliRunner()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_capture_prints_identified_json_and_writes_nothing(
    runner: CliRunner, env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["capture", "--since", "1h"], env=env)
    assert result.exit_code == 0, result.output
    (source,) = json.loads(result.stdout)["sources"]
    entries = source["collections"]["entries"]
    assert 11 <= len(entries) <= 13
    assert all(len(e["identifier"]) == 36 and e["device"] for e in entries)
    assert source["counts"]["entries"] == len(entries)
    assert not (tmp_path / "data").exists()


def test_sync_twice_creates_nothing_the_second_time(
    runner: CliRunner, env: dict[str, str], site: Site
) -> None:
    first = runner.invoke(app, ["sync", "--since", "2h"], env=nightscout_env(env, site.url))
    assert first.exit_code == 0, first.output
    assert "summary fetched=" in first.stdout.splitlines()[-1]
    stored = len(site.fake.entries)
    assert 23 <= stored <= 25
    second = runner.invoke(app, ["sync", "--since", "2h"], env=nightscout_env(env, site.url))
    assert second.exit_code == 0, second.output
    assert " created=0 " in second.stdout.splitlines()[-1]
    assert len(site.fake.entries) == stored


def test_wrong_api_secret_is_exit_3_one_line_no_secret(
    runner: CliRunner, env: dict[str, str], site: Site
) -> None:
    result = runner.invoke(app, ["sync", "--since", "1h"], env=nightscout_env(env, site.url, WRONG))
    assert result.exit_code == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "rejected" in errors[0]
    assert WRONG not in result.output and WRONG not in result.stderr
    assert site.fake.entries == []


def test_missing_url_is_exit_2_naming_the_variable(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["sync"], env={**env, "NIGHTBRIDGE_OUTPUT": "nightscout"})
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error: NIGHTBRIDGE_NIGHTSCOUT_URL: missing")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_nightscout_is_exit_4(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["sync", "--since", "1h"], env=nightscout_env(env, unused_url()))
    assert result.exit_code == 4
    assert "cannot connect" in result.stderr


def test_no_source_configured_is_exit_2(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["capture"], env={**env, "NIGHTBRIDGE_SOURCES": ""})
    assert result.exit_code == 2
    assert "NIGHTBRIDGE_SOURCES" in result.stderr


def test_bad_duration_is_a_usage_error(runner: CliRunner, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["sync", "--since", "soon"], env=env)
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_check_one_line_each(runner: CliRunner, env: dict[str, str], site: Site) -> None:
    good = runner.invoke(app, ["check"], env=nightscout_env(env, site.url))
    assert good.exit_code == 0, good.output
    lines = good.stdout.splitlines()
    assert lines[0] == "source simulator simulator: ok"
    assert lines[1].startswith("output nightscout_v1 ") and lines[1].endswith(": ok")
    assert len(lines) == 2
    bad = runner.invoke(app, ["check"], env=nightscout_env(env, site.url, WRONG))
    assert bad.exit_code == 3
    assert "wrong credentials" in bad.stdout.splitlines()[1]
    assert WRONG not in bad.output
    down = runner.invoke(app, ["check"], env=nightscout_env(env, unused_url()))
    assert down.exit_code == 4
    assert "cannot connect" in down.stdout.splitlines()[1]


def test_json_logs_are_one_object_per_line(
    runner: CliRunner, env: dict[str, str], site: Site
) -> None:
    result = runner.invoke(
        app, ["--log-format", "json", "sync", "--since", "1h"], env=nightscout_env(env, site.url)
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e["message"].startswith("sync account=simulator") for e in events)
    assert API_SECRET not in result.stderr
