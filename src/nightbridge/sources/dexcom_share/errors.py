"""Dexcom Share's answers mapped onto the error tree, in one function.

Dexcom sends every fault, wrong password included, as HTTP 500 with a JSON envelope
``{"Code", "Message", "SubCode", "TypeName"}`` (protocols-cgm.md §1.4). The vendor code must be
read *before* the generic "5xx is transient" rule, or a bad password gets retried into a lockout.
Error texts carry the vendor ``Code`` only: the vendor ``Message`` can echo the session id.
"""

from __future__ import annotations

import re

import httpx
import orjson

from nightbridge.errors import (
    AuthError,
    LockedOutError,
    NightbridgeError,
    RemoteServerError,
    SessionExpiredError,
)
from nightbridge.sources.transport import raise_for_status

VENDOR = "Dexcom Share"

#: Codes meaning "these credentials are wrong": fatal, never retried.
AUTH_CODES = frozenset(
    {
        "AccountPasswordInvalid",
        "SSO_AuthenticatePasswordInvalid",
        "AccountNotFound",
        "SSO_AuthenticateAccountNotFound",
    }
)
LOCKOUT_CODES = frozenset({"SSO_AuthenticateMaxAttemptsExceeded"})
SESSION_CODES = frozenset({"SessionIdNotFound", "SessionNotValid"})
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def fault_code(response: httpx.Response) -> tuple[str, str] | None:
    """(Code, Message) of a Dexcom fault envelope, or None if the body is not one."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("Code"), str):
        return None
    message = body.get("Message")
    return body["Code"], message if isinstance(message, str) else ""


def is_session_expired(response: httpx.Response) -> bool:
    """True when Dexcom says the session id is unknown or no longer valid."""
    if response.status_code < 400:
        return False
    fault = fault_code(response)
    return fault is not None and fault[0] in SESSION_CODES


def error_for(response: httpx.Response) -> NightbridgeError | None:
    """The error a Share response means, or None for a success status.

    Vendor codes first (auth → AuthError, lockout → LockedOutError, session → SessionExpired,
    argument errors about credentials → AuthError, any other code → RemoteServerError), then the
    generic status mapping (429 → RateLimitedError with Retry-After, 5xx → RemoteServerError).
    """
    if response.status_code < 400:
        return None
    fault = fault_code(response)
    if fault is not None:
        code, message = fault
        shown = code if _SAFE_CODE.match(code) else "an unrecognised code"
        if code in LOCKOUT_CODES:
            return LockedOutError(
                f"{VENDOR}: account locked after too many failed logins ({shown}); "
                "wait before trying again and check the password"
            )
        if code in AUTH_CODES or _cannot_authenticate(code, message):
            return AuthError(
                f"{VENDOR}: username or password rejected ({shown}); check them, the region "
                "(us / ous / jp) and that the account has at least one follower"
            )
        if code in SESSION_CODES:
            return SessionExpiredError(f"{VENDOR}: session no longer valid ({shown})")
        if code == "InvalidArgument" and _names_credential(message):
            return AuthError(f"{VENDOR}: the server refused the account name, id or password")
        if response.status_code != 429:
            return RemoteServerError(
                f"{VENDOR}: server fault {shown} (HTTP {response.status_code})"
            )
    try:
        raise_for_status(response, VENDOR)
    except NightbridgeError as exc:
        return exc
    return None


def raise_for_share(response: httpx.Response) -> None:
    """Raise ``error_for(response)`` if there is one."""
    error = error_for(response)
    if error is not None:
        raise error


def _cannot_authenticate(code: str, message: str) -> bool:
    return code == "SSO_InternalError" and "Cannot Authenticate" in message


def _names_credential(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("accountname", "password", "uuid", "accountid"))
