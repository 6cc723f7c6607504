"""LibreSettings: regions, hosts and URLs for ``server``; defaults; the password stays secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nightbridge.sources.librelinkup.settings import (
    DEFAULT_DEVICE,
    LibreSettings,
    Region,
    region_base_url,
    resolve_server,
)

REGION_HOSTS = {
    "AE": "api-ae.libreview.io",
    "AP": "api-ap.libreview.io",
    "AU": "api-au.libreview.io",
    "CA": "api-ca.libreview.io",
    "CN": "api-cn.myfreestyle.cn",
    "DE": "api-de.libreview.io",
    "EU": "api-eu.libreview.io",
    "EU2": "api-eu2.libreview.io",
    "FR": "api-fr.libreview.io",
    "JP": "api-jp.libreview.io",
    "LA": "api-la.libreview.io",
    "RU": "api.libreview.ru",
    "US": "api-us.libreview.io",
}


@pytest.mark.parametrize(("region", "host"), sorted(REGION_HOSTS.items()))
def test_every_region_keyword_in_any_case_resolves_to_its_host(region: str, host: str) -> None:
    for spelling in (region, region.lower(), region.title()):
        assert resolve_server(spelling) == f"https://{host}"


def test_the_region_table_is_complete() -> None:
    assert {r.name for r in Region} == set(REGION_HOSTS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gb", "https://api-eu2.libreview.io"),
        ("UK", "https://api-eu2.libreview.io"),
        (" eu ", "https://api-eu.libreview.io"),
        ("api-de.libreview.io", "https://api-de.libreview.io"),
        ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
        ("https://proxy.example.org/llu-mirror", "https://proxy.example.org/llu-mirror"),
        ("localhost:9000", "https://localhost:9000"),
    ],
)
def test_server_accepts_region_host_or_url(value: str, expected: str) -> None:
    assert LibreSettings(username="a@b.c", password="pw", server=value).base_url == expected


@pytest.mark.parametrize("value", ["mars", "", "ftp://example.org", "not a host"])
def test_unknown_server_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="server"):
        LibreSettings(username="a@b.c", password="pw", server=value)


def test_defaults_match_the_most_used_peer() -> None:
    s = LibreSettings.model_validate({"username": "a@b.c", "password": "pw"})
    assert s.base_url == "https://api-eu.libreview.io"
    assert s.device == DEFAULT_DEVICE == "nightscout-librelink-up"
    assert (s.version, s.product) == ("4.16.0", "llu.ios")
    assert s.patient_id is None


def test_blank_patient_id_means_the_first_connection() -> None:
    assert LibreSettings(username="a", password="pw", patient_id="  ").patient_id is None


def test_password_never_printed() -> None:
    s = LibreSettings(username="a@b.c", password="hunter2-secret")
    assert "hunter2-secret" not in repr(s)
    assert "hunter2-secret" not in str(s.model_dump())


def test_redirect_region_names_a_host_or_fails() -> None:
    assert region_base_url("eu2") == "https://api-eu2.libreview.io"
    with pytest.raises(ValueError, match="unknown"):
        region_base_url("atlantis")
