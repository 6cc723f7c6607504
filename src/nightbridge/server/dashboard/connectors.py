"""The connector table: one row per (source, account), errors in plain words.

Shared by the dashboard (``/dashboard/connectors.json``) and ``nightbridge status``. Times are
epoch ms (UTC). ``state`` is one of:

- ``ok``: the last poll succeeded;
- ``failing``: the last poll failed and another is scheduled;
- ``stopped``: the last poll failed with an error a person must fix (no next poll);
- ``waiting``: nothing has succeeded or failed yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from nightbridge.store import ConnectorStatus

#: Error family (``NightbridgeError.family``) → what a person reads.
PLAIN_WORDS: dict[str, str] = {
    "auth": "wrong password",
    "locked_out": "account locked (too many failed logins)",
    "terms": "terms not accepted",
    "fatal": "stopped: needs attention",
    "config": "configuration error",
    "server": "vendor down",
    "connect": "vendor unreachable",
    "rate_limited": "rate limited",
    "session": "session expired",
    "transient": "temporary failure",
    "output": "output failing (data kept pending)",
    "internal": "internal error",
}


class ConnectorState(StrEnum):
    OK = "ok"
    FAILING = "failing"
    STOPPED = "stopped"
    WAITING = "waiting"


class ConnectorRow(BaseModel):
    """One line of the connector table, as JSON for the dashboard."""

    model_config = ConfigDict(frozen=True)

    source: str
    account: str
    state: ConnectorState
    last_success_ms: int | None
    last_error_ms: int | None
    #: The last error in plain words ("wrong password"), or None if there never was one.
    last_error: str | None
    #: The error's own message (never contains a secret).
    last_error_detail: str | None
    next_poll_ms: int | None
    newest_ms: int | None


def plain_words(family: str | None) -> str | None:
    """What a person reads for an error family (the family itself when unknown)."""
    if family is None:
        return None
    return PLAIN_WORDS.get(family, family.replace("_", " "))


def state_of(status: ConnectorStatus) -> ConnectorState:
    """The row's state (see the module docstring)."""
    failed_last = status.last_error_ms is not None and (
        status.last_success_ms is None or status.last_error_ms > status.last_success_ms
    )
    if failed_last:
        return ConnectorState.FAILING if status.next_poll_ms is not None else ConnectorState.STOPPED
    if status.last_success_ms is not None:
        return ConnectorState.OK
    return ConnectorState.WAITING


def rows_of(statuses: Iterable[ConnectorStatus]) -> list[ConnectorRow]:
    """Table rows for ``store.connector_status()``, in the same order."""
    return [
        ConnectorRow(
            source=s.source,
            account=s.account,
            state=state_of(s),
            last_success_ms=s.last_success_ms,
            last_error_ms=s.last_error_ms,
            last_error=plain_words(s.last_error_family),
            last_error_detail=s.last_error_message,
            next_poll_ms=s.next_poll_ms,
            newest_ms=s.newest_ms,
        )
        for s in statuses
    ]
