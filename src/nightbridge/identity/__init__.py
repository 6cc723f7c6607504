"""Stable keys: every record gets its Nightscout v3 identifier before any output sees it."""

from nightbridge.identity.dedup import unique_by_identifier
from nightbridge.identity.keys import NAMESPACE, calculate_identifier, identify

__all__ = ["NAMESPACE", "calculate_identifier", "identify", "unique_by_identifier"]
