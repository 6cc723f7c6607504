"""The literal source registry: kind → where its source class and settings model live.

Nothing vendor-specific is imported until a source of that kind is built, so ``nightbridge
--help`` and settings loading stay fast and one broken vendor cannot break the others.

Contract every vendor source class meets (what ``build_source`` calls)::

    SettingsModel.model_validate(config.options)          # pydantic, extra="forbid"
    SourceClass.from_settings(settings, *, client=httpx.AsyncClient, **test_overrides)

``client`` is passed only when ``from_settings`` has a ``client`` parameter; every other
parameter (clocks, cadence) must have a production default. A settings validation error becomes
one ``ConfigError`` line naming the variable that set the bad option.
"""

from __future__ import annotations

import importlib
import inspect
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from nightbridge.errors import ConfigError
from nightbridge.settings.model import SourceConfig, config_error_from
from nightbridge.sources.base import Source

if TYPE_CHECKING:  # only for annotations: a simulator-only run needs no HTTP code
    import httpx

#: kind → ("module:SourceClass", "module:SettingsModel").
SOURCES: dict[str, tuple[str, str]] = {
    "simulator": (
        "nightbridge.sources.simulator.source:SimulatorSource",
        "nightbridge.sources.simulator.settings:SimulatorSettings",
    ),
    "dexcom_share": (
        "nightbridge.sources.dexcom_share.source:DexcomShareSource",
        "nightbridge.sources.dexcom_share.settings:DexcomSettings",
    ),
    "librelinkup": (
        "nightbridge.sources.librelinkup.source:LibreLinkUpSource",
        "nightbridge.sources.librelinkup.settings:LibreSettings",
    ),
}


def load_object(path: str) -> Any:
    """The object at ``"package.module:Name"``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def source_settings(config: SourceConfig) -> BaseModel:
    """The vendor's settings model for ``config`` (ConfigError naming the variable)."""
    if config.kind not in SOURCES:
        raise ConfigError(f"unknown source kind {config.kind!r} (known: {', '.join(SOURCES)})")
    model: type[BaseModel] = load_object(SOURCES[config.kind][1])
    options = dict(config.options)
    if "account" in model.model_fields:
        options.setdefault("account", config.account)
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        raise config_error_from(exc, config.origin) from None


def build_source(config: SourceConfig, *, client: httpx.AsyncClient, **overrides: Any) -> Source:
    """Build the source of ``config``; raises ConfigError before any network call.

    The source's ``account`` is the configured label; ``poll_interval_minutes``, when set,
    replaces the source's ``cadence`` (the peers' fixed poll intervals).
    """
    settings = source_settings(config)
    cls = load_object(SOURCES[config.kind][0])
    factory = cls.from_settings
    kwargs = dict(overrides)
    if "client" in inspect.signature(factory).parameters:
        kwargs["client"] = client
    source: Source = factory(settings, **kwargs)
    source.account = config.account
    if config.poll_interval_minutes is not None:
        source.cadence = timedelta(minutes=config.poll_interval_minutes)
    return source
