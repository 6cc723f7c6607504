"""``/metrics``: Prometheus text format, and the middleware counting HTTP requests.

Metrics (all in ``nightbridge.engine.metrics.REGISTRY``):

- ``nightbridge_polls_total{source}``, ``nightbridge_poll_failures_total{source,family}``,
  ``nightbridge_records_written_total{output,collection}``: counted by the engine;
- ``nightbridge_http_requests_total{method,route,status}`` and
  ``nightbridge_http_request_duration_seconds{method,route}`` (histogram): ``route`` is the
  route *template* (``/api/v1/entries/{spec}``), ``<unmatched>`` for 404s outside any route, so
  the label set stays bounded whatever clients ask;
- ``nightbridge_data_lag_seconds``: now minus the newest entry in the store (NaN when empty);
  ``nightbridge_pending_batches``: batches fetched but not yet acknowledged by an output;
  ``nightbridge_store_up``: 1 when the store answered the scrape's queries, else 0;
- ``process_*``: memory, CPU and file descriptors of the process.

Access: ``/metrics`` needs permission ``api:metrics:read``, which the default ``readable`` role
holds (``*:*:read``). So a default server exposes it to anyone who can read the API; with
``AUTH_DEFAULT_ROLES=denied`` the scraper presents a credential like any API client: the
``api-secret`` header, or an access token (``params: {token: [...]}`` in the Prometheus scrape
config; a token of a role with ``api:metrics:read`` is enough).
"""

from __future__ import annotations

import math
import re
import time

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nightbridge.engine.metrics import REGISTRY
from nightbridge.errors import RetriableError
from nightbridge.model import Collection
from nightbridge.server.api_v1.access import allowed, now_ms
from nightbridge.server.deps import get_store

UNMATCHED = "<unmatched>"

HTTP_REQUESTS = Counter(
    "nightbridge_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "nightbridge_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
DATA_LAG = Gauge(
    "nightbridge_data_lag_seconds",
    "Now minus the date of the newest entry in the store (NaN when there is none).",
    registry=REGISTRY,
)
PENDING = Gauge(
    "nightbridge_pending_batches",
    "Batches fetched from a source that an output has not acknowledged yet.",
    registry=REGISTRY,
)
STORE_UP = Gauge(
    "nightbridge_store_up",
    "1 when the store answered the last scrape's queries, else 0.",
    registry=REGISTRY,
)

router = APIRouter(tags=["operations"])


def route_template(scope: Scope) -> str:
    """The path template of the route that handled ``scope`` (``<unmatched>`` if none).

    The router leaves the matched route in ``scope["route"]``; routes of an included router
    may carry only their own part (``/entries/{spec}``), so the literal prefix it was included
    under (``/api/v1``) is taken from the request path: the shortest one whose remainder the
    route matches.
    """
    route = scope.get("route")
    path = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(route, BaseRoute) or not isinstance(path, str):
        return UNMATCHED
    actual = str(scope.get("path", ""))
    if isinstance(regex, re.Pattern):
        for cut, char in enumerate(actual):
            if char == "/" and regex.match(actual[cut:]):
                return actual[:cut] + path
    return path


class RequestMetrics:
    """ASGI middleware: count each HTTP request and time it, by its route template.

    Add it *inside* any middleware that copies the scope (``ExtensionToAccept``), so that it
    sees the route the router stored in the scope.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", "GET"))
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)


async def _refresh_gauges(request: Request) -> None:
    """Set the store gauges from the app's store (``nightbridge_store_up`` 0 when it fails)."""
    store = get_store(request)
    try:
        newest = await store.newest_date(Collection.ENTRIES.value)
        pending = await store.count_pending()
    except RetriableError:
        STORE_UP.set(0)
        return
    STORE_UP.set(1)
    DATA_LAG.set(math.nan if newest is None else max(0, now_ms(request) - newest) / 1000)
    PENDING.set(pending)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The process's metrics in Prometheus text format (needs ``api:metrics:read``)."""
    await allowed(request, "api:metrics:read")
    await _refresh_gauges(request)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
