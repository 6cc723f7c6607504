"""The alias table: which environment variables set which option, with their units.

Our own ``NIGHTBRIDGE_*`` name always comes first and wins; then the peers' names, most specific
peer first (peer-config.md §7). A value is converted to our unit (poll intervals: minutes) when
read. The peer whose name supplied an account's user name decides the default ``device`` marker,
so readings keep the marker that peer uploaded with and de-duplicate against it (§6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Peer(StrEnum):
    NIGHTBRIDGE = "nightbridge"
    NIGHTSCOUT_CONNECT = "nightscout-connect"
    BRIDGE_PLUGIN = "nightscout bridge plugin"
    SHARE2NIGHTSCOUT = "share2nightscout-bridge"
    LIBRELINK_UP = "nightscout-librelink-up"
    TCONNECTSYNC = "tconnectsync"
    NOCTURNE = "nocturne"


class Unit(StrEnum):
    TEXT = "text"
    MINUTES = "minutes"
    MILLISECONDS = "ms"


#: Divide a value in this unit by the factor to get minutes.
PER_MINUTE = {Unit.MINUTES: 1.0, Unit.MILLISECONDS: 60_000.0}


@dataclass(frozen=True, slots=True)
class Alias:
    variable: str
    peer: Peer = Peer.NIGHTBRIDGE
    unit: Unit = Unit.TEXT


def _a(variable: str, peer: Peer = Peer.NIGHTBRIDGE, unit: Unit = Unit.TEXT) -> Alias:
    return Alias(variable, peer, unit)


NSC, BRIDGE, S2N = Peer.NIGHTSCOUT_CONNECT, Peer.BRIDGE_PLUGIN, Peer.SHARE2NIGHTSCOUT
LLU, TCS, NOC = Peer.LIBRELINK_UP, Peer.TCONNECTSYNC, Peer.NOCTURNE
MIN, MS = Unit.MINUTES, Unit.MILLISECONDS


@dataclass(frozen=True, slots=True)
class SourceAliases:
    """Env names of one source kind. ``options`` keys are the vendor settings' field names."""

    kind: str
    options: dict[str, tuple[Alias, ...]]
    interval: tuple[Alias, ...] = ()
    #: Option whose presence means "this source is configured" (and picks the peer).
    identity: str | None = None
    #: Default ``device`` marker per peer whose names configured the account.
    devices: dict[Peer, str] = field(default_factory=dict)


DEXCOM = SourceAliases(
    kind="dexcom_share",
    options={
        "username": (
            _a("NIGHTBRIDGE_DEXCOM_USERNAME"),
            _a("CONNECT_SHARE_ACCOUNT_NAME", NSC),
            _a("BRIDGE_USER_NAME", BRIDGE),
            _a("DEXCOM_ACCOUNT_NAME", S2N),
            _a("CONNECT_DEXCOM_USERNAME", NOC),
        ),
        "password": (
            _a("NIGHTBRIDGE_DEXCOM_PASSWORD"),
            _a("CONNECT_SHARE_PASSWORD", NSC),
            _a("BRIDGE_PASSWORD", BRIDGE),
            _a("DEXCOM_PASSWORD", S2N),
            _a("CONNECT_DEXCOM_PASSWORD", NOC),
        ),
        "account_id": (_a("NIGHTBRIDGE_DEXCOM_ACCOUNT_ID"),),
        "server": (
            _a("NIGHTBRIDGE_DEXCOM_SERVER"),
            _a("NIGHTBRIDGE_DEXCOM_REGION"),
            _a("CONNECT_SHARE_SERVER", NSC),
            _a("CONNECT_SHARE_REGION", NSC),
            _a("BRIDGE_SERVER", S2N),
            _a("CONNECT_DEXCOM_SERVER", NOC),
        ),
        "device": (_a("NIGHTBRIDGE_DEXCOM_DEVICE"),),
    },
    interval=(
        _a("NIGHTBRIDGE_DEXCOM_POLL_INTERVAL_MINUTES", unit=MIN),
        _a("CONNECT_DEXCOM_SYNC_INTERVAL_MINUTES", NOC, MIN),
        _a("BRIDGE_INTERVAL", BRIDGE, MS),
        _a("SHARE_INTERVAL", S2N, MS),
    ),
    identity="username",
    devices={NSC: "nightscout-connect", BRIDGE: "share2", S2N: "share2", NOC: "dexcom-connector"},
)

