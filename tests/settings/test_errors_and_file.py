"""Bad settings are one ConfigError line naming the variable; the TOML file; no secret leaks."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from nightbridge.errors import ConfigError
from nightbridge.settings import NightscoutOutputConfig, load_settings, resolve_server
from nightbridge.sources import source_settings

BASE = {"NIGHTBRIDGE_DATA_DIR": "/tmp/nb-test-data"}
SECRET = "correct-horse-battery-staple"


def error_of(env: dict[str, str], config: Path | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **env}, config)
    return caught.value


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        (
            {"NIGHTBRIDGE_NIGHTSCOUT_URL": "ht!tp", "API_SECRET": SECRET},
            "NIGHTBRIDGE_NIGHTSCOUT_URL",
            "not a URL or host: 'ht!tp'",
        ),
        ({"NS": "ftp://ns.example.org", "API_SECRET": SECRET}, "NS", "not a URL or host"),
        (
            {"NIGHTBRIDGE_OUTPUT": "nightscout", "API_SECRET": SECRET},
            "NIGHTBRIDGE_NIGHTSCOUT_URL",
            "missing",
        ),
        ({"NS": "https://ns.example.org"}, "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET", "missing"),
        (
            {
                "NS": "https://ns.example.org",
                "NIGHTBRIDGE_NIGHTSCOUT_API_VERSION": "v3",
                "API_SECRET": SECRET,
            },
            "NIGHTBRIDGE_NIGHTSCOUT_TOKEN",
            "missing",
        ),
        (
            {
                "NIGHTBRIDGE_NIGHTSCOUT_API_VERSION": "v2",
                "NS": "ns.example.org",
                "API_SECRET": SECRET,
            },
            "NIGHTBRIDGE_NIGHTSCOUT_API_VERSION",
            "not v1 or v3",
        ),
        (
            {"NIGHTSCOUT_URL": "ns.example.org", "NIGHTSCOUT_API_TOKEN": "not-a-hash"},
            "NIGHTSCOUT_API_TOKEN",
            "SHA-1",
        ),
        (
            {
                "NIGHTSCOUT_URL": "ns.example.org",
                "NIGHTSCOUT_API_TOKEN": "a" * 40,
                "NIGHTSCOUT_DISABLE_HTTPS": "maybe",
            },
            "NIGHTSCOUT_DISABLE_HTTPS",
            "true or false",
        ),
        (
            {"BRIDGE_USER_NAME": "a", "BRIDGE_PASSWORD": "p", "BRIDGE_INTERVAL": "soon"},
            "BRIDGE_INTERVAL",
            "not a number",
        ),
        (
            {"NIGHTBRIDGE_POLL_INTERVAL_MINUTES": "-5"},
            "NIGHTBRIDGE_POLL_INTERVAL_MINUTES",
            "positive",
        ),
        (
            {"NIGHTBRIDGE_SOURCES": "simulator,glooko"},
            "NIGHTBRIDGE_SOURCES",
            "unknown source 'glooko'",
        ),
        ({"CONNECT_SOURCE": "minimedcarelink"}, "CONNECT_SOURCE", "unknown source"),
        ({"NIGHTBRIDGE_OUTPUT": "mongo"}, "NIGHTBRIDGE_OUTPUT", "unknown output 'mongo'"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], variable: str, words: str) -> None:
    error = error_of(env)
    assert error.variable == variable
    assert str(error).startswith(f"{variable}: ")
    assert words in str(error)
    assert "\n" not in str(error)
    assert SECRET not in str(error)


def test_vendor_validation_errors_name_the_peer_variable() -> None:
    settings = load_settings(
        {**BASE, "BRIDGE_USER_NAME": "a", "BRIDGE_PASSWORD": SECRET, "BRIDGE_SERVER": "mars"}
    )
    with pytest.raises(ConfigError) as caught:
        source_settings(settings.sources[0])
    assert str(caught.value).startswith("BRIDGE_SERVER: ")
    assert SECRET not in str(caught.value)


def test_missing_vendor_password_names_our_variable() -> None:
    settings = load_settings({**BASE, "NIGHTBRIDGE_LIBRE_USERNAME": "u"})
    with pytest.raises(ConfigError) as caught:
        source_settings(settings.sources[0])
    assert str(caught.value) == "NIGHTBRIDGE_LIBRE_PASSWORD: missing"


def test_secrets_never_in_repr_or_str() -> None:
    settings = load_settings(
        {
            **BASE,
            "NS": "https://ns.example.org",
            "API_SECRET": SECRET,
            "BRIDGE_USER_NAME": "mum",
            "BRIDGE_PASSWORD": SECRET + "-dexcom",
            "NIGHTBRIDGE_DATABASE_URL": f"postgresql://nb:{SECRET}x@db/nb",
        }
    )
    for text in (repr(settings), str(settings), repr(settings.sources), str(settings.outputs)):
        assert SECRET not in text
    secrets = settings.secret_values()
    assert SECRET in secrets and SECRET + "-dexcom" in secrets and SECRET + "x" in secrets
    assert hashlib.sha1(SECRET.encode()).hexdigest() in secrets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "nightbridge.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_with_two_dexcom_accounts(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
data_dir = "{tmp_path}"
poll_interval_minutes = 5

[[sources]]
kind = "dexcom_share"
account = "mum"
username = "mum@example.org"
password = "{SECRET}"
server = "ous"

[[sources]]
kind = "dexcomshare"
username = "kid@example.org"
password = 123456
server = "http://127.0.0.1:8081"
poll_interval_minutes = 2.5

[[outputs]]
kind = "nightscout"
url = "127.0.0.1:1337"
insecure_http = true
api_secret = "{SECRET}"

[[outputs]]
kind = "files"
""",
    )
    settings = load_settings({}, path)
    assert settings.data_dir == tmp_path
    assert [(s.kind, s.account, s.poll_interval_minutes) for s in settings.sources] == [
        ("dexcom_share", "mum", None),
        ("dexcom_share", "kid@example.org", 2.5),
    ]
    kid = source_settings(settings.sources[1])
    assert kid.password.get_secret_value() == "123456"  # type: ignore[attr-defined]
    assert kid.base_url.startswith("http://127.0.0.1:8081/")  # type: ignore[attr-defined]
    ns = settings.outputs[0]
    assert isinstance(ns, NightscoutOutputConfig) and ns.url == "http://127.0.0.1:1337"
    assert settings.outputs[1].kind.value == "files"
    assert SECRET not in repr(settings)


