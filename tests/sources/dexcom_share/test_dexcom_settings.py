"""DexcomSettings: region keywords, hosts, full URLs, application ids, validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nightbridge.sources.dexcom_share import DexcomRegion, DexcomSettings
from nightbridge.sources.dexcom_share.settings import APPLICATION_IDS

US_ID = "d89443d2-327c-4a6f-89e5-496bbb0317db"
JP_ID = "d8665ade-9673-4e27-9ff6-92db4ce13d13"


def make(**values: object) -> DexcomSettings:
    return DexcomSettings.model_validate({"username": "me", "password": "pw", **values})


@pytest.mark.parametrize(
    ("server", "region", "base"),
    [
        ("us", DexcomRegion.US, "https://share2.dexcom.com/ShareWebServices/Services/"),
        ("US", DexcomRegion.US, "https://share2.dexcom.com/ShareWebServices/Services/"),
        ("", DexcomRegion.US, "https://share2.dexcom.com/ShareWebServices/Services/"),
        ("ous", DexcomRegion.OUS, "https://shareous1.dexcom.com/ShareWebServices/Services/"),
        ("EU", DexcomRegion.OUS, "https://shareous1.dexcom.com/ShareWebServices/Services/"),
        (" eu ", DexcomRegion.OUS, "https://shareous1.dexcom.com/ShareWebServices/Services/"),
        ("OUS", DexcomRegion.OUS, "https://shareous1.dexcom.com/ShareWebServices/Services/"),
        ("jp", DexcomRegion.JP, "https://share.dexcom.jp/ShareWebServices/Services/"),
        (
            "shareous1.dexcom.com",
            DexcomRegion.OUS,
            "https://shareous1.dexcom.com/ShareWebServices/Services/",
        ),
        ("share.dexcom.jp", DexcomRegion.JP, "https://share.dexcom.jp/ShareWebServices/Services/"),
        ("proxy.example.org", None, "https://proxy.example.org/ShareWebServices/Services/"),
        ("http://127.0.0.1:8081", None, "http://127.0.0.1:8081/ShareWebServices/Services/"),
        ("http://127.0.0.1:8081/", None, "http://127.0.0.1:8081/ShareWebServices/Services/"),
        ("https://mirror.example/dexcom", None, "https://mirror.example/dexcom/"),
        (
            "https://share2.dexcom.com/ShareWebServices/Services",
            DexcomRegion.US,
            "https://share2.dexcom.com/ShareWebServices/Services/",
        ),
    ],
)
def test_server_forms_resolve_to_a_base_url(
    server: str, region: DexcomRegion | None, base: str
) -> None:
    s = make(server=server)
    assert s.region == region
    assert s.base_url == base


@pytest.mark.parametrize(
    ("server", "app_id"),
    [
        ("us", US_ID),
        ("ous", US_ID),
        ("jp", JP_ID),
        ("share.dexcom.jp", JP_ID),
        ("http://x:1", US_ID),
    ],
)
def test_application_id_follows_the_region(server: str, app_id: str) -> None:
    assert make(server=server).resolved_application_id == app_id


def test_application_id_override_wins() -> None:
    assert make(server="jp", application_id=US_ID).resolved_application_id == US_ID
    assert APPLICATION_IDS[DexcomRegion.JP] == JP_ID


def test_defaults_match_share2nightscout_bridge() -> None:
    s = make()
    assert (s.server, s.device, s.region) == ("us", "share2", DexcomRegion.US)


@pytest.mark.parametrize("server", ["europe", "share2", "ftp://share2.dexcom.com"])
def test_unknown_server_is_refused(server: str) -> None:
    with pytest.raises(ValidationError, match="server"):
        make(server=server)


def test_needs_username_or_account_id() -> None:
    with pytest.raises(ValidationError, match="username or an account id"):
        DexcomSettings.model_validate({"password": "pw", "username": "  "})


def test_account_id_must_be_a_uuid() -> None:
    with pytest.raises(ValidationError, match="UUID"):
        DexcomSettings.model_validate({"account_id": "1234", "password": "pw"})


def test_account_is_username_else_account_id_never_password() -> None:
    by_id = DexcomSettings.model_validate(
        {"account_id": "99999999-9999-9999-9999-999999999999", "password": "hunter22"}
    )
    assert by_id.account == "99999999-9999-9999-9999-999999999999"
    assert make().account == "me"
    assert "hunter22" not in repr(by_id) and "hunter22" not in str(by_id.model_dump())


def test_numeric_password_stays_text() -> None:
    assert make(password=123456).password.get_secret_value() == "123456"


def test_empty_password_refused_and_unknown_keys_refused() -> None:
    with pytest.raises(ValidationError, match="password"):
        make(password="")
    with pytest.raises(ValidationError, match="region_typo"):
        make(region_typo="eu")
