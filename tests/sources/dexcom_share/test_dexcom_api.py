"""DexcomShareApi against the fake Share server: login flows, session reuse, faults."""

from __future__ import annotations

import httpx
import pytest

from nightbridge.errors import (
    AuthError,
    CannotConnectError,
    LockedOutError,
    NightbridgeError,
    RateLimitedError,
    RemoteServerError,
    SessionExpiredError,
)
from nightbridge.sources.dexcom_share import DexcomShareApi
from nightbridge.sources.dexcom_share.api import SESSION_LIFETIME
from tests.fakes.dexcom_share import ACCOUNT_ID, JP_APP_ID, PASSWORD, US_APP_ID, FakeDexcomShare
from tests.sources.dexcom_share.support import Clocks, settings


def make_api(client: httpx.AsyncClient, clocks: Clocks, **overrides: object) -> DexcomShareApi:
    return DexcomShareApi(settings(**overrides), client, clock=lambda: clocks.mono_s)


async def test_two_step_login_then_read(api: DexcomShareApi, fake: FakeDexcomShare) -> None:
    answer = await api.latest_glucose(10, 1)
    assert len(answer.readings) == 1 and answer.rejected == []
    assert fake.requests == {"auth": 2, "data": 1}
    assert fake.sessions_issued == 1
    session = await api.ensure_session()
    assert session.account_id == ACCOUNT_ID
    assert fake.data_queries[0]["sessionId"] == session.token
    assert (fake.data_queries[0]["minutes"], fake.data_queries[0]["maxCount"]) == ("10", "1")


async def test_account_id_login_skips_step_one(
    client: httpx.AsyncClient, clocks: Clocks, fake: FakeDexcomShare
) -> None:
    api = make_api(client, clocks, username=None, account_id=ACCOUNT_ID)
    await api.latest_glucose(60, 12)
    assert fake.requests["auth"] == 1 and fake.sessions_issued == 1


@pytest.mark.parametrize(
    ("server", "host", "app_id"),
    [
        ("us", "share2.dexcom.com", US_APP_ID),
        ("EU", "shareous1.dexcom.com", US_APP_ID),
        ("ous", "shareous1.dexcom.com", US_APP_ID),
        ("jp", "share.dexcom.jp", JP_APP_ID),
    ],
)
async def test_each_region_sends_its_host_and_application_id(
    client: httpx.AsyncClient,
    clocks: Clocks,
    fake: FakeDexcomShare,
    server: str,
    host: str,
    app_id: str,
) -> None:
    # ASGITransport hands every URL to the fake in-process: the vendor host is never contacted.
    api = make_api(client, clocks, server=server)
    await api.latest_glucose(10, 1)
    assert fake.application_ids == [app_id, app_id]
    assert fake.login_hosts == [host, host]
    assert fake.requests["data"] == 1


async def test_session_is_reused_for_its_lifetime(
    api: DexcomShareApi, fake: FakeDexcomShare, clocks: Clocks
) -> None:
    for _ in range(5):
        await api.latest_glucose(10, 1)
        clocks.advance(3600)
    assert fake.sessions_issued == 1 and fake.requests["data"] == 5
    clocks.advance(SESSION_LIFETIME.total_seconds())
    await api.latest_glucose(10, 1)
    assert fake.sessions_issued == 2
    assert fake.requests["auth"] == 3  # the learnt account id skips step 1 on renewal


@pytest.mark.parametrize("expiry", ["expire_sessions", "session_not_valid"])
async def test_exactly_one_relogin_on_expiry(
    api: DexcomShareApi, fake: FakeDexcomShare, expiry: str
) -> None:
    await api.latest_glucose(10, 1)
    if expiry == "expire_sessions":
        fake.expire_sessions()
    else:
        fake.fail_next("session_not_valid", route="data")
    answer = await api.latest_glucose(10, 1)
    assert len(answer.readings) == 1
    assert fake.sessions_issued == 2 and api.logins == 2
    assert fake.requests["data"] == 3


