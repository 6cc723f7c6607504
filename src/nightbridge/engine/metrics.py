"""The engine's Prometheus metrics: polls, failures and records written.

One ``CollectorRegistry`` (``REGISTRY``) holds every nightbridge metric of the process; the
server adds its HTTP and store metrics to it (``nightbridge.server.metrics``) and serves it at
``/metrics``. Nothing here imports server code, so the engine and the CLI can count without a
server. Label values are bounded: source kinds, error families, output labels, collections —
never account names.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, ProcessCollector, disable_created_metrics

# ``*_created`` timestamps per label set double the output and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)

POLLS = Counter(
    "nightbridge_polls",
    "Polls of a source (one sync of one account), whatever their outcome.",
    ["source"],
    registry=REGISTRY,
)
POLL_FAILURES = Counter(
    "nightbridge_poll_failures",
    "Polls that failed, by source and error family (auth, terms, rate_limited, server, ...).",
    ["source", "family"],
    registry=REGISTRY,
)
RECORDS_WRITTEN = Counter(
    "nightbridge_records_written",
    "Documents an output acknowledged as new, by output label and collection.",
    ["output", "collection"],
    registry=REGISTRY,
)


def count_poll(source: str, family: str | None = None) -> None:
    """Count one poll of ``source``; ``family`` names the error when it failed."""
    POLLS.labels(source=source).inc()
    if family is not None:
        POLL_FAILURES.labels(source=source, family=family).inc()


def count_written(output: str, collection: str, created: int) -> None:
    """Count ``created`` new documents acknowledged by ``output`` for ``collection``."""
    if created > 0:
        RECORDS_WRITTEN.labels(output=output, collection=collection).inc(created)
