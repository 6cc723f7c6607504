"""The single-attempt retry policy: bounded, honours Retry-After, never retries fatal errors."""

from __future__ import annotations

import pytest
import stamina

from nightbridge.engine.retry import NO_RETRY, RetryPolicy, call_with_retry
from nightbridge.errors import AuthError, RateLimitedError, RemoteServerError, SkippableError


class Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


async def test_retriable_errors_are_retried_until_success() -> None:
    flaky = Flaky(RemoteServerError("502"), RemoteServerError("503"))
    with stamina.set_testing(True, attempts=3):
        assert await call_with_retry(flaky) == "ok"
    assert flaky.calls == 3


async def test_attempts_are_bounded() -> None:
    flaky = Flaky(*[RemoteServerError("502")] * 5)
    with stamina.set_testing(True, attempts=3), pytest.raises(RemoteServerError):
        await call_with_retry(flaky)
    assert flaky.calls == 3


@pytest.mark.parametrize("error", [AuthError("wrong password"), SkippableError("bad", "sgv")])
async def test_fatal_and_skippable_are_never_retried(error: Exception) -> None:
    flaky = Flaky(error)
    with stamina.set_testing(True, attempts=3), pytest.raises(type(error)):
        await call_with_retry(flaky)
    assert flaky.calls == 1


def test_retry_after_within_budget_is_the_wait() -> None:
    policy = RetryPolicy()
    assert policy.should_retry(RateLimitedError("429", 7)) == 7
    assert policy.should_retry(RemoteServerError("500")) is True
    assert policy.should_retry(RateLimitedError("429", 3600)) is False
    assert policy.should_retry(AuthError("401")) is False


async def test_long_retry_after_is_left_to_the_scheduler() -> None:
    flaky = Flaky(RateLimitedError("429", 3600))
    with stamina.set_testing(True, attempts=3), pytest.raises(RateLimitedError):
        await call_with_retry(flaky)
    assert flaky.calls == 1


async def test_no_retry_policy_makes_one_attempt() -> None:
    flaky = Flaky(RemoteServerError("502"))
    with pytest.raises(RemoteServerError):
        await call_with_retry(flaky, NO_RETRY)
    assert flaky.calls == 1
