"""The one wiring point: settings -> stores, bus, tokens, rate limiter -> the Starlette app
with GraphQL at /graphql, the RealWorld REST API at /api, /health and /ready, and at / an index
of them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route, Router, WebSocketRoute

import logs
from auth import passwords
from auth.tokens import TokenService
from config import ConfigError, Settings
from events import EventBus
from events.in_process import InProcessBus
from events.live import LiveBroker, LiveBus, open_broker
from events.relay import Relay
from middleware import (
    REQUEST_ID_HEADER,
    ROUND_TRIPS_HEADER,
    BodyLimit,
    Deadline,
    RequestTracking,
    request_id_of,
)
from ratelimits.limiter import Limiter
from resolvers import cascades
from resolvers.context import Context
from rest import http as rest_http
from rest.responses import JSONResponse
from rest.routes import not_found as rest_not_found
from rest.routes import routes as rest_routes
from schema import build_schema
from schema import view as graphql_view
from schema.graphiql import GraphiQL
from schema.limits import QueryLimits
from schema.operations import read_manifest
from schema.view import GraphQLView
from stores import startup
from stores.dynamodb.urls import is_dynamodb_url
from stores.factory import OpenStores
from stores.protocols import Stores
from telemetry import tracing

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from telemetry.metrics import RequestMetrics

logger = logging.getLogger("conduit")
READY_TIMEOUT_SECONDS = 2.0
# The client address of a request whose server names none: all such requests share a budget.
UNKNOWN_CLIENT = "unknown"
# What / answers a program (a browser is sent to GraphiQL): where everything else is.
INDEX = {
    "name": "Conduit GraphQL",
    "links": {
        "graphql": {
            "href": "/graphql",
            "description": "the GraphQL API (POST a query); GraphiQL when opened in a browser",
        },
        "api": {
            "href": "/api",
            "description": "the RealWorld REST API under /api, e.g. GET /api/articles",
        },
        "health": {"href": "/health", "description": "200 while the process runs"},
        "ready": {"href": "/ready", "description": "200 when every store's database answers"},
    },
}


def create_app(settings: Settings, tracer_provider: TracerProvider | None = None) -> Starlette:
    """`tracer_provider`: where spans go (telemetry/tracing.py); None, tracing is off."""
    # Before the stores are made: their engines listen for statements only while tracing.
    tracing.use(tracer_provider)
    open_stores = OpenStores(settings.domain_urls(), settings.db_pool)
    stores = open_stores.stores
    live = open_broker(settings.live)
    relay = _relay(settings, stores, live)
    tokens = TokenService(settings.jwt_secret, settings.jwt_ttl_seconds)
    limiter = Limiter(settings.rate_limits)

    async def context_of(connection: HTTPConnection, authorization: str | None) -> Context:
        return await Context.for_request(
            stores,
            relay,
            tokens,
            limiter,
            request_id_of(connection.scope),
            # uvicorn's --proxy-headers and Mangum (API Gateway's sourceIp) set the client.
            connection.client.host if connection.client else UNKNOWN_CLIENT,
            authorization,
            live,
        )

    async def context_for(request: Request) -> Context:
        return await context_of(request, request.headers.get("authorization"))

    async def index(request: Request) -> Response:
        """The URL uvicorn prints: a browser (Accept: text/html) goes on to GraphiQL at
        /graphql; anything else gets the JSON index of the endpoints."""
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/graphql", status_code=307)
        return JSONResponse(INDEX)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        domains = stores.by_domain()
        results = await asyncio.gather(
            *(asyncio.wait_for(s.ping(), READY_TIMEOUT_SECONDS) for s in domains.values()),
            return_exceptions=True,
        )
        state = {
            d: "ok" if r is None else "unavailable" for d, r in zip(domains, results, strict=True)
        }
        up = all(s == "ok" for s in state.values())
        return JSONResponse(
            {"status": "ready" if up else "unavailable", "stores": state},
            status_code=200 if up else 503,
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        _announce(settings)
        # A clear error (not a driver's) for a database that cannot be opened, and in
        # production no SQLite file made only to find it unmigrated.
        await startup.check_databases(settings)
        await open_stores.prepare(migrate=not settings.is_production)
        await limiter.prepare(create=not settings.is_production)
        await live.start()
        # What start-up made (modules, the schema, the engines: some 125,000 objects) lives as
        # long as the process: kept out of the garbage collector's full collections, each takes
        # about a millisecond instead of near a hundred, during which no request is served.
        gc.freeze()
        # A pass every third of the lease: an entry left behind waits at most 4/3 of a lease.
        relaying = (
            asyncio.create_task(relay.run(relay.lease.total_seconds() / 3))
            if relay.relays_any
            else None
        )
        yield
        if relaying is not None:
            relaying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relaying
        await live.close()
        await limiter.close()
        await open_stores.close()
        # The SDK's provider sends the spans still waiting in its batch.
        shutdown = getattr(tracer_provider, "shutdown", None)
        if shutdown is not None:
            shutdown()

    passwords.limit_concurrency(settings.password_hash_concurrency)
    limits = QueryLimits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_nodes=settings.graphql_max_nodes,
    )
    trusted_path = settings.graphql_trusted_documents
    schema = build_schema(
        production=settings.is_production,
        limits=limits,
        tracer=tracing.current(),
        trusted=None if trusted_path is None else read_manifest(trusted_path),
    )
    graphiql = GraphiQL("/graphql")
    graphql = GraphQLView(
        schema,
        context_of,
        graphiql,
        subscriptions_per_connection=settings.live.subscriptions_per_connection,
        connections_per_address=settings.live.connections_per_address,
        allowed_origins=settings.cors_origins,
    )
    seconds = settings.request_timeout_seconds
    metrics = _request_metrics() if settings.metrics else None
    return Starlette(
        routes=[
            # Off, /metrics is unknown like any other path (404).
            *([] if metrics is None else [Route("/metrics", metrics.endpoint, methods=["GET"])]),
            Route("/", index, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            Route("/graphql", Deadline(graphql, seconds, lambda: graphql_view.timed_out(seconds))),
            *graphiql.routes(),
            # Subscriptions: a connection lives for as long as its client wants, no deadline.
            WebSocketRoute("/graphql", graphql),
            Mount(
                "/api",
                app=Deadline(
                    Router(routes=rest_routes(context_for), default=rest_not_found(context_for)),
                    seconds,
                    lambda: rest_http.timed_out(seconds),
                ),
            ),
        ],
        middleware=[
            *_request_spans(tracer_provider),
            Middleware(RequestTracking, finished=None if metrics is None else metrics.record),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                expose_headers=[REQUEST_ID_HEADER, ROUND_TRIPS_HEADER],
                max_age=600,
            ),
            Middleware(
                BodyLimit,
                max_bytes=settings.max_body_bytes,
                timeout_seconds=settings.body_timeout_seconds,
            ),
        ],
        lifespan=lifespan,
    )


def _request_spans(provider: TracerProvider | None) -> list[Middleware]:
    """Outermost, so that a request's span includes every other middleware's time."""
    if provider is None:
        return []
    # Imported only when tracing: the instrumentation loads more of OpenTelemetry.
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    # Without spans per ASGI message sent and received: two or more per request, noise.
    return [
        Middleware(
            OpenTelemetryMiddleware, tracer_provider=provider, exclude_spans=["receive", "send"]
        )
    ]


def _request_metrics() -> RequestMetrics:
    # Imported only when on: prometheus_client takes some 60 ms to import (a Lambda's start).
    from telemetry.metrics import RequestMetrics

    return RequestMetrics()


def _relay(settings: Settings, stores: Stores, live: LiveBroker) -> Relay:
    """The relay of every domain's outbox but those on DynamoDB when events go to EventBridge:
    there each table's stream triggers aws_lambda.outbox, which relays them."""
    by_stream = settings.event_bus is not None
    urls = settings.domain_urls()
    outboxes = {
        domain: outbox
        for domain, outbox in stores.outboxes().items()
        if not (by_stream and is_dynamodb_url(urls[domain]))
    }
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    return Relay(outboxes, LiveBus(_event_bus(settings, stores), live), lease)


