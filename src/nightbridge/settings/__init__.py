"""Settings: one model from environment variables (ours and the peers' aliases) and an optional
TOML file. ``load_settings()`` is the entry point; errors are ``ConfigError`` naming the variable.
"""

from nightbridge.settings.loader import load_settings, sqlite_url
from nightbridge.settings.model import (
    FilesOutputConfig,
    NightscoutOutputConfig,
    OutputConfig,
    OutputKind,
    Settings,
    SourceConfig,
    StoreOutputConfig,
    config_error_from,
)
from nightbridge.settings.servers import parse_base_url, resolve_server

__all__ = [
    "FilesOutputConfig",
    "NightscoutOutputConfig",
    "OutputConfig",
    "OutputKind",
    "Settings",
    "SourceConfig",
    "StoreOutputConfig",
    "config_error_from",
    "load_settings",
    "parse_base_url",
    "resolve_server",
    "sqlite_url",
]
