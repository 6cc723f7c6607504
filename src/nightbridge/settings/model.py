"""The settings model: what the loader produces and the CLI, engine and server consume.

``Settings`` is one pydantic-settings model. It is built by ``nightbridge.settings.loader``
(environment, peer aliases with their units converted, optional TOML file), because peer aliases
need unit conversion and every error must name the variable that held the bad value; the model
itself reads nothing from the process environment.

Each source account is a ``SourceConfig``: its ``kind`` (a key of
``nightbridge.sources.SOURCES``), an ``account`` label (unique; part of cursor keys and logs, never
a secret) and ``options``, the plain dict the vendor's own settings model validates
(``sources/<vendor>/settings.py``). Secret options are ``SecretStr``. ``origins`` names, per
option, the variable or file key it came from, for error messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from nightbridge.errors import ConfigError

#: Option keys whose values are secrets wherever they appear.
SECRET_KEYS = frozenset({"password", "api_secret", "token", "secret"})


class OutputKind(StrEnum):
    NIGHTSCOUT = "nightscout"
    STORE = "store"
    FILES = "files"


class SourceConfig(BaseModel):
    """One configured source account. ``poll_interval_minutes`` None: follow the data cadence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    account: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)
    poll_interval_minutes: float | None = Field(default=None, gt=0)
    #: option key -> variable or file key it came from (for errors naming the variable).
    origins: dict[str, str] = Field(default_factory=dict, repr=False)

    @field_validator("options")
    @classmethod
    def _hide_secrets(cls, options: dict[str, Any]) -> dict[str, Any]:
        return {
            key: SecretStr(str(value))
            if key in SECRET_KEYS and value is not None and not isinstance(value, SecretStr)
            else value
            for key, value in options.items()
        }

    def origin(self, key: str) -> str:
        """The variable (or ``file: sources[i].key``) that sets option ``key``."""
        prefix = {"dexcom_share": "DEXCOM", "librelinkup": "LIBRE"}.get(self.kind, self.kind)
        return self.origins.get(key, f"NIGHTBRIDGE_{prefix.upper()}_{key.upper()}")

    def secret_values(self) -> list[str]:
        return [v.get_secret_value() for v in self.options.values() if isinstance(v, SecretStr)]


class NightscoutOutputConfig(BaseModel):
    """Upload to a Nightscout site.

    v1: ``api_secret`` (plain, hashed with SHA-1 on the wire; already the SHA-1 hex when
    ``secret_is_hashed``) or an access ``token``. v3: an access ``token`` (exchanged for a JWT).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[OutputKind.NIGHTSCOUT] = OutputKind.NIGHTSCOUT
    url: str
    api_secret: SecretStr | None = None
    token: SecretStr | None = None
    secret_is_hashed: bool = False
    api_version: Literal["v1", "v3"] = "v1"

    def secret_values(self) -> list[str]:
        return [s.get_secret_value() for s in (self.api_secret, self.token) if s is not None]


class StoreOutputConfig(BaseModel):
    """Write into the embedded store (the database of ``Settings.database_url``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[OutputKind.STORE] = OutputKind.STORE

    def secret_values(self) -> list[str]:
        return []


class FilesOutputConfig(BaseModel):
    """Write JSON lines files, one per collection, into ``directory``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[OutputKind.FILES] = OutputKind.FILES
    directory: Path

    def secret_values(self) -> list[str]:
        return []


OutputConfig = Annotated[
    NightscoutOutputConfig | StoreOutputConfig | FilesOutputConfig, Field(discriminator="kind")
]


class Settings(BaseSettings):
    """Everything one nightbridge process needs. Build it with ``load_settings``.

    ``data_dir``: where the SQLite file and exports live. ``database_url``: SQLAlchemy URL of the
    engine state and embedded store (SQLite file in ``data_dir`` unless set; the server uses the
    same). ``poll_interval_minutes``: default poll period for sources without their own.
    """

    model_config = SettingsConfigDict(env_prefix="NIGHTBRIDGE_", extra="forbid", frozen=True)

    data_dir: Path
    #: May hold a password: kept out of repr (``secret_values`` includes the password).
    database_url: str = Field(repr=False)
    poll_interval_minutes: float | None = Field(default=None, gt=0)
    log_level: str | None = None
    sources: list[SourceConfig] = Field(default_factory=list)
    outputs: list[OutputConfig] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the loader's values: it reads the environment itself (aliases, provenance)."""
        return (init_settings,)

    def secret_values(self) -> list[str]:
        """Every configured secret and its SHA-1 hex (what v1 sends), for log redaction."""
        plain = [s for src in self.sources for s in src.secret_values()]
        plain += [s for out in self.outputs for s in out.secret_values()]
        db_password = urlsplit(self.database_url).password if "://" in self.database_url else None
        plain += [unquote(db_password)] if db_password else []
        hashed = [hashlib.sha1(s.encode()).hexdigest() for s in plain]
        return sorted({s for s in plain + hashed if s})


def config_error_from(exc: ValidationError, origin: Callable[[str], str]) -> ConfigError:
    """One line naming the variable of the first invalid field; never echoes the input value.

    ``origin`` maps a field name (the first element of pydantic's error location) to the
    variable or file key that set it.
    """
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    variable = origin(loc[0]) if loc else exc.title
    message = first["msg"]
    if first["type"] == "missing":
        message = "missing"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return ConfigError(f"{variable}: {message}", variable)
