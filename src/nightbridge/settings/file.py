"""The optional TOML file: scalars at the top, one ``[[sources]]`` table per account and one
``[[outputs]]`` table per destination.

    data_dir = "/var/lib/nightbridge"
    poll_interval_minutes = 5

    [[sources]]
    kind = "dexcom_share"        # a key of nightbridge.sources.SOURCES (or a peer's name for it)
    account = "mum"              # optional label; default: the user name, else the kind
    username = "mum@example.org" # every other key is a vendor option
    password = "..."
    server = "ous"

    [[outputs]]
    kind = "nightscout"          # nightscout | store | files
    url = "https://ns.example.org"
    api_secret = "..."

Errors name the key as ``<file>: sources[0].server``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nightbridge.errors import ConfigError
from nightbridge.settings.aliases import SOURCE_KIND_NAMES
from nightbridge.settings.model import (
    FilesOutputConfig,
    NightscoutOutputConfig,
    OutputConfig,
    OutputKind,
    SourceConfig,
    StoreOutputConfig,
    config_error_from,
)
from nightbridge.settings.servers import parse_base_url

#: Top-level keys the file may hold besides the two lists.
SCALARS = ("data_dir", "database_url", "poll_interval_minutes", "log_level", "device")


def read_config_file(path: Path) -> dict[str, Any]:
    """The parsed file; ConfigError naming the file (unreadable, invalid TOML, unknown key)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", str(path)) from None
    for key in data:
        if key not in (*SCALARS, "sources", "outputs"):
            raise ConfigError(f"{path}: unknown setting {key!r}", f"{path}: {key}")
    return data


def _keyed(where: str) -> Callable[[str], str]:
    """Field name -> ``<file>: sources[i].<field>`` for error messages."""
    return lambda key: f"{where}.{key}"


def _tables(data: dict[str, Any], name: str, path: Path) -> list[dict[str, Any]]:
    items = data.get(name, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{path}: {name} must be [[{name}]] tables", f"{path}: {name}")
    return items


def sources_from_file(
    data: dict[str, Any], path: Path, known: list[str], device: str | None
) -> list[SourceConfig] | None:
    """The ``[[sources]]`` accounts, or None when the file has no such list."""
    if "sources" not in data:
        return None
    built = []
    for index, table in enumerate(_tables(data, "sources", path)):
        where = f"{path}: sources[{index}]"
        options = dict(table)
        raw_kind = str(options.pop("kind", "")).strip().lower()
        kind = SOURCE_KIND_NAMES.get(raw_kind, raw_kind)
        if kind not in known:
            problem = "missing" if not raw_kind else f"unknown source {raw_kind!r}"
            raise ConfigError(
                f"{where}.kind: {problem} (known: {', '.join(known)})", f"{where}.kind"
            )
        account = options.pop("account", None) or options.get("username") or kind
        interval = options.pop("poll_interval_minutes", None)
        if device is not None:
            options.setdefault("device", device)
        origins = {key: f"{where}.{key}" for key in (*options, "account", "poll_interval_minutes")}
        try:
            built.append(
                SourceConfig(
                    kind=kind,
                    account=str(account),
                    options=options,
                    poll_interval_minutes=interval,
                    origins=origins,
                )
            )
        except ValidationError as exc:
            raise config_error_from(exc, _keyed(where)) from None
    return built


def outputs_from_file(
    data: dict[str, Any], path: Path, data_dir: Path
) -> list[OutputConfig] | None:
    """The ``[[outputs]]`` destinations, or None when the file has no such list."""
    if "outputs" not in data:
        return None
    built: list[OutputConfig] = []
    for index, table in enumerate(_tables(data, "outputs", path)):
        where = f"{path}: outputs[{index}]"
        fields = dict(table)
        try:
            built.append(_output(fields, where, data_dir))
        except ValidationError as exc:
            raise config_error_from(exc, _keyed(where)) from None
    return built


def _output(fields: dict[str, Any], where: str, data_dir: Path) -> OutputConfig:
    kind = str(fields.get("kind", "")).strip().lower()
    if kind == OutputKind.NIGHTSCOUT:
        insecure = bool(fields.pop("insecure_http", False))
        if "url" in fields:
            try:
                scheme = "http" if insecure else "https"
                fields["url"] = parse_base_url(str(fields["url"]), default_scheme=scheme)
            except ValueError as exc:
                raise ConfigError(f"{where}.url: {exc}", f"{where}.url") from None
        config = NightscoutOutputConfig.model_validate(fields)
        if config.api_version == "v3" and config.token is None:
            raise ConfigError(f"{where}.token: missing (Nightscout API v3 needs an access token)")
        if config.api_secret is None and config.token is None:
            raise ConfigError(f"{where}.api_secret: missing (or set token)", f"{where}.api_secret")
        return config
    if kind == OutputKind.STORE:
        return StoreOutputConfig.model_validate(fields)
    if kind == OutputKind.FILES:
        fields.setdefault("directory", data_dir / "files")
        return FilesOutputConfig.model_validate(fields)
    choices = ", ".join(k.value for k in OutputKind)
    problem = "missing" if not kind else f"unknown output {kind!r}"
    raise ConfigError(f"{where}.kind: {problem} (known: {choices})", f"{where}.kind")
