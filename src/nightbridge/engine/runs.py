"""The record of every poll: one ``state.record_run`` and one log line per outcome.

Log lines are ``key=value`` events (the CLI chooses text or JSON formatting); error messages come
from the error tree, which never carries secrets.
"""

from __future__ import annotations

import logging

from nightbridge.engine.metrics import count_poll
from nightbridge.engine.pipeline import SyncReport
from nightbridge.engine.state import StateStore
from nightbridge.errors import FatalError, NightbridgeError, RetriableError

log = logging.getLogger("nightbridge.engine.runs")


def family_of(exc: BaseException) -> str:
    """The short error family for status tables (``internal`` for anything unexpected)."""
    return exc.family if isinstance(exc, NightbridgeError) else "internal"


async def record_success(
    state: StateStore,
    account: str,
    source_kind: str,
    report: SyncReport,
    *,
    at_ms: int,
    next_poll_ms: int | None,
) -> None:
    """Record and log a sync that completed (some outputs may have left batches pending).

    Metrics: one poll; a failure of family ``output`` when an output left batches pending."""
    count_poll(source_kind, "output" if report.failed_outputs else None)
    await state.record_run(
        account,
        source_kind,
        ok=True,
        at_ms=at_ms,
        error_family="output" if report.failed_outputs else None,
        error_message=(
            f"pending for {', '.join(report.failed_outputs)}" if report.failed_outputs else None
        ),
        next_poll_ms=next_poll_ms,
        newest_ms=report.newest_ms,
    )
    level = logging.WARNING if report.failed_outputs else logging.INFO
    log.log(
        level,
        "sync account=%s source=%s fetched=%d created=%d duplicates=%d skipped=%d pending=%d "
        "delivered=%d newest_ms=%s failed_outputs=%s next_poll_ms=%s",
        account,
        source_kind,
        report.fetched,
        report.created,
        report.duplicates,
        report.skipped,
        report.pending,
        report.delivered,
        report.newest_ms,
        ",".join(report.failed_outputs) or "-",
        next_poll_ms,
    )


async def record_failure(
    state: StateStore,
    account: str,
    source_kind: str,
    exc: BaseException,
    *,
    at_ms: int,
    next_poll_ms: int | None,
    failures: int,
) -> None:
    """Record and log a failed sync; ``next_poll_ms`` None means the account stopped.

    Metrics: one poll and one failure of the error's family."""
    count_poll(source_kind, family_of(exc))
    message = str(exc) or type(exc).__name__
    await state.record_run(
        account,
        source_kind,
        ok=False,
        at_ms=at_ms,
        error_family=family_of(exc),
        error_message=message,
        next_poll_ms=next_poll_ms,
    )
    if isinstance(exc, FatalError):
        # The message itself reaches the person once: the CLI's error line, or the dashboard
        # and `nightbridge status` (it is recorded above). Repeating it here would say it twice.
        log.warning("stopped account=%s source=%s family=%s", account, source_kind, family_of(exc))
    elif isinstance(exc, RetriableError):
        log.warning(
            "retry account=%s source=%s family=%s failures=%d next_poll_ms=%s error=%s",
            account,
            source_kind,
            family_of(exc),
            failures,
            next_poll_ms,
            message,
        )
    else:
        log.error(
            "retry account=%s source=%s family=internal failures=%d next_poll_ms=%s error=%r",
            account,
            source_kind,
            failures,
            next_poll_ms,
            exc,
        )
