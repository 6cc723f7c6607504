"""The one mapping of Share answers onto the error tree, fed the recorded fault bodies."""

from __future__ import annotations

import httpx
import pytest

from nightbridge.errors import (
    AuthError,
    FatalError,
    LockedOutError,
    RateLimitedError,
    RemoteServerError,
    RetriableError,
    SessionExpiredError,
)
from nightbridge.sources.dexcom_share.errors import error_for, is_session_expired
from tests.fakes.dexcom_share import fault_body
from tests.sources.dexcom_share.cassettes import interactions

RECORDED_FAULTS = [i for i in interactions() if i.status == 500]


def response(status: int, body: str | bytes, **headers: str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers=headers)


def test_cassettes_hold_both_fault_kinds() -> None:
    codes = {i.body.split('"')[3] for i in RECORDED_FAULTS}
    assert codes == {"AccountPasswordInvalid", "SessionIdNotFound"}
    assert len(RECORDED_FAULTS) == 31


@pytest.mark.parametrize("item", RECORDED_FAULTS, ids=lambda i: f"{i.cassette}:{i.uri[-30:]}")
def test_every_recorded_fault_maps_to_its_class(item: object) -> None:
    from tests.sources.dexcom_share.cassettes import Interaction

    assert isinstance(item, Interaction)
    error = error_for(response(item.status, item.body))
    if "AccountPasswordInvalid" in item.body:
        assert type(error) is AuthError
        assert isinstance(error, FatalError)
    else:
        assert type(error) is SessionExpiredError
        assert is_session_expired(response(item.status, item.body))
        assert "3333" not in str(error)  # the vendor message echoes the session id
    assert error is not None and "p@$$w0rd" not in str(error)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (fault_body("SSO_AuthenticateMaxAttemptsExceeded"), LockedOutError),
        (fault_body("SessionNotValid"), SessionExpiredError),
        (fault_body("InvalidArgument", what="accountName"), AuthError),
        (
            {"Code": "SSO_InternalError", "Message": "Cannot Authenticate by AccountName"},
            AuthError,
        ),
        ({"Code": "SSO_AuthenticatePasswordInvalid", "Message": "x"}, AuthError),
        ({"Code": "SomethingElse", "Message": "boom"}, RemoteServerError),
        ({"Code": "<script>", "Message": "boom"}, RemoteServerError),
    ],
)
def test_vendor_codes(body: dict[str, str], expected: type[Exception]) -> None:
    import json

    error = error_for(response(500, json.dumps(body)))
    assert type(error) is expected
    assert "<script>" not in str(error)


def test_generic_statuses() -> None:
    assert error_for(response(200, "[]")) is None
    limited = error_for(response(429, "{}", **{"Retry-After": "7"}))
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7.0
    html = error_for(response(502, "<html>Bad gateway</html>"))
    assert isinstance(html, RemoteServerError)
    assert isinstance(error_for(response(400, "The server encountered an error")), RetriableError)
    assert isinstance(error_for(response(503, b"")), RemoteServerError)
