"""Dexcom Share: the publisher's (sensor wearer's) readings of the last 24 hours.

``DexcomSettings`` configures one account; ``DexcomShareSource.from_settings`` builds the source.
"""

from nightbridge.sources.dexcom_share.api import DexcomShareApi
from nightbridge.sources.dexcom_share.settings import DexcomRegion, DexcomSettings
from nightbridge.sources.dexcom_share.source import DexcomShareSource

__all__ = ["DexcomRegion", "DexcomSettings", "DexcomShareApi", "DexcomShareSource"]
