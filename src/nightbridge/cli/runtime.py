"""What a command runs on: the configured sources and outputs, built, opened and closed.

Everything is *built* first (settings errors surface as ``ConfigError`` before any network call),
then the store is opened (local), then the caller opens outputs / checks sources as it needs.
Closing happens in reverse order whatever happened.

An HTTP client is created only for a source or output that takes one (the simulator and the
store and files outputs do not), and httpx is imported only then: an idle simulator-to-store
``forever`` keeps about 20 MB less resident.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from nightbridge import __version__
from nightbridge.errors import ConfigError
from nightbridge.outputs import build_output
from nightbridge.outputs.base import Output
from nightbridge.settings import (
    NightscoutOutputConfig,
    OutputConfig,
    Settings,
    SourceConfig,
    StoreOutputConfig,
)
from nightbridge.sources import SOURCES, build_source, load_object
from nightbridge.sources.base import Source

if TYPE_CHECKING:  # imported lazily at run time: capture needs no database code
    import httpx

    from nightbridge.store import Store

#: Per request: connect/read/write/pool seconds. Vendors answer within seconds when healthy.
TIMEOUT_S, CONNECT_TIMEOUT_S = 30.0, 10.0
HEADERS = {"User-Agent": f"nightbridge/{__version__}"}
#: Passed as ``client`` to a source or output that takes none (build_source and build_output
#: use the client only for the kinds that do).
NO_CLIENT = cast("httpx.AsyncClient", None)


def new_client() -> httpx.AsyncClient:
    """The HTTP client of one account (own cookies and connections) or of the outputs."""
    import httpx

    timeout = httpx.Timeout(TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    return httpx.AsyncClient(timeout=timeout, headers=HEADERS)


def source_takes_client(config: SourceConfig) -> bool:
    """True when the source of ``config`` talks HTTP (its ``from_settings`` has ``client``).

    An unknown kind is False here: ``build_source`` reports it as a ConfigError.
    """
    if config.kind not in SOURCES:
        return False
    factory = load_object(SOURCES[config.kind][0]).from_settings
    return "client" in inspect.signature(factory).parameters


def output_takes_client(config: OutputConfig) -> bool:
    """True for the outputs that talk HTTP (the Nightscout ones)."""
    return isinstance(config, NightscoutOutputConfig)


def require_sources(settings: Settings) -> list[SourceConfig]:
    """The configured sources; ConfigError naming ``NIGHTBRIDGE_SOURCES`` when there are none."""
    if not settings.sources:
        raise ConfigError(
            "NIGHTBRIDGE_SOURCES: no source configured (e.g. NIGHTBRIDGE_SOURCES=simulator, "
            "or a Dexcom/LibreLinkUp user name, or [[sources]] in the config file)",
            "NIGHTBRIDGE_SOURCES",
        )
    return settings.sources


@dataclass(slots=True)
class Runtime:
    settings: Settings
    sources: list[Source]
    outputs: list[Output]
    store: Store | None = None
    configs: list[SourceConfig] = field(default_factory=list)

    @property
    def state(self) -> Store:
        """The engine state (the store); only when the runtime was opened with a store."""
        if self.store is None:
            raise RuntimeError("runtime opened without a store")
        return self.store


@asynccontextmanager
async def runtime(
    settings: Settings, *, with_outputs: bool = True, with_store: bool | None = None
) -> AsyncIterator[Runtime]:
    """Build sources (and outputs, and the store) for ``settings``; close all on exit.

    ``with_store`` defaults to ``with_outputs`` (the engine state lives in the store).
    Outputs are built, not opened.
    """
    configs = require_sources(settings)
    with_store = with_outputs if with_store is None else with_store
    async with AsyncExitStack() as stack:
        sources: list[Source] = []
        for config in configs:
            client = NO_CLIENT
            if source_takes_client(config):
                client = new_client()
                stack.push_async_callback(client.aclose)
            source = build_source(config, client=client)
            stack.push_async_callback(source.aclose)
            sources.append(source)
        store: Store | None = None
        if with_store or (with_outputs and _has_store_output(settings)):
            from nightbridge.store import Store

            store = await Store.open(settings.database_url)
            stack.push_async_callback(store.close)
        outputs: list[Output] = []
        if with_outputs:
            client = NO_CLIENT
            if any(output_takes_client(c) for c in settings.outputs):
                client = new_client()
                stack.push_async_callback(client.aclose)
            for out_config in settings.outputs:
                output = build_output(out_config, client=client, store=store)
                stack.push_async_callback(output.aclose)
                outputs.append(output)
        yield Runtime(settings, sources, outputs, store, list(configs))


def _has_store_output(settings: Settings) -> bool:
    return any(isinstance(c, StoreOutputConfig) for c in settings.outputs)
