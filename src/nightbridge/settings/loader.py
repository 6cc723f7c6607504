"""Build ``Settings`` from the environment and an optional TOML file, before any network call.

Precedence: a ``NIGHTBRIDGE_*`` variable, then a peer's alias (peer-config.md §7), then the
file's top-level value, then the default. A file's ``[[sources]]``/``[[outputs]]`` lists, when
present, replace what the environment describes. Every problem is one ``ConfigError`` line that
names the variable (or ``<file>: key``) and never contains a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nightbridge.errors import ConfigError
from nightbridge.settings import aliases as names
from nightbridge.settings.env import EnvView, Found, parse_number
from nightbridge.settings.environment import (
    llu_v3,
    outputs_from_env,
    selected_kinds,
    source_from_env,
)
from nightbridge.settings.file import outputs_from_file, read_config_file, sources_from_file
from nightbridge.settings.model import Settings, SourceConfig, config_error_from

CONFIG_VARIABLE = "NIGHTBRIDGE_CONFIG"


def default_data_dir(env: EnvView) -> Path:
    """``$XDG_DATA_HOME/nightbridge``, else ``~/.local/share/nightbridge``, else ``./data``."""
    xdg = env.get("XDG_DATA_HOME")
    if xdg is not None:
        return Path(xdg.value).expanduser() / "nightbridge"
    try:
        return Path.home() / ".local" / "share" / "nightbridge"
    except RuntimeError:
        return Path("data")


def sqlite_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the embedded SQLite database in ``data_dir``."""
    return f"sqlite:///{(data_dir / 'nightbridge.db').absolute()}"


def load_settings(
    env: Mapping[str, str] | None = None, config_path: Path | str | None = None
) -> Settings:
    """Read the settings. ``env`` defaults to ``os.environ``; ``config_path`` to
    ``NIGHTBRIDGE_CONFIG``. Raises ConfigError (one line, naming the variable)."""
    from nightbridge.sources import SOURCES  # the literal registry: no vendor code imported

    view = EnvView(os.environ if env is None else env)
    path = _config_path(view, config_path)
    data: dict[str, Any] = read_config_file(path) if path else {}

    data_dir = _path(view.get(names.DATA_DIR.variable), data.get("data_dir")) or default_data_dir(
        view
    )
    db = view.get(names.DATABASE_URL.variable)
    database_url = db.value if db else str(data.get("database_url") or sqlite_url(data_dir))
    poll = view.get(names.POLL_INTERVAL.variable)
    poll_minutes = parse_number(poll) if poll else data.get("poll_interval_minutes")
    level_hit = view.first(a.variable for a in names.LOG_LEVEL)
    device = view.get(names.DEVICE.variable)
    file_device = data.get("device")

    known = list(SOURCES)
    sources = (
        sources_from_file(data, path, known, device.value if device else file_device)
        if path
        else None
    )
    if sources is None:
        device = device or (Found(f"{path}: device", str(file_device)) if file_device else None)
        v3 = llu_v3(view)
        sources = [
            source_from_env(names.SOURCE_ALIASES[kind], view, device=device, llu_v3=v3)
            if kind in names.SOURCE_ALIASES
            else SourceConfig(kind=kind, account=kind)
            for kind in selected_kinds(view, known)
        ]
    _check_unique(sources)
    outputs = outputs_from_file(data, path, data_dir) if path else None
    if outputs is None:
        outputs = outputs_from_env(view, data_dir)

    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "poll_interval_minutes": poll_minutes,
        "log_level": level_hit.value if level_hit else data.get("log_level"),
        "sources": sources,
        "outputs": outputs,
    }
    try:
        return Settings(**values)
    except ValidationError as exc:
        origin = {"poll_interval_minutes": names.POLL_INTERVAL.variable}
        raise config_error_from(
            exc, lambda key: origin.get(key, f"NIGHTBRIDGE_{key.upper()}")
        ) from None


def _config_path(view: EnvView, given: Path | str | None) -> Path | None:
    if given is not None:
        return Path(given).expanduser()
    found = view.get(CONFIG_VARIABLE)
    return Path(found.value).expanduser() if found else None


def _path(found: Found | None, from_file: Any) -> Path | None:
    if found is not None:
        return Path(found.value).expanduser()
    return Path(str(from_file)).expanduser() if from_file else None


def _check_unique(sources: list[SourceConfig]) -> None:
    seen: set[str] = set()
    for source in sources:
        if source.account in seen:
            variable = source.origin("account")
            raise ConfigError(
                f"{variable}: two sources share the account label {source.account!r}; "
                "give each [[sources]] its own account = ...",
                variable,
            )
        seen.add(source.account)
