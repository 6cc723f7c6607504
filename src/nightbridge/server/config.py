"""Server settings, read from cgm-remote-monitor's own variable names or NIGHTBRIDGE_* ones.

| field | variables (first set wins) | default |
| --- | --- | --- |
| api_secret | NIGHTBRIDGE_API_SECRET, API_SECRET | none (refused by ``serve`` unless demo) |
| auth_default_roles | NIGHTBRIDGE_AUTH_DEFAULT_ROLES, AUTH_DEFAULT_ROLES | ``readable`` |
| display_units | NIGHTBRIDGE_DISPLAY_UNITS, DISPLAY_UNITS | ``mg/dl`` |
| bg_high/target_top/target_bottom/low | NIGHTBRIDGE_BG_*, BG_* | 260/180/80/55 (mg/dL) |
| port | NIGHTBRIDGE_PORT, PORT | 1337 |
| host | NIGHTBRIDGE_HOSTNAME, HOSTNAME | ``0.0.0.0`` (all interfaces, as Nightscout) |
| data_dir | NIGHTBRIDGE_DATA_DIR | ``$XDG_DATA_HOME/nightbridge`` |
| database_url | NIGHTBRIDGE_DATABASE_URL | ``sqlite:///<data_dir>/nightbridge.db`` |
| auth_fail_delay_ms | NIGHTBRIDGE_AUTH_FAIL_DELAY, AUTH_FAIL_DELAY | 5000 |
| enable / disable | ENABLE, DISABLE (space separated feature names) | careportal on |
| title | NIGHTBRIDGE_CUSTOM_TITLE, CUSTOM_TITLE | ``Nightscout`` |
| response_cache_ttl_s | NIGHTBRIDGE_RESPONSE_CACHE_TTL | 1 (seconds; 0 disables) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from nightbridge.errors import ConfigError
from nightbridge.server.auth.roles import split_roles
from nightbridge.settings.env import EnvView

#: cgm-remote-monitor's MIN_PASSPHRASE_LENGTH.
MIN_SECRET_LENGTH = 12
DEFAULT_FEATURES = ("careportal",)

_VARIABLES: dict[str, tuple[str, ...]] = {
    "api_secret": ("NIGHTBRIDGE_API_SECRET", "API_SECRET"),
    "auth_default_roles": ("NIGHTBRIDGE_AUTH_DEFAULT_ROLES", "AUTH_DEFAULT_ROLES"),
    "display_units": ("NIGHTBRIDGE_DISPLAY_UNITS", "DISPLAY_UNITS"),
    "bg_high": ("NIGHTBRIDGE_BG_HIGH", "BG_HIGH"),
    "bg_target_top": ("NIGHTBRIDGE_BG_TARGET_TOP", "BG_TARGET_TOP"),
    "bg_target_bottom": ("NIGHTBRIDGE_BG_TARGET_BOTTOM", "BG_TARGET_BOTTOM"),
    "bg_low": ("NIGHTBRIDGE_BG_LOW", "BG_LOW"),
    "port": ("NIGHTBRIDGE_PORT", "PORT"),
    "host": ("NIGHTBRIDGE_HOSTNAME", "HOSTNAME"),
    "data_dir": ("NIGHTBRIDGE_DATA_DIR",),
    "database_url": ("NIGHTBRIDGE_DATABASE_URL",),
    "auth_fail_delay_ms": ("NIGHTBRIDGE_AUTH_FAIL_DELAY", "AUTH_FAIL_DELAY"),
    "enable": ("NIGHTBRIDGE_ENABLE", "ENABLE"),
    "disable": ("NIGHTBRIDGE_DISABLE", "DISABLE"),
    "title": ("NIGHTBRIDGE_CUSTOM_TITLE", "CUSTOM_TITLE"),
    "response_cache_ttl_s": ("NIGHTBRIDGE_RESPONSE_CACHE_TTL",),
}


class ServerConfig(BaseModel):
    """Everything the server needs; build with ``from_env`` or directly in tests."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_secret: SecretStr | None = None
    auth_default_roles: tuple[str, ...] = ("readable",)
    display_units: str = "mg/dl"
    bg_high: float = 260
    bg_target_top: float = 180
    bg_target_bottom: float = 80
    bg_low: float = 55
    port: int = Field(default=1337, ge=0, le=65535)
    host: str = "0.0.0.0"
    data_dir: Path = Path(".")
    database_url: str = ""
    auth_fail_delay_ms: float = Field(default=5000, ge=0)
    enable: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    title: str = "Nightscout"
    demo: bool = False
    #: Seconds a rendered v1 GET answer is reused (0 disables; v1 writes invalidate at once).
    response_cache_ttl_s: float = Field(default=1.0, ge=0, le=60)
    version: str = "15.0.7"

    @property
    def secret(self) -> str | None:
        """The plain API_SECRET (never log it)."""
        return self.api_secret.get_secret_value() if self.api_secret else None

    @property
    def features(self) -> tuple[str, ...]:
        """Enabled features: defaults plus ENABLE minus DISABLE (``settings.enable``)."""
        wanted = dict.fromkeys((*DEFAULT_FEATURES, *self.enable))
        return tuple(f for f in wanted if f not in self.disable)

    @property
    def units(self) -> str:
        """``mg/dl`` or ``mmol`` as Nightscout spells them."""
        return "mmol" if self.display_units.lower().startswith("mmol") else "mg/dl"

    def database(self) -> str:
        """The store URL: ``database_url`` or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.expanduser().resolve() / 'nightbridge.db'}"

    def check_secret(self) -> None:
        """ConfigError (one line, no value) unless API_SECRET is set and long enough."""
        secret = self.secret
        if secret is None:
            raise ConfigError(
                "API_SECRET is not set: set API_SECRET (at least 12 characters) "
                "or run `nightbridge serve --demo` for a read-only demo",
                "API_SECRET",
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"API_SECRET is too short: it needs at least {MIN_SECRET_LENGTH} characters",
                "API_SECRET",
            )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> ServerConfig:
        """Read the variables above from ``environ`` (default: os.environ); overrides win."""
        env = EnvView(os.environ if environ is None else environ)
        values: dict[str, object] = {}
        origin: dict[str, str] = {}
        for field, names in _VARIABLES.items():
            found = env.first(names)
            if found is None:
                continue
            origin[field] = found.variable
            values[field] = found.value
        for field in ("auth_default_roles", "enable", "disable"):
            if isinstance(values.get(field), str):
                values[field] = split_roles(str(values[field]))
        if "data_dir" not in values:
            base = env.get("XDG_DATA_HOME")
            values["data_dir"] = str(
                Path(base.value) / "nightbridge"
                if base
                else Path.home() / ".local" / "share" / "nightbridge"
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "?"
            variable = origin.get(field, field)
            raise ConfigError(f"{variable}: invalid value", variable) from None
