"""LibreLinkUp's answers mapped onto the error tree, in one place (protocols-cgm §2.4, §2.10).

The vendor speaks through the body's ``status`` more than through HTTP: 0 ok, 2 not
authenticated, 4 an action required (``data.step``) or an unknown patient (``error``), 429 with
``data.code`` 60 locked after failed logins, 920 app version too old. HTTP 400
``RequiredHeaderMissing`` and 403 mean this client's headers or version are refused.
No message ever contains the password or the token: texts are ours, vendor words are short codes.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from nightbridge.errors import AuthError, FatalError, LockedOutError, TermsNotAcceptedError
from nightbridge.sources.librelinkup.wire import LoginEnvelope
from nightbridge.sources.transport import raise_for_status

VENDOR = "LibreLinkUp"
STATUS_OK = 0
STATUS_NOT_AUTHENTICATED = 2
STATUS_ACTION_REQUIRED = 4
STATUS_LOCKED = 429
STATUS_VERSION_TOO_OLD = 920
LOCKED_CODE = 60

#: What to do in the app for each login step type the vendor asks for.
STEP_ADVICE = {
    "tou": "accept the new terms of use",
    "pp": "accept the new privacy policy",
    "verifyEmail": "verify your e-mail address (follow the link LibreView sent you)",
    "realWorldEvidence": "answer the real-world-evidence consent question",
}


class PatientNotFoundError(FatalError):
    """The configured patient id is not among the account's connections."""

    family = "patient"


def step_error(step_type: str) -> TermsNotAcceptedError:
    """The fatal error for a pending login step, telling the person what to do in the app."""
    advice = STEP_ADVICE.get(step_type, f"complete the pending step {step_type[:40]!r}")
    return TermsNotAcceptedError(
        f"{VENDOR}: the account must {advice} before it can be read. Open the LibreLinkUp app, "
        "log out and log in again, and follow what it asks; nightbridge will then work again."
    )


def version_error(minimum: str | None = None) -> FatalError:
    needed = f" (the server wants at least {minimum[:20]})" if minimum else ""
    return FatalError(
        f"{VENDOR}: the server refuses this client's app version{needed}; set "
        "NIGHTBRIDGE_LIBRE_VERSION to the current LibreLinkUp app version"
    )


def peek_json(response: httpx.Response) -> Any:
    """The body as JSON if it is JSON, else None (never raises)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def check_http(response: httpx.Response) -> None:
    """Vendor meanings of non-2xx answers first, then the generic status mapping."""
    if response.status_code < 400:
        return
    body = peek_json(response)
    if isinstance(body, dict):
        check_fatal_body(body)
        if body.get("message") == "RequiredHeaderMissing":
            raise FatalError(
                f"{VENDOR}: the server misses a required header (Account-Id, product or version); "
                "set NIGHTBRIDGE_LIBRE_VERSION to the current app version"
            )
    if response.status_code == 403:
        raise version_error()
    raise_for_status(response, VENDOR)


def check_fatal_body(body: dict[str, Any]) -> None:
    """Raise for the body statuses that stop the account whatever the HTTP status was."""
    status = body.get("status")
    data = _object(body.get("data"))
    if status == STATUS_LOCKED and (data.get("code") == LOCKED_CODE or data.get("message")):
        seconds = _object(data.get("data")).get("lockout")
        wait = f" for {int(seconds)} s" if isinstance(seconds, int | float) else ""
        raise LockedOutError(
            f"{VENDOR}: the account is locked{wait} after failed logins; check the e-mail and "
            "password, and do not log in elsewhere until the lock ends"
        )
    if status == STATUS_VERSION_TOO_OLD:
        minimum = data.get("minimumVersion")
        raise version_error(minimum if isinstance(minimum, str) else None)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def check_login(envelope: LoginEnvelope) -> None:
    """Raise for every login answer that is not a ticket or a redirect."""
    data = envelope.data
    if envelope.status == STATUS_NOT_AUTHENTICATED:
        raise AuthError(f"{VENDOR}: wrong e-mail or password (the vendor said notAuthenticated)")
    if envelope.status == STATUS_ACTION_REQUIRED and data is not None and data.step is not None:
        raise step_error(data.step.type)
    if envelope.status != STATUS_OK or data is None:
        word = (envelope.error.message or "") if envelope.error else ""
        detail = f"status {envelope.status}" + (f", {word[:40]}" if word else "")
        raise AuthError(f"{VENDOR}: login refused ({detail})")
    if not data.redirect and (data.authTicket is None or data.user is None or not data.user.id):
        raise AuthError(f"{VENDOR}: login answer without a ticket or user id")
