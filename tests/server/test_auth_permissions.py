"""Shiro-style permission matching and the access-token/JWT helpers (no app needed)."""

from __future__ import annotations

import pytest

from nightbridge.server.auth import PermissionSet, implies
from nightbridge.server.auth.delays import FailureDelays
from nightbridge.server.auth.jwt import JwtSigner, derive_key
from nightbridge.server.auth.roles import Subject, access_token, split_roles, token_suffix
from nightbridge.server.errors import ApiError


@pytest.mark.parametrize(
    ("granted", "wanted", "expected"),
    [
        ("*", "api:entries:read", True),
        ("*", "*:*:admin", True),
        ("*:*:read", "api:entries:read", True),
        ("*:*:read", "api:entries:create", False),
        ("*:*:read", "admin:api:subjects:read", False),
        ("api:*:read", "api:treatments:read", True),
        ("api:entries:*", "api:entries:delete", True),
        ("api:entries:*", "api:treatments:read", False),
        ("api:treatments:create,update,delete", "api:treatments:update", True),
        ("api:treatments:create,update,delete", "api:treatments:read", False),
        ("api", "api:entries:read", True),
        ("api:entries:read", "api:entries", False),
        ("api:entries:read:*", "api:entries:read", True),
        ("api:status:read", "api:entries:read", False),
    ],
)
def test_implies(granted: str, wanted: str, expected: bool) -> None:
    assert implies(granted, wanted) is expected


def test_permission_set_any_grant_counts() -> None:
    perms = PermissionSet.of(["api:status:read", "api:devicestatus:create"])
    assert perms.allows("api:devicestatus:create")
    assert not perms.allows("api:entries:read")
    assert not PermissionSet.of([]).allows("api:status:read")


def test_access_token_shape_and_suffix_lookup() -> None:
    token = access_token("ab" * 20, Subject("5f0c0ffee0000000000000aa", "Phone of Ann!", ()))
    name, _, hex16 = token.partition("-")
    assert name == "phoneofann"
    assert len(hex16) == 16 and int(hex16, 16) >= 0
    assert token_suffix(token) == hex16
    assert token_suffix(f"anything-{hex16}") == hex16
    assert token_suffix("not a token") is None


def test_split_roles_on_space_comma_colon() -> None:
    assert split_roles("readable, careportal:status-only") == (
        "readable",
        "careportal",
        "status-only",
    )


def test_jwt_round_trip_and_expiry() -> None:
    now = [1_700_000_000.0]
    signer = JwtSigner(derive_key("a-secret-of-length-16"), lambda: now[0])
    issued = signer.issue("ann-0123456789abcdef")
    assert issued.exp - issued.iat == 8 * 3600
    assert signer.verify(issued.token) == "ann-0123456789abcdef"
    other = JwtSigner(derive_key("another-secret-16"), lambda: now[0])
    assert other.verify(issued.token) is None
    now[0] += 8 * 3600 + 1
    assert signer.verify(issued.token) is None


async def test_failure_delays_accumulate_cap_and_forget() -> None:
    now = [1000.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)

    delays = FailureDelays(5.0, max_wait_s=12.0, clock=lambda: now[0], sleep=sleep)
    await delays.wait("1.2.3.4")
    assert slept == []
    delays.record_failure("1.2.3.4")
    await delays.wait("1.2.3.4")
    assert slept == [5.0]
    await delays.wait("5.6.7.8")  # another address is not slowed down
    assert slept == [5.0]
    delays.record_failure("1.2.3.4")
    delays.record_failure("1.2.3.4")
    with pytest.raises(ApiError) as err:
        await delays.wait("1.2.3.4")
    assert err.value.status == 429
    assert err.value.headers["Retry-After"] == "15"
    now[0] += 61
    await delays.wait("1.2.3.4")
    assert delays.failures("1.2.3.4") == 0
    delays.record_failure("1.2.3.4")
    delays.clear("1.2.3.4")
    assert delays.penalty("1.2.3.4") == 0
