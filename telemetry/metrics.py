"""Request metrics for Prometheus, served at /metrics when CONDUIT_METRICS=on: requests by
method, endpoint and status, their latency, and errors by status and code. Each app has a
registry of its own, so each uvicorn worker counts its own requests (docs/observability.md)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from telemetry.codes import noted_error_codes

# Where a request went, as a label: the first segment of its path among these, else "other"
# (a label per path would grow without bound: slugs, usernames, scanners' guesses).
ENDPOINTS = frozenset({"graphql", "api", "health", "ready", "metrics"})
# The label of an error answered without a code (a REST error, a 404, a 500).
NO_CODE = "-"


class RequestMetrics:
    """`record` is called once per HTTP request, by middleware.RequestTracking."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "conduit_http_requests",
            "HTTP requests answered",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "conduit_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response",
            ["method", "endpoint"],
            registry=self.registry,
        )
        self.errors = Counter(
            "conduit_errors",
            "Errors answered: every status of 400 or more, and each coded GraphQL error",
            ["status", "code"],
            registry=self.registry,
        )

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"]
        first = scope["path"].lstrip("/").split("/", 1)[0]
        endpoint = "/" + first if first in ENDPOINTS or not first else "other"
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint).observe(seconds)
        codes = noted_error_codes(scope) or ([NO_CODE] if status >= 400 else [])
        for code in codes:
            self.errors.labels(str(status), code).inc()
