"""Sources and outputs described by environment variables (ours and the peers' aliases).

Several accounts of one kind need the TOML file; the environment describes at most one account
per source kind, exactly as each peer tool did.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from nightbridge.errors import ConfigError
from nightbridge.settings import aliases as names
from nightbridge.settings.aliases import PER_MINUTE, Alias, Peer, SourceAliases, Unit
from nightbridge.settings.env import EnvView, Found, parse_bool, parse_number
from nightbridge.settings.model import (
    FilesOutputConfig,
    NightscoutOutputConfig,
    OutputConfig,
    OutputKind,
    SourceConfig,
    StoreOutputConfig,
)
from nightbridge.settings.servers import parse_base_url

_SHA1_HEX = re.compile(r"^[0-9a-fA-F]{40}$")


def first(view: EnvView, aliases: Iterable[Alias]) -> tuple[Found, Alias] | None:
    """The first alias that is set, with its value. A peer's ``0`` interval means its default."""
    for alias in aliases:
        found = view.get(alias.variable)
        if found is None:
            continue
        if alias.peer is not Peer.NIGHTBRIDGE and alias.unit is not Unit.TEXT and _is_zero(found):
            continue
        return found, alias
    return None


def minutes(found: Found, alias: Alias) -> float:
    """The value of an interval alias in minutes (ConfigError naming the variable)."""
    return parse_number(found) / PER_MINUTE[alias.unit]


def _is_zero(found: Found) -> bool:
    try:
        return float(found.value) == 0
    except ValueError:
        return False


def selected_kinds(view: EnvView, known: Iterable[str]) -> list[str]:
    """Source kinds to run: ``NIGHTBRIDGE_SOURCES``/``CONNECT_SOURCE``, else those with creds."""
    known = list(known)
    hit = first(view, names.SOURCES)
    if hit is None:
        return [
            a.kind
            for a in names.SOURCE_ALIASES.values()
            if a.identity and a.kind in known and first(view, a.options[a.identity])
        ]
    found, _ = hit
    kinds: list[str] = []
    for word in (w.strip().lower() for w in found.value.split(",")):
        kind = names.SOURCE_KIND_NAMES.get(word, word)
        if kind not in known:
            raise ConfigError(
                f"{found.variable}: unknown source {word!r} (known: {', '.join(known)})",
                found.variable,
            )
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def source_from_env(
    aliases: SourceAliases, view: EnvView, *, device: Found | None, llu_v3: bool
) -> SourceConfig:
    """The one account of ``aliases.kind`` the environment describes.

    ``device`` is ``NIGHTBRIDGE_DEVICE`` (applies when no source-specific device is set);
    otherwise the peer whose names gave the user name picks the device marker.
    """
    options: dict[str, object] = {}
    origins: dict[str, str] = {}
    peer = Peer.NIGHTBRIDGE
    for key, candidates in aliases.options.items():
        hit = first(view, candidates)
        if hit is None:
            continue
        options[key], origins[key] = hit[0].value, hit[0].variable
        if key == aliases.identity:
            peer = hit[1].peer
    if "device" not in options:
        if device is not None:
            options["device"], origins["device"] = device.value, device.variable
        elif peer in aliases.devices:
            marker = aliases.devices[peer]
            options["device"] = (
                names.LLU_V3_DEVICE if peer is Peer.LIBRELINK_UP and llu_v3 else marker
            )
    interval = first(view, aliases.interval)
    account = options.get(aliases.identity) if aliases.identity else None
    return SourceConfig(
        kind=aliases.kind,
        account=str(account or aliases.kind),
        options=options,
        poll_interval_minutes=minutes(*interval) if interval else None,
        origins=origins,
    )