async def test_expired_again_after_relogin_stops(
    api: DexcomShareApi, fake: FakeDexcomShare
) -> None:
    await api.latest_glucose(10, 1)
    fake.fail_next("session_not_valid", times=5, route="data")
    with pytest.raises(SessionExpiredError):
        await api.latest_glucose(10, 1)
    assert fake.sessions_issued == 2  # one re-login, not more


@pytest.mark.parametrize("overrides", [{"password": "wrong"}, {"username": "nobody"}])
async def test_wrong_credentials_are_tried_once(
    client: httpx.AsyncClient, clocks: Clocks, fake: FakeDexcomShare, overrides: dict[str, str]
) -> None:
    api = make_api(client, clocks, **overrides)
    with pytest.raises(AuthError) as caught:
        await api.latest_glucose(10, 1)
    assert type(caught.value) is AuthError
    assert fake.login_attempts == 1 and fake.requests["data"] == 0
    assert "wrong" not in str(caught.value)


async def test_lockout_after_repeated_bad_passwords(
    client: httpx.AsyncClient, clocks: Clocks, fake: FakeDexcomShare
) -> None:
    bad = make_api(client, clocks, password="wrong")
    for _ in range(fake.lockout_after):
        with pytest.raises(AuthError) as caught:
            await bad.ensure_session()
        assert type(caught.value) is AuthError
    with pytest.raises(LockedOutError):
        await make_api(client, clocks).ensure_session()  # even the right password, now


async def test_rate_limited_carries_retry_after(api: DexcomShareApi, fake: FakeDexcomShare) -> None:
    fake.fail_next("429", route="auth")
    with pytest.raises(RateLimitedError) as caught:
        await api.latest_glucose(10, 1)
    assert caught.value.retry_after == 7.0
    assert fake.login_attempts == 1


@pytest.mark.parametrize("kind", ["html", "truncated", "500", "503"])
@pytest.mark.parametrize("route", ["auth", "data"])
async def test_outages_are_retriable_server_errors(
    api: DexcomShareApi, fake: FakeDexcomShare, kind: str, route: str
) -> None:
    fake.fail_next(kind, route=route)
    with pytest.raises(RemoteServerError):
        await api.latest_glucose(10, 1)
    answer = await api.latest_glucose(10, 1)  # the next poll works
    assert len(answer.readings) == 1


async def test_timeout_is_cannot_connect(clocks: Clocks) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(CannotConnectError):
            await make_api(client, clocks).latest_glucose(10, 1)


async def test_no_secret_in_any_error(api: DexcomShareApi, fake: FakeDexcomShare) -> None:
    await api.latest_glucose(10, 1)
    token = (await api.ensure_session()).token
    errors: list[NightbridgeError] = []
    for kind in ("session_not_valid", "html", "truncated", "429", "500"):
        fake.fail_next(kind, times=3, route="data")
        try:
            await api.latest_glucose(10, 1)
        except NightbridgeError as exc:
            errors.append(exc)
        fake.clear_faults()
    fake.expire_sessions()
    fake.password = "changed"
    try:
        await api.latest_glucose(10, 1)
    except NightbridgeError as exc:
        errors.append(exc)
    assert len(errors) == 6
    for error in errors:
        text = f"{error} {error!r} {error.args}"
        assert PASSWORD not in text and token not in text


async def test_server_side_session_timeout_triggers_one_relogin(
    client: httpx.AsyncClient, clocks: Clocks, fake: FakeDexcomShare
) -> None:
    fake.session_ttl_ms = 3_600_000  # Dexcom drops the session long before our 23 h
    api = make_api(client, clocks)
    await api.latest_glucose(10, 1)
    clocks.advance(3_600)
    answer = await api.latest_glucose(10, 1)
    assert len(answer.readings) == 1
    assert fake.sessions_issued == 2 and fake.requests["data"] == 3