def test_env_wins_over_file_scalars_and_config_variable(tmp_path: Path) -> None:
    path = write(tmp_path, 'poll_interval_minutes = 5\n[[sources]]\nkind = "simulator"\n')
    settings = load_settings(
        {**BASE, "NIGHTBRIDGE_CONFIG": str(path), "NIGHTBRIDGE_POLL_INTERVAL_MINUTES": "2"}
    )
    assert settings.poll_interval_minutes == 2.0
    assert [s.kind for s in settings.sources] == ["simulator"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[[sources]]\nkind = "glooko"\n', "sources[0].kind"),
        (
            '[[sources]]\nkind = "simulator"\n[[sources]]\nkind = "simulator"\n',
            "sources[1].account",
        ),
        ('[[outputs]]\nkind = "nightscout"\nurl = "ht!tp"\napi_secret = "x"\n', "outputs[0].url"),
        ('[[outputs]]\nkind = "nightscout"\nurl = "ns.example.org"\n', "outputs[0].api_secret"),
        (
            '[[outputs]]\nkind = "nightscout"\nurl = "a.org"\ntoken = "t"\napi_version = "v9"\n',
            "outputs[0].api_version",
        ),
        ("poll_interval_minute = 5\n", "poll_interval_minute"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_file_names_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    error = error_of({}, path)
    assert str(error).startswith(f"{path}: ")
    assert key in str(error)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    error = error_of({}, tmp_path / "absent.toml")
    assert "cannot read" in str(error)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "https://us.example"),
        ("EU", "https://eu.example"),
        ("eu", "https://eu.example"),
        ("my.proxy.example", "https://my.proxy.example"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("https://mirror.example:8443/base/", "https://mirror.example:8443/base"),
        ("localhost:9000", "https://localhost:9000"),
    ],
)
def test_resolve_server(value: str | None, expected: str) -> None:
    regions = {"us": "https://us.example", "EU": "https://eu.example/"}
    assert resolve_server(value, regions, "us") == expected


@pytest.mark.parametrize("value", ["mars", "ht!tp", "http://", "ftp://x.org", "http://a.org:99999"])
def test_resolve_server_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        resolve_server(value, {"us": "https://us.example"}, "us")