def _event_bus(settings: Settings, stores: Stores) -> EventBus:
    if settings.event_bus is None:
        return InProcessBus(cascades.handlers(stores))
    # The consumers' handlers run elsewhere: in the SQS-triggered Lambdas (aws_lambda.consumer).
    # Imported here, like each store backend: a process loads boto3 only when it uses AWS.
    from events.eventbridge import EventBridgeBus

    return EventBridgeBus(settings.event_bus.bus_name)


def _announce(settings: Settings) -> None:
    urls = settings.domain_urls()
    for domain, url in urls.items():
        logger.info("%s store: %s", domain, _without_password(url))
    if any(url.startswith("postgresql") for url in urls.values()):
        logger.info(
            "database pool: %d connections (+%d under load) per database in this process",
            settings.db_pool.size,
            settings.db_pool.max_overflow,
        )
    logger.info("rate limit store: %s", _without_password(settings.rate_limits.url))
    bus = settings.event_bus
    logger.info("event bus: %s", "in-process" if bus is None else f"EventBridge {bus.bus_name}")
    live = settings.live
    logger.info(
        "live comments: %s",
        "in-process" if live.url is None else f"{_without_password(live.url)} {live.channel}",
    )
    if settings.uses_development_secret:
        logger.warning(
            "development mode: tokens are signed with the built-in development secret; "
            "set CONDUIT_JWT_SECRET (and CONDUIT_ENV=production) for a real deployment"
        )


def _without_password(url: str) -> str:
    if is_dynamodb_url(url):
        return url  # a table name holds no secret
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _app_from_environment() -> Starlette:
    try:
        settings = Settings.from_env()
        startup.check_urls(settings)  # before logging, which parses the URLs for their secrets
        logs.configure(settings)
        return create_app(settings, tracing.provider_from_env(os.environ))
    except ConfigError as error:
        # A clean message instead of a traceback: this is the operator's mistake, not a bug.
        print(f"conduit: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


app = _app_from_environment()
