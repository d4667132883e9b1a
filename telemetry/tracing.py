"""The process's tracer: an OpenTelemetry SDK provider exporting over OTLP/HTTP when the
standard OTEL_EXPORTER_OTLP_ENDPOINT is set, and none otherwise. Off, the SDK is never
imported (nor is any of OpenTelemetry) and every span site costs one check of `current()`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME = "conduit"
# Span attributes a store call carries (the db.* ones are OpenTelemetry's conventions).
DB_SYSTEM = "db.system.name"
DB_OPERATION = "db.operation.name"
DOMAIN = "conduit.domain"
BACKEND = "conduit.backend"
# The OpenTelemetry name of each backend's database system.
_SYSTEMS = {"sqlite": "sqlite", "postgresql": "postgresql", "dynamodb": "aws.dynamodb"}

# Set by app.create_app; a module variable so that the store backends reach it without it
# being passed through every constructor.
_tracer: Tracer | None = None
_provider: TracerProvider | None = None


def provider_from_env(env: Mapping[str, str]) -> TracerProvider | None:
    """An SDK provider sending batches of spans to the OTLP/HTTP endpoint, or None (off)."""
    if not env.get(ENDPOINT_VARIABLE):
        return None
    # Imported here: a process with tracing off never loads the SDK nor the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = SdkTracerProvider(resource=resource)
    # The exporter reads the endpoint, headers and timeout from the OTEL_* variables itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def use(provider: TracerProvider | None) -> None:
    global _tracer, _provider
    _provider = provider
    _tracer = None if provider is None else provider.get_tracer(SERVICE_NAME)


def flush() -> None:
    """Send the spans still batched: Lambda freezes a container between events, and the
    batch's thread with it, so the API handler flushes after each one."""
    force_flush = getattr(_provider, "force_flush", None)
    if force_flush is not None:
        force_flush()


def current() -> Tracer | None:
    """The tracer spans are made with, or None while tracing is off."""
    return _tracer


def store_attributes(kind: str, domain: str, backend: str) -> dict[str, str]:
    return {
        DB_SYSTEM: _SYSTEMS.get(backend, backend),
        DB_OPERATION: kind,
        DOMAIN: domain,
        BACKEND: backend,
    }


@contextmanager
def store_call(tracer: Tracer, kind: str, domain: str, backend: str) -> Iterator[Span]:
    """A span around one round trip to a store: `kind` is the SQL statement's verb or the
    DynamoDB operation. (Callers check `current()` first: off, not even this runs.)"""
    from opentelemetry.trace import SpanKind

    attributes = store_attributes(kind, domain, backend)
    with tracer.start_as_current_span(
        f"{backend} {kind}", kind=SpanKind.CLIENT, attributes=attributes
    ) as span:
        yield span


def note_cost(points: int, nodes: int) -> None:
    """The cost of the GraphQL operation whose span is current (schema/limits.py)."""
    if _tracer is not None:
        from opentelemetry import trace

        trace.get_current_span().set_attributes(
            {"graphql.cost.points": points, "graphql.cost.nodes": nodes}
        )
