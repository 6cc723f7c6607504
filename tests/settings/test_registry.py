"""The literal registries build what the settings describe, before any network call."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from nightbridge.cli.durations import parse_duration
from nightbridge.errors import ConfigError
from nightbridge.outputs import OUTPUTS, output_kind
from nightbridge.settings import load_settings
from nightbridge.sources import SOURCES, build_source

BASE = {"NIGHTBRIDGE_DATA_DIR": "/tmp/nb-test-data"}


async def test_build_source_uses_label_interval_and_vendor_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[sources]]\nkind = "simulator"\naccount = "demo-a"\nseed = 7\ndevice = "sim-a"\n'
        "poll_interval_minutes = 2\n"
    )
    (config,) = load_settings(BASE, path).sources
    async with httpx.AsyncClient() as client:
        source = build_source(config, client=client)
    assert (source.kind, source.account, source.cadence) == (
        "simulator",
        "demo-a",
        timedelta(minutes=2),
    )
    assert source.seed == 7 and source.device == "sim-a"  # type: ignore[attr-defined]


async def test_build_source_names_the_variable_of_a_bad_option() -> None:
    settings = load_settings(
        {**BASE, "LINK_UP_USERNAME": "u", "LINK_UP_PASSWORD": "p", "LINK_UP_REGION": "XX"}
    )
    async with httpx.AsyncClient() as client:
        with pytest.raises(ConfigError) as caught:
            build_source(settings.sources[0], client=client)
    assert str(caught.value).startswith("LINK_UP_REGION: ")


async def test_dexcom_peer_account_builds() -> None:
    settings = load_settings({**BASE, "BRIDGE_USER_NAME": "mum", "BRIDGE_PASSWORD": "pw"})
    async with httpx.AsyncClient() as client:
        source = build_source(settings.sources[0], client=client)
        assert (source.kind, source.account) == ("dexcom_share", "mum")
        assert source.device == "share2"  # type: ignore[attr-defined]


def test_registries_are_literal_and_cover_the_output_kinds() -> None:
    assert set(SOURCES) == {"simulator", "dexcom_share", "librelinkup"}
    settings = load_settings(
        {**BASE, "NIGHTBRIDGE_OUTPUT": "files,store", "NS": "a.org", "API_SECRET": "x" * 12}
    )
    assert [output_kind(o) for o in settings.outputs] == ["files", "store"]
    assert {"nightscout_v1", "nightscout_v3", "store", "files"} == set(OUTPUTS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("24h", timedelta(hours=24)),
        ("30m", timedelta(minutes=30)),
        ("1h30m", timedelta(minutes=90)),
        ("2w", timedelta(weeks=2)),
        (" 45s ", timedelta(seconds=45)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "24", "h", "0h", "1y", "24h foo", "-1h"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
