"""Every peer's variable family resolves to the same settings as our own names."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from nightbridge.settings import NightscoutOutputConfig, Settings, SourceConfig, load_settings

BASE = {"NIGHTBRIDGE_DATA_DIR": "/tmp/nb-test-data"}


def load(**env: str) -> Settings:
    return load_settings({**BASE, **env})


def plain(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in options.items()}


def only_source(settings: Settings) -> SourceConfig:
    assert len(settings.sources) == 1
    return settings.sources[0]


def nightscout(settings: Settings) -> NightscoutOutputConfig:
    (output,) = settings.outputs
    assert isinstance(output, NightscoutOutputConfig)
    return output


NS_FAMILIES = [
    {
        "NIGHTBRIDGE_NIGHTSCOUT_URL": "https://ns.example.org",
        "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET": "s3cret-value-123",
    },
    {
        "CONNECT_NIGHTSCOUT_ENDPOINT": "https://ns.example.org/",
        "CONNECT_API_SECRET": "s3cret-value-123",
    },
    {"NS": "https://ns.example.org", "API_SECRET": "s3cret-value-123"},
    {"NS_URL": "https://ns.example.org/", "NS_SECRET": "s3cret-value-123"},
    {"NS_URL": "https://ns.example.org", "API_SECRET": "s3cret-value-123"},  # tconnectsync fallback
    {"NIGHTSCOUT_URL": "ns.example.org", "API_SECRET": "s3cret-value-123"},
    {"WEBSITE_HOSTNAME": "ns.example.org", "API_SECRET": "s3cret-value-123"},
]


@pytest.mark.parametrize("env", NS_FAMILIES, ids=lambda e: "+".join(e))
def test_every_nightscout_family_resolves_alike(env: dict[str, str]) -> None:
    out = nightscout(load(NIGHTBRIDGE_SOURCES="simulator", **env))
    assert out.url == "https://ns.example.org"
    assert out.api_secret is not None and out.api_secret.get_secret_value() == "s3cret-value-123"
    assert (out.api_version, out.secret_is_hashed, out.token) == ("v1", False, None)


def test_ours_win_over_peer_aliases() -> None:
    out = nightscout(
        load(
            NIGHTBRIDGE_NIGHTSCOUT_URL="https://mine.example.org",
            NS="https://theirs.example.org",
            NIGHTBRIDGE_NIGHTSCOUT_API_SECRET="ours-secret-123",
            API_SECRET="theirs-secret-12",
        )
    )
    assert out.url == "https://mine.example.org"
    assert out.api_secret is not None and out.api_secret.get_secret_value() == "ours-secret-123"


def test_librelink_up_host_only_url_and_disable_https() -> None:
    sha1 = "a" * 40
    secure = nightscout(load(NIGHTSCOUT_URL="ns.example.org", NIGHTSCOUT_API_TOKEN=sha1))
    assert secure.url == "https://ns.example.org"
    insecure = nightscout(
        load(
            NIGHTSCOUT_URL="192.168.1.5:1337",
            NIGHTSCOUT_API_TOKEN=sha1,
            NIGHTSCOUT_DISABLE_HTTPS="true",
        )
    )
    assert insecure.url == "http://192.168.1.5:1337"


def test_librelink_up_token_is_already_hashed() -> None:
    out = nightscout(load(NIGHTSCOUT_URL="ns.example.org", NIGHTSCOUT_API_TOKEN="AB" * 20))
    assert out.secret_is_hashed is True
    assert out.api_secret is not None and out.api_secret.get_secret_value() == "ab" * 20


def test_librelink_up_v3_uses_the_token_plain_and_its_v3_device() -> None:
    settings = load(
        NIGHTSCOUT_URL="ns.example.org",
        NIGHTSCOUT_API_TOKEN="reader-0123456789abcdef",
        NIGHTSCOUT_API_V3="true",
        LINK_UP_USERNAME="p@example.org",
        LINK_UP_PASSWORD="pw",
    )
    out = nightscout(settings)
    assert out.api_version == "v3"
    assert out.token is not None and out.token.get_secret_value() == "reader-0123456789abcdef"
    assert only_source(settings).options["device"] == "freestyle-libre"


def test_full_url_with_port_and_path_is_kept() -> None:
    out = nightscout(load(NS="http://127.0.0.1:8081/sub/", API_SECRET="x" * 12))
    assert out.url == "http://127.0.0.1:8081/sub"


DEXCOM_FAMILIES = [
    (
        {
            "NIGHTBRIDGE_DEXCOM_USERNAME": "mum",
            "NIGHTBRIDGE_DEXCOM_PASSWORD": "pw",
            "NIGHTBRIDGE_DEXCOM_SERVER": "ous",
        },
        None,
    ),
    (
        {
            "CONNECT_SHARE_ACCOUNT_NAME": "mum",
            "CONNECT_SHARE_PASSWORD": "pw",
            "CONNECT_SHARE_REGION": "ous",
        },
        "nightscout-connect",
    ),
    ({"BRIDGE_USER_NAME": "mum", "BRIDGE_PASSWORD": "pw", "BRIDGE_SERVER": "EU"}, "share2"),
    ({"DEXCOM_ACCOUNT_NAME": "mum", "DEXCOM_PASSWORD": "pw", "BRIDGE_SERVER": "eu"}, "share2"),
    (
        {
            "CONNECT_DEXCOM_USERNAME": "mum",
            "CONNECT_DEXCOM_PASSWORD": "pw",
            "CONNECT_DEXCOM_SERVER": "EU",
        },
        "dexcom-connector",
    ),
]


@pytest.mark.parametrize(("env", "device"), DEXCOM_FAMILIES, ids=lambda e: str(e)[:40])
def test_every_dexcom_family_resolves_alike(env: dict[str, str], device: str | None) -> None:
    from nightbridge.sources import source_settings
    from nightbridge.sources.dexcom_share.settings import DexcomRegion

    source = only_source(load(**env))
    assert (source.kind, source.account) == ("dexcom_share", "mum")
    assert plain(source.options)["password"] == "pw"
    assert source.options.get("device") == device
    vendor = source_settings(source)
    assert vendor.region is DexcomRegion.OUS  # type: ignore[attr-defined]


def test_dexcom_intervals_are_converted_to_minutes() -> None:
    creds = {"BRIDGE_USER_NAME": "mum", "BRIDGE_PASSWORD": "pw"}
    assert only_source(load(**creds, BRIDGE_INTERVAL="150000")).poll_interval_minutes == 2.5
    assert only_source(load(**creds, SHARE_INTERVAL="60000")).poll_interval_minutes == 1.0
    nocturne = load(**creds, CONNECT_DEXCOM_SYNC_INTERVAL_MINUTES="7")
    assert only_source(nocturne).poll_interval_minutes == 7.0
    assert only_source(load(**creds)).poll_interval_minutes is None


LIBRE_FAMILIES = [
    (
        {
            "NIGHTBRIDGE_LIBRE_USERNAME": "p@x.org",
            "NIGHTBRIDGE_LIBRE_PASSWORD": "pw",
            "NIGHTBRIDGE_LIBRE_SERVER": "DE",
            "NIGHTBRIDGE_LIBRE_PATIENT_ID": "pid",
            "NIGHTBRIDGE_LIBRE_POLL_INTERVAL_MINUTES": "3",
        },
        None,
    ),
    (
        {
            "CONNECT_LINK_UP_USERNAME": "p@x.org",
            "CONNECT_LINK_UP_PASSWORD": "pw",
            "CONNECT_LINK_UP_REGION": "de",
            "CONNECT_LINK_UP_PATIENT_ID": "pid",
            "CONNECT_LINK_UP_INTERVAL": "3",
        },
        "nightscout-connect-librelinkup",
    ),
    (
        {
            "LINK_UP_USERNAME": "p@x.org",
            "LINK_UP_PASSWORD": "pw",
            "LINK_UP_REGION": "DE",
            "LINK_UP_CONNECTION": "pid",
            "LINK_UP_TIME_INTERVAL": "3",
        },
        "nightscout-librelink-up",
    ),
    (
        {
            "CONNECT_LIBRE_USERNAME": "p@x.org",
            "CONNECT_LIBRE_PASSWORD": "pw",
            "CONNECT_LIBRE_REGION": "De",
            "CONNECT_LIBRE_PATIENT_ID": "pid",
            "CONNECT_LIBRE_SYNC_INTERVAL_MINUTES": "3",
        },
        "libre-connector",
    ),
]


@pytest.mark.parametrize(("env", "device"), LIBRE_FAMILIES, ids=lambda e: str(e)[:40])
def test_every_libre_family_resolves_alike(env: dict[str, str], device: str | None) -> None:
    from nightbridge.sources import source_settings

    source = only_source(load(**env))
    assert (source.kind, source.account, source.poll_interval_minutes) == (
        "librelinkup",
        "p@x.org",
        3.0,
    )
    vendor = source_settings(source)
    assert vendor.base_url == "https://api-de.libreview.io"  # type: ignore[attr-defined]
    assert vendor.patient_id == "pid"  # type: ignore[attr-defined]
    expected = device or "nightscout-librelink-up"  # the vendor default for our own names
    assert vendor.device == expected  # type: ignore[attr-defined]


def test_llu_zero_interval_means_its_default() -> None:
    source = only_source(
        load(LINK_UP_USERNAME="u", LINK_UP_PASSWORD="p", LINK_UP_TIME_INTERVAL="0")
    )
    assert source.poll_interval_minutes is None


def test_connect_source_selects_and_renames_kinds() -> None:
    settings = load(
        CONNECT_SOURCE="linkup",
        CONNECT_LINK_UP_USERNAME="u",
        CONNECT_LINK_UP_PASSWORD="p",
        BRIDGE_USER_NAME="ignored-because-not-selected",
    )
    assert [s.kind for s in settings.sources] == ["librelinkup"]


def test_sources_implied_by_credentials_and_explicit_list() -> None:
    env = {
        "DEXCOM_ACCOUNT_NAME": "a",
        "DEXCOM_PASSWORD": "p",
        "LINK_UP_USERNAME": "b",
        "LINK_UP_PASSWORD": "q",
    }
    assert [s.kind for s in load(**env).sources] == ["dexcom_share", "librelinkup"]
    listed = load(**env, NIGHTBRIDGE_SOURCES="simulator, dexcom")
    assert [s.kind for s in listed.sources] == ["simulator", "dexcom_share"]


def test_global_device_marker_and_per_source_override() -> None:
    settings = load(
        NIGHTBRIDGE_DEVICE="my-cgm",
        BRIDGE_USER_NAME="a",
        BRIDGE_PASSWORD="p",
        LINK_UP_USERNAME="b",
        LINK_UP_PASSWORD="q",
        NIGHTSCOUT_DEVICE_NAME="llu-own",
    )
    devices = {s.kind: s.options["device"] for s in settings.sources}
    assert devices == {"dexcom_share": "my-cgm", "librelinkup": "llu-own"}


def test_env_names_case_insensitive_and_azure_prefix() -> None:
    settings = load(ns="https://ns.example.org", CUSTOMCONNSTR_API_SECRET="abcdefabcdef12")
    out = nightscout(settings)
    assert out.url == "https://ns.example.org"
    assert out.api_secret is not None and out.api_secret.get_secret_value() == "abcdefabcdef12"


def test_blank_value_counts_as_unset() -> None:
    out = nightscout(
        load(NIGHTBRIDGE_NIGHTSCOUT_URL="  ", NS="https://ns.example.org", API_SECRET="x" * 12)
    )
    assert out.url == "https://ns.example.org"


def test_defaults_store_output_and_sqlite_in_data_dir() -> None:
    settings = load(NIGHTBRIDGE_SOURCES="simulator")
    assert [o.kind.value for o in settings.outputs] == ["store"]
    assert settings.database_url.startswith("sqlite:////tmp/nb-test-data/")
    files = load(NIGHTBRIDGE_OUTPUT="files,store")
    assert [o.kind.value for o in files.outputs] == ["files", "store"]
