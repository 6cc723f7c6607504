"""What a command runs on: the configured sources and outputs, built, opened and closed.

Everything is *built* first (settings errors surface as ``ConfigError`` before any network call),
then the store is opened (local), then the caller opens outputs / checks sources as it needs.
Closing happens in reverse order whatever happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from nightbridge import __version__
from nightbridge.errors import ConfigError
from nightbridge.outputs import build_output
from nightbridge.outputs.base import Output
from nightbridge.settings import Settings, SourceConfig, StoreOutputConfig
from nightbridge.sources import build_source
from nightbridge.sources.base import Source

if TYPE_CHECKING:  # imported lazily at run time: capture needs no database code
    from nightbridge.store import Store

#: Per request: connect/read/write/pool seconds. Vendors answer within seconds when healthy.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
HEADERS = {"User-Agent": f"nightbridge/{__version__}"}


def new_client() -> httpx.AsyncClient:
    """The HTTP client of one account (own cookies and connections) or of the outputs."""
    return httpx.AsyncClient(timeout=TIMEOUT, headers=HEADERS)


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
            client = new_client()
            stack.push_async_callback(client.aclose)
            for out_config in settings.outputs:
                output = build_output(out_config, client=client, store=store)
                stack.push_async_callback(output.aclose)
                outputs.append(output)
        yield Runtime(settings, sources, outputs, store, list(configs))


def _has_store_output(settings: Settings) -> bool:
    return any(isinstance(c, StoreOutputConfig) for c in settings.outputs)
