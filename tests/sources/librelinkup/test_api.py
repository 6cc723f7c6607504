"""LibreLinkUpApi against the fake server: login, redirects, steps, expiry, patients, faults."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from nightbridge.errors import (
    AuthError,
    CannotConnectError,
    FatalError,
    LockedOutError,
    NightbridgeError,
    RateLimitedError,
    RemoteServerError,
    RetriableError,
    TermsNotAcceptedError,
)
from nightbridge.sources.librelinkup.api import LibreLinkUpApi
from nightbridge.sources.librelinkup.errors import PatientNotFoundError
from tests.fakes.librelinkup import FakeLibreLinkUp, default_account
from tests.fakes.loopback import serve
from tests.sources.librelinkup.conftest import PASSWORD, FakeClock, settings

JOHN = "7ad66b40-ba9b-401e-9845-4f49f998cf16"
JANE = "77179667-ba4b-11eb-ad1f-0242ac110004"


def _no_secret(exc: NightbridgeError, *secrets: str) -> None:
    for secret in (PASSWORD, *secrets):
        assert secret not in str(exc)


async def test_login_sends_required_headers_and_account_id(
    api: LibreLinkUpApi, fake: FakeLibreLinkUp
) -> None:
    session = await api.login()
    assert session.account_id == hashlib.sha256(fake.account.user_id.encode()).hexdigest()
    await api.connections()
    headers = fake.last_headers
    assert headers["product"] == "llu.ios" and headers["version"] == "4.16.0"
    assert headers["account-id"] == session.account_id
    assert headers["authorization"] == f"Bearer {session.token}"


async def test_ticket_duration_is_the_session_lifetime(api: LibreLinkUpApi) -> None:
    session = await api.login()
    assert session.lifetime is not None
    assert session.lifetime.total_seconds() == 15_552_000


async def test_session_is_reused_until_stale(
    api: LibreLinkUpApi, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    await api.connections()
    await api.connections()
    assert fake.logins == 1
    clock.now += 15_552_000  # the ticket's whole duration later
    await api.connections()
    assert fake.logins == 2


async def test_region_redirect_is_followed_and_remembered(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    fake.account.region = "eu2"
    api = LibreLinkUpApi(settings(server="EU"), client, clock)
    await api.connections()
    assert api.base_url == "https://api-eu2.libreview.io"
    assert fake.requests["/llu/auth/login"] == 2
    fake.expire_tickets()
    await api.connections()
    assert fake.logins == 3  # re-login goes straight to eu2: no second redirect


async def test_redirect_to_an_unknown_region_is_fatal(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    fake.account.region = "xx"
    api = LibreLinkUpApi(settings(), client, clock)
    with pytest.raises(FatalError, match="NIGHTBRIDGE_LIBRE_SERVER"):
        await api.login()


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("tou", "terms of use"),
        ("pp", "privacy policy"),
        ("verifyEmail", "verify your e-mail"),
        ("realWorldEvidence", "real-world-evidence"),
    ],
)
async def test_pending_step_is_fatal_and_says_what_to_accept(
    api: LibreLinkUpApi, fake: FakeLibreLinkUp, step: str, words: str
) -> None:
    fake.account.steps = [step]
    with pytest.raises(TermsNotAcceptedError) as info:
        await api.connections()
    assert words in str(info.value)
    assert "LibreLinkUp app" in str(info.value)
    assert fake.logins == 1
    _no_secret(info.value)


async def test_wrong_password_is_auth_error_after_one_attempt(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    api = LibreLinkUpApi(settings(password="wrong-password-123"), client, clock)
    with pytest.raises(AuthError) as info:
        await api.connections()
    assert not isinstance(info.value, LockedOutError)
    assert fake.logins == 1
    _no_secret(info.value, "wrong-password-123")


async def test_lockout_is_fatal(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    api = LibreLinkUpApi(settings(password="wrong"), client, clock)
    for _ in range(fake.lockout_after):
        with pytest.raises(AuthError):
            await api.login()
    good = LibreLinkUpApi(settings(), client, clock)
    with pytest.raises(LockedOutError, match="locked for 300 s"):
        await good.login()


async def test_ticket_expiry_relogs_in_exactly_once(
    api: LibreLinkUpApi, fake: FakeLibreLinkUp
) -> None:
    await api.connections()
    fake.expire_tickets()
    connections = await api.connections()
    assert len(connections) == 2
    assert fake.logins == 2
    assert fake.requests["/llu/connections"] == 3  # first, rejected, retried


async def test_patient_selection_first_by_default(api: LibreLinkUpApi) -> None:
    assert await api.patient_id() == JOHN


async def test_patient_selection_by_configured_id(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    api = LibreLinkUpApi(settings(patient_id=JANE), client, clock)
    assert await api.patient_id() == JANE
    graph = await api.graph(JANE)
    assert graph.connection.patientId == JANE
    assert graph.connection.sensor is None


async def test_unknown_patient_id_names_no_one(client: httpx.AsyncClient, clock: FakeClock) -> None:
    api = LibreLinkUpApi(settings(patient_id="00000000-dead"), client, clock)
    with pytest.raises(PatientNotFoundError) as info:
        await api.patient_id()
    assert str(info.value) == "LibreLinkUp: patient id not found"
    assert isinstance(info.value, FatalError)


async def test_configured_patient_vanishing_from_graph_is_fatal(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    api = LibreLinkUpApi(settings(patient_id=JOHN), client, clock)
    with pytest.raises(PatientNotFoundError):
        await api.graph("someone-else")


async def test_account_following_nobody_is_fatal(
    client: httpx.AsyncClient, fake: FakeLibreLinkUp, clock: FakeClock
) -> None:
    fake.account.patients = []
    api = LibreLinkUpApi(settings(), client, clock)
    with pytest.raises(FatalError, match="follows nobody"):
        await api.patient_id()


async def test_graph_and_logbook(api: LibreLinkUpApi) -> None:
    graph = await api.graph(JOHN)
    assert len(graph.graphData) == 144  # 12 h of 5-minute points
    logbook = await api.logbook(JOHN)
    assert len(logbook) == 8


async def test_rate_limit_with_retry_after(api: LibreLinkUpApi, fake: FakeLibreLinkUp) -> None:
    await api.login()
    fake.inject("429", retry_after=42, path="/llu/connections")
    with pytest.raises(RateLimitedError) as info:
        await api.connections()
    assert info.value.retry_after == 42


@pytest.mark.parametrize("kind", ["500", "html", "truncated"])
async def test_outages_are_retriable(api: LibreLinkUpApi, fake: FakeLibreLinkUp, kind: str) -> None:
    session = await api.login()
    fake.inject(kind, path="/llu/connections")
    with pytest.raises(RemoteServerError) as info:
        await api.connections()
    _no_secret(info.value, session.token)
    assert len(await api.connections()) == 2  # the next poll works
    assert fake.logins == 1


@pytest.mark.parametrize("kind", ["500", "html", "truncated", "429"])
async def test_outage_at_login_is_retriable_not_auth(
    api: LibreLinkUpApi, fake: FakeLibreLinkUp, kind: str
) -> None:
    fake.inject(kind, path="/llu/auth/login")
    with pytest.raises(RetriableError):
        await api.login()


async def test_old_version_is_fatal_and_says_so(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    api = LibreLinkUpApi(settings(version="4.12.0"), client, clock)
    with pytest.raises(FatalError, match="NIGHTBRIDGE_LIBRE_VERSION") as info:
        await api.connections()
    assert not isinstance(info.value, AuthError)


async def test_fake_demands_headers(client: httpx.AsyncClient) -> None:
    login = await client.post(
        "https://api-eu.libreview.io/llu/auth/login",
        json={"email": default_account().email, "password": PASSWORD},
    )
    assert login.status_code == 400
    assert login.json() == {"message": "RequiredHeaderMissing"}


async def test_fake_demands_the_account_id(api: LibreLinkUpApi, client: httpx.AsyncClient) -> None:
    session = await api.login()
    base = {"product": "llu.ios", "version": "4.16.0", "Authorization": f"Bearer {session.token}"}
    url = "https://api-eu.libreview.io/llu/connections"
    missing = await client.get(url, headers=base)
    assert missing.json() == {"message": "RequiredHeaderMissing"}
    wrong = await client.get(url, headers={**base, "Account-Id": "0" * 64})
    assert wrong.status_code == 400
    right = await client.get(url, headers={**base, "Account-Id": session.account_id or ""})
    assert right.json()["status"] == 0


async def test_slow_answer_times_out_as_cannot_connect() -> None:
    fake = FakeLibreLinkUp()
    fake.inject("slow", delay=0.6, path="/llu/connections")
    with serve(fake) as base:
        async with httpx.AsyncClient(timeout=0.1) as client:
            api = LibreLinkUpApi(settings(server=base), client)
            await api.login()
            with pytest.raises(CannotConnectError, match="timed out"):
                await api.connections()
            assert fake.logins == 1


def _mock_api(handler: object, clock: FakeClock) -> tuple[LibreLinkUpApi, list[str]]:
    """An api over httpx.MockTransport: login always succeeds; ``handler`` answers the rest."""
    seen: list[str] = []
    login = {
        "status": 0,
        "data": {"user": {"id": "u-1"}, "authTicket": {"token": "tok-1", "duration": 3600000}},
    }

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/llu/auth/login":
            return httpx.Response(200, json=login)
        answer: httpx.Response = handler(request)  # type: ignore[operator]
        return answer

    client = httpx.AsyncClient(transport=httpx.MockTransport(route))
    return LibreLinkUpApi(settings(), client, clock), seen


async def test_body_status_2_on_a_data_call_means_expired(clock: FakeClock) -> None:
    answers = iter(
        [
            httpx.Response(200, json={"status": 2, "error": {"message": "notAuthenticated"}}),
            httpx.Response(200, json={"status": 0, "data": []}),
        ]
    )
    api, seen = _mock_api(lambda request: next(answers), clock)
    assert await api.connections() == []
    assert seen.count("/llu/auth/login") == 2


async def test_expired_again_after_relogin_is_retriable_not_a_loop(clock: FakeClock) -> None:
    api, seen = _mock_api(lambda request: httpx.Response(401, json={}), clock)
    with pytest.raises(RetriableError):
        await api.connections()
    assert seen.count("/llu/auth/login") == 2
    assert seen.count("/llu/connections") == 2


async def test_legacy_version_status_920_is_fatal(clock: FakeClock) -> None:
    body = {"data": {"minimumVersion": "4.7.0"}, "status": 920}
    api, _ = _mock_api(lambda request: httpx.Response(400, json=body), clock)
    with pytest.raises(FatalError, match=r"at least 4\.7\.0"):
        await api.connections()


async def test_unexpected_shape_is_retriable(clock: FakeClock) -> None:
    api, _ = _mock_api(lambda request: httpx.Response(200, json={"status": 0, "data": 7}), clock)
    with pytest.raises(RemoteServerError, match="unexpected"):
        await api.connections()
