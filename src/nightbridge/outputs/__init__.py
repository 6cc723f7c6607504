"""The literal output registry: kind → output class, and ``build_output`` from its settings.

Output classes are imported only when built. Constructors (what ``build_output`` calls):

- ``NightscoutV1Output(base_url, api_secret=SecretStr|None, token=SecretStr|None,
  client=httpx.AsyncClient, secret_is_hashed=bool)``
- ``NightscoutV3Output(base_url, token=SecretStr, client=httpx.AsyncClient)``
- ``StoreOutput(store)`` — the engine's own ``nightbridge.store.Store`` (same database)
- ``FilesOutput(directory)``
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nightbridge.errors import ConfigError
from nightbridge.outputs.base import Output
from nightbridge.settings.model import (
    FilesOutputConfig,
    NightscoutOutputConfig,
    OutputConfig,
    StoreOutputConfig,
)
from nightbridge.sources import load_object

if TYPE_CHECKING:  # only for annotations: a store-only run needs no HTTP code
    import httpx

#: kind → "module:OutputClass".
OUTPUTS: dict[str, str] = {
    "nightscout_v1": "nightbridge.outputs.nightscout_v1:NightscoutV1Output",
    "nightscout_v3": "nightbridge.outputs.nightscout_v3:NightscoutV3Output",
    "store": "nightbridge.outputs.store:StoreOutput",
    "files": "nightbridge.outputs.files:FilesOutput",
}


def output_kind(config: OutputConfig) -> str:
    """The registry key of ``config`` (Nightscout splits by API version)."""
    if isinstance(config, NightscoutOutputConfig):
        return f"nightscout_{config.api_version}"
    return config.kind.value


def build_output(
    config: OutputConfig, *, client: httpx.AsyncClient, store: Any | None = None
) -> Output:
    """Build (not open) the output of ``config``. ``store`` is needed by the store output.

    ``client`` is used by the Nightscout outputs; the caller owns and closes it.
    """
    cls = load_object(OUTPUTS[output_kind(config)])
    output: Output
    if isinstance(config, NightscoutOutputConfig):
        if config.api_version == "v3":
            output = cls(config.url, token=config.token, client=client)
        else:
            output = cls(
                config.url,
                api_secret=config.api_secret,
                token=config.token,
                client=client,
                secret_is_hashed=config.secret_is_hashed,
            )
    elif isinstance(config, StoreOutputConfig):
        if store is None:
            raise ConfigError(
                "the store output needs the engine's store (NIGHTBRIDGE_DATABASE_URL)"
            )
        output = cls(store)
    elif isinstance(config, FilesOutputConfig):
        output = cls(config.directory)
    else:  # pragma: no cover - the union is closed
        raise ConfigError(f"unknown output {config!r}")
    return output