def output_kinds(view: EnvView) -> list[OutputKind]:
    """``NIGHTBRIDGE_OUTPUT`` (comma list), else nightscout when a Nightscout URL is set, else
    the embedded store."""
    found = view.get(names.OUTPUT.variable)
    if found is None:
        return [OutputKind.NIGHTSCOUT if first(view, names.NIGHTSCOUT_URL) else OutputKind.STORE]
    kinds: list[OutputKind] = []
    for word in (w.strip().lower() for w in found.value.split(",")):
        try:
            kinds.append(OutputKind(word))
        except ValueError:
            choices = ", ".join(k.value for k in OutputKind)
            raise ConfigError(
                f"{found.variable}: unknown output {word!r} (known: {choices})", found.variable
            ) from None
    return list(dict.fromkeys(kinds))


def outputs_from_env(view: EnvView, data_dir: Path) -> list[OutputConfig]:
    built: list[OutputConfig] = []
    for kind in output_kinds(view):
        if kind is OutputKind.NIGHTSCOUT:
            built.append(nightscout_from_env(view))
        elif kind is OutputKind.STORE:
            built.append(StoreOutputConfig())
        else:
            found = view.get(names.FILES_DIR.variable)
            directory = Path(found.value).expanduser() if found else data_dir / "files"
            built.append(FilesOutputConfig(directory=directory))
    return built


def llu_v3(view: EnvView) -> bool:
    """True when nightscout-librelink-up's ``NIGHTSCOUT_API_V3`` asks for API v3."""
    found = view.get(names.NIGHTSCOUT_API_V3_FLAG.variable)
    return found is not None and parse_bool(found)


def nightscout_from_env(view: EnvView) -> NightscoutOutputConfig:
    """The Nightscout output; ConfigError naming the variable when something is missing/bad."""
    hit = first(view, names.NIGHTSCOUT_URL)
    if hit is None:
        peers = ", ".join(a.variable for a in names.NIGHTSCOUT_URL[1:])
        variable = names.NIGHTSCOUT_URL[0].variable
        raise ConfigError(f"{variable}: missing (or set one of {peers})", variable)
    url_found = hit[0]
    insecure_hit = first(view, names.NIGHTSCOUT_INSECURE)
    insecure = insecure_hit is not None and parse_bool(insecure_hit[0])
    try:
        url = parse_base_url(url_found.value, default_scheme="http" if insecure else "https")
    except ValueError as exc:
        raise ConfigError(f"{url_found.variable}: {exc}", url_found.variable) from None
    version = _api_version(view)
    secret = first(view, names.NIGHTSCOUT_API_SECRET)
    token = first(view, names.NIGHTSCOUT_TOKEN)
    llu_token = view.get(names.NIGHTSCOUT_HASHED_TOKEN.variable)
    if version == "v3":
        plain = token[0] if token else llu_token
        if plain is None:
            variable = names.NIGHTSCOUT_TOKEN[0].variable
            raise ConfigError(
                f"{variable}: missing (Nightscout API v3 needs an access token)", variable
            )
        return NightscoutOutputConfig(url=url, token=plain.value, api_version="v3")
    if secret is not None:
        return NightscoutOutputConfig(url=url, api_secret=secret[0].value)
    if token is not None:
        return NightscoutOutputConfig(url=url, token=token[0].value)
    if llu_token is not None:
        if not _SHA1_HEX.match(llu_token.value):
            raise ConfigError(
                f"{llu_token.variable}: expected the SHA-1 hex (40 hex digits) of an access token",
                llu_token.variable,
            )
        return NightscoutOutputConfig(
            url=url, api_secret=llu_token.value.lower(), secret_is_hashed=True
        )
    variable = names.NIGHTSCOUT_API_SECRET[0].variable
    others = ", ".join(
        a.variable for a in (*names.NIGHTSCOUT_API_SECRET, *names.NIGHTSCOUT_TOKEN)[1:]
    )
    raise ConfigError(f"{variable}: missing (or set one of {others})", variable)


def _api_version(view: EnvView) -> str:
    found = view.get(names.NIGHTSCOUT_API_VERSION.variable)
    if found is None:
        return "v3" if llu_v3(view) else "v1"
    version = found.value.lower().removeprefix("v")
    if version not in ("1", "3"):
        raise ConfigError(f"{found.variable}: not v1 or v3: {found.value!r}", found.variable)
    return f"v{version}"
