"""The environment each peer tool's user has today, pointed at the fakes.

Only the peer's own variables are set, with one exception per family where the peer has no
variable that can hold a loopback URL (named in ``stand_in``):

- the Nightscout bridge plugin and Nocturne's connectors run *inside* the Nightscout they write
  to, so they have no "where is Nightscout" variable: ``NIGHTBRIDGE_NIGHTSCOUT_URL`` (and, for
  Nocturne, which has no API_SECRET of its own either, ``NIGHTBRIDGE_NIGHTSCOUT_API_SECRET``);
- nightscout-librelink-up and Nocturne name the LibreLinkUp server only by region
  (``LINK_UP_REGION``/``CONNECT_LIBRE_REGION``, which stay set): ``NIGHTBRIDGE_LIBRE_SERVER``.

The Dexcom server goes through the peers' own host variables (``BRIDGE_SERVER``,
``CONNECT_SHARE_SERVER``, ``CONNECT_DEXCOM_SERVER``), which nightbridge also accepts as full
URLs; nightscout-connect's ``CONNECT_LINK_UP_SERVER`` likewise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.e2e.conftest import ACCESS_TOKEN, API_SECRET, HASHED_TOKEN, Dexcom, Libre, Site
from tests.fakes.dexcom_share import PASSWORD, USERNAME


@dataclass(frozen=True)
class Peer:
    name: str
    vendor: str  # "dexcom" or "libre"
    #: The ``device`` marker the peer puts on its entries (peer-config.md §6).
    device: str
    #: Nightscout API the peer (and so nightbridge) uploads through.
    api: str
    env: Callable[[Site, Dexcom | Libre, str], dict[str, str]]
    #: NIGHTBRIDGE_* variables standing in for something the peer cannot express.
    stand_in: tuple[str, ...] = ()


def share2nightscout(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    return {
        "DEXCOM_ACCOUNT_NAME": USERNAME,
        "DEXCOM_PASSWORD": password,
        "BRIDGE_SERVER": vendor.url,
        "NS": site.url,
        "API_SECRET": API_SECRET,
    }


def bridge_plugin(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    return {
        "BRIDGE_USER_NAME": USERNAME,
        "BRIDGE_PASSWORD": password,
        "BRIDGE_SERVER": vendor.url,
        "API_SECRET": API_SECRET,  # the hosting Nightscout's own secret
        "NIGHTBRIDGE_NIGHTSCOUT_URL": site.url,
    }


def connect_share(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    return {
        "CONNECT_SOURCE": "dexcomshare",
        "CONNECT_SHARE_ACCOUNT_NAME": USERNAME,
        "CONNECT_SHARE_PASSWORD": password,
        "CONNECT_SHARE_SERVER": vendor.url,
        "CONNECT_NIGHTSCOUT_ENDPOINT": site.url,
        "CONNECT_API_SECRET": API_SECRET,
    }


def nocturne_dexcom(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    return {
        "CONNECT_DEXCOM_USERNAME": USERNAME,
        "CONNECT_DEXCOM_PASSWORD": password,
        "CONNECT_DEXCOM_SERVER": vendor.url,
        "NIGHTBRIDGE_NIGHTSCOUT_URL": site.url,
        "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET": API_SECRET,
    }


def librelink_up(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    assert isinstance(vendor, Libre)
    return {
        "LINK_UP_USERNAME": vendor.email,
        "LINK_UP_PASSWORD": password,
        "LINK_UP_REGION": "EU",
        "NIGHTBRIDGE_LIBRE_SERVER": vendor.url,
        "NIGHTSCOUT_URL": site.host,
        "NIGHTSCOUT_API_TOKEN": HASHED_TOKEN,
        "NIGHTSCOUT_DISABLE_HTTPS": "true",
    }


def librelink_up_v3(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    """nightscout-librelink-up with ``NIGHTSCOUT_API_V3=true``: the plain token, API v3."""
    return {
        **librelink_up(site, vendor, password),
        "NIGHTSCOUT_API_V3": "true",
        "NIGHTSCOUT_API_TOKEN": ACCESS_TOKEN,
    }


def connect_linkup(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    assert isinstance(vendor, Libre)
    return {
        "CONNECT_SOURCE": "linkup",
        "CONNECT_LINK_UP_USERNAME": vendor.email,
        "CONNECT_LINK_UP_PASSWORD": password,
        "CONNECT_LINK_UP_SERVER": vendor.url,
        "CONNECT_NIGHTSCOUT_ENDPOINT": site.url,
        "CONNECT_API_SECRET": API_SECRET,
    }


def nocturne_libre(site: Site, vendor: Dexcom | Libre, password: str) -> dict[str, str]:
    assert isinstance(vendor, Libre)
    return {
        "CONNECT_LIBRE_USERNAME": vendor.email,
        "CONNECT_LIBRE_PASSWORD": password,
        "CONNECT_LIBRE_REGION": "EU",
        "NIGHTBRIDGE_LIBRE_SERVER": vendor.url,
        "NIGHTBRIDGE_NIGHTSCOUT_URL": site.url,
        "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET": API_SECRET,
    }


PEERS = [
    Peer("share2nightscout-bridge", "dexcom", "share2", "v1", share2nightscout),
    Peer(
        "bridge plugin",
        "dexcom",
        "share2",
        "v1",
        bridge_plugin,
        ("NIGHTBRIDGE_NIGHTSCOUT_URL",),
    ),
    Peer("nightscout-connect dexcomshare", "dexcom", "nightscout-connect", "v1", connect_share),
    Peer(
        "nocturne dexcom",
        "dexcom",
        "dexcom-connector",
        "v1",
        nocturne_dexcom,
        ("NIGHTBRIDGE_NIGHTSCOUT_URL", "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET"),
    ),
    Peer(
        "nightscout-librelink-up",
        "libre",
        "nightscout-librelink-up",
        "v1",
        librelink_up,
        ("NIGHTBRIDGE_LIBRE_SERVER",),
    ),
    Peer(
        "nightscout-librelink-up api v3",
        "libre",
        "freestyle-libre",
        "v3",
        librelink_up_v3,
        ("NIGHTBRIDGE_LIBRE_SERVER",),
    ),
    Peer(
        "nightscout-connect linkup",
        "libre",
        "nightscout-connect-librelinkup",
        "v1",
        connect_linkup,
    ),
    Peer(
        "nocturne libre",
        "libre",
        "libre-connector",
        "v1",
        nocturne_libre,
        (
            "NIGHTBRIDGE_LIBRE_SERVER",
            "NIGHTBRIDGE_NIGHTSCOUT_URL",
            "NIGHTBRIDGE_NIGHTSCOUT_API_SECRET",
        ),
    ),
]
BY_NAME = {peer.name: peer for peer in PEERS}
DEXCOM_PASSWORD = PASSWORD