LIBRE = SourceAliases(
    kind="librelinkup",
    options={
        "username": (
            _a("NIGHTBRIDGE_LIBRE_USERNAME"),
            _a("CONNECT_LINK_UP_USERNAME", NSC),
            _a("LINK_UP_USERNAME", LLU),
            _a("CONNECT_LIBRE_USERNAME", NOC),
        ),
        "password": (
            _a("NIGHTBRIDGE_LIBRE_PASSWORD"),
            _a("CONNECT_LINK_UP_PASSWORD", NSC),
            _a("LINK_UP_PASSWORD", LLU),
            _a("CONNECT_LIBRE_PASSWORD", NOC),
        ),
        "server": (
            _a("NIGHTBRIDGE_LIBRE_SERVER"),
            _a("NIGHTBRIDGE_LIBRE_REGION"),
            _a("CONNECT_LINK_UP_SERVER", NSC),
            _a("CONNECT_LINK_UP_REGION", NSC),
            _a("LINK_UP_REGION", LLU),
            _a("CONNECT_LIBRE_REGION", NOC),
        ),
        "patient_id": (
            _a("NIGHTBRIDGE_LIBRE_PATIENT_ID"),
            _a("CONNECT_LINK_UP_PATIENT_ID", NSC),
            _a("LINK_UP_CONNECTION", LLU),
            _a("CONNECT_LIBRE_PATIENT_ID", NOC),
        ),
        "version": (
            _a("NIGHTBRIDGE_LIBRE_VERSION"),
            _a("CONNECT_LINK_UP_VERSION", NSC),
            _a("LINK_UP_VERSION", LLU),
        ),
        "product": (_a("NIGHTBRIDGE_LIBRE_PRODUCT"), _a("CONNECT_LINK_UP_PRODUCT", NSC)),
        "device": (_a("NIGHTBRIDGE_LIBRE_DEVICE"), _a("NIGHTSCOUT_DEVICE_NAME", LLU)),
    },
    interval=(
        _a("NIGHTBRIDGE_LIBRE_POLL_INTERVAL_MINUTES", unit=MIN),
        _a("CONNECT_LINK_UP_INTERVAL", NSC, MIN),
        _a("LINK_UP_TIME_INTERVAL", LLU, MIN),
        _a("CONNECT_LIBRE_SYNC_INTERVAL_MINUTES", NOC, MIN),
    ),
    identity="username",
    devices={
        NSC: "nightscout-connect-librelinkup",
        LLU: "nightscout-librelink-up",
        NOC: "libre-connector",
    },
)

#: nightscout-librelink-up marks entries differently when it uploads through API v3.
LLU_V3_DEVICE = "freestyle-libre"

SIMULATOR = SourceAliases(
    kind="simulator",
    options={
        "seed": (_a("NIGHTBRIDGE_SIMULATOR_SEED"),),
        "device": (_a("NIGHTBRIDGE_SIMULATOR_DEVICE"),),
    },
    interval=(_a("NIGHTBRIDGE_SIMULATOR_POLL_INTERVAL_MINUTES", unit=MIN),),
)

SOURCE_ALIASES = {aliases.kind: aliases for aliases in (DEXCOM, LIBRE, SIMULATOR)}

#: Source names in ``NIGHTBRIDGE_SOURCES`` / nightscout-connect's ``CONNECT_SOURCE``.
SOURCE_KIND_NAMES = {
    "dexcom_share": "dexcom_share",
    "dexcomshare": "dexcom_share",
    "dexcom": "dexcom_share",
    "librelinkup": "librelinkup",
    "linkup": "librelinkup",
    "libre": "librelinkup",
    "simulator": "simulator",
    "demo": "simulator",
}
SOURCES = (_a("NIGHTBRIDGE_SOURCES"), _a("CONNECT_SOURCE", NSC))

# The Nightscout output. Host-only names get https:// (http:// with DISABLE_HTTPS).
NIGHTSCOUT_URL = (
    _a("NIGHTBRIDGE_NIGHTSCOUT_URL"),
    _a("CONNECT_NIGHTSCOUT_ENDPOINT", NSC),
    _a("NS", S2N),
    _a("NS_URL", TCS),
    _a("NIGHTSCOUT_URL", LLU),
    _a("WEBSITE_HOSTNAME", S2N),
)
NIGHTSCOUT_INSECURE = (
    _a("NIGHTBRIDGE_NIGHTSCOUT_INSECURE_HTTP"),
    _a("NIGHTSCOUT_DISABLE_HTTPS", LLU),
)
#: Plain API_SECRET (SHA-1 hashed on the wire).
NIGHTSCOUT_API_SECRET = (
    _a("NIGHTBRIDGE_NIGHTSCOUT_API_SECRET"),
    _a("CONNECT_API_SECRET", NSC),
    _a("NS_SECRET", TCS),
    _a("API_SECRET", S2N),
)
NIGHTSCOUT_TOKEN = (_a("NIGHTBRIDGE_NIGHTSCOUT_TOKEN"),)
#: nightscout-librelink-up: SHA-1 hex of an access token for v1; the plain token under v3.
NIGHTSCOUT_HASHED_TOKEN = _a("NIGHTSCOUT_API_TOKEN", LLU)
NIGHTSCOUT_API_VERSION = _a("NIGHTBRIDGE_NIGHTSCOUT_API_VERSION")
NIGHTSCOUT_API_V3_FLAG = _a("NIGHTSCOUT_API_V3", LLU)

OUTPUT = _a("NIGHTBRIDGE_OUTPUT")
FILES_DIR = _a("NIGHTBRIDGE_FILES_DIR")
DATA_DIR = _a("NIGHTBRIDGE_DATA_DIR")
DATABASE_URL = _a("NIGHTBRIDGE_DATABASE_URL")
POLL_INTERVAL = _a("NIGHTBRIDGE_POLL_INTERVAL_MINUTES", unit=MIN)
DEVICE = _a("NIGHTBRIDGE_DEVICE")
LOG_LEVEL = (_a("NIGHTBRIDGE_LOG_LEVEL"), _a("LOG_LEVEL", LLU))
