"""LibreLinkUp (Abbott FreeStyle Libre follower cloud) as a nightbridge source."""

from nightbridge.sources.librelinkup.settings import LibreSettings, Region
from nightbridge.sources.librelinkup.source import LibreLinkUpSource

__all__ = ["LibreLinkUpSource", "LibreSettings", "Region"]
