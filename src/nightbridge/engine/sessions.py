"""Vendor sessions: a token with the time it was obtained and how long the vendor honours it.

A source keeps one ``Session`` and logs in again only when it is stale or the vendor says it
expired; each vendor states its own lifetime (Dexcom ~ hours, LibreLinkUp from the ticket).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

#: Renew this long before the stated expiry, so a request never carries a dying token.
RENEW_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Session:
    """``token`` obtained at ``obtained_at`` (monotonic seconds), valid for ``lifetime``."""

    token: str
    obtained_at: float
    lifetime: timedelta | None = None
    account_id: str | None = None

    def is_fresh(self, now: float) -> bool:
        """True while the session may still be used (None lifetime: until the vendor says no)."""
        if self.lifetime is None:
            return True
        remaining = self.obtained_at + self.lifetime.total_seconds() - now
        return remaining > RENEW_MARGIN.total_seconds()


Clock = Callable[[], float]
monotonic: Clock = time.monotonic
