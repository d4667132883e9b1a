"""Spans through the public HTTP API, caught by the SDK's in-memory exporter: a request's span,
each GraphQL operation's (its name and cost) and each store call's (domain, backend); and with
tracing off, no SDK at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.testclient import TestClient

from app import create_app
from config import Settings
from telemetry import tracing
from tests.conftest import Api, run_python

FRONT_PAGE = "query Front { articles(first: 5) { totalCount nodes { slug author { username } } } }"


@pytest.fixture
def traced(settings: Settings) -> Iterator[tuple[Api, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        with TestClient(create_app(settings, provider), raise_server_exceptions=False) as http:
            yield Api(http), exporter
    finally:
        tracing.use(None)  # the next app (another test's) is made without tracing


def _store_spans(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.attributes and tracing.DOMAIN in s.attributes]


def _request_span(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    (request,) = [s for s in spans if s.kind is SpanKind.SERVER]
    return request


def test_a_rest_request_has_a_span_and_its_store_calls_theirs(
    traced: tuple[Api, InMemorySpanExporter], backend: str
) -> None:
    api, exporter = traced
    api.register("jake")
    spans = exporter.get_finished_spans()
    request = _request_span(spans)
    assert request.name.startswith("POST")
    assert request.attributes is not None
    assert request.attributes.get("http.response.status_code", 201) == 201
    # (The outbox relay's passes are traces of their own.)
    stores = [s for s in _store_spans(spans) if s.context.trace_id == request.context.trace_id]
    assert stores, [s.name for s in spans]
    assert {s.attributes[tracing.DOMAIN] for s in stores if s.attributes} == {"users"}
    assert {s.attributes[tracing.BACKEND] for s in stores if s.attributes} == {backend}
    kinds = {s.attributes[tracing.DB_OPERATION] for s in stores if s.attributes}
    assert kinds & ({"INSERT"} if backend != "dynamodb" else {"TransactWriteItems", "PutItem"})


def test_a_graphql_operation_has_a_span_with_its_name_and_cost(
    traced: tuple[Api, InMemorySpanExporter], backend: str
) -> None:
    api, exporter = traced
    api.publish(api.register("jake"))
    exporter.clear()
    body = api.graphql(FRONT_PAGE)
    assert "errors" not in body, body
    spans = exporter.get_finished_spans()
    (operation,) = [s for s in spans if s.name == "query Front"]
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.name"] == "Front"
    assert operation.attributes["graphql.operation.type"] == "query"
    cost = body["extensions"]["cost"]
    assert operation.attributes["graphql.cost.points"] == cost["points"]
    assert operation.attributes["graphql.cost.nodes"] == cost["nodes"] == 5
    request = _request_span(spans)
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    stores = _store_spans(spans)
    within = [s for s in stores if s.parent and s.parent.span_id == operation.context.span_id]
    domains = {s.attributes[tracing.DOMAIN] for s in within if s.attributes}
    assert {"articles", "users"} <= domains, [(s.name, s.attributes) for s in stores]
    assert {s.attributes[tracing.BACKEND] for s in stores if s.attributes} == {backend}


def test_tracing_off_loads_no_sdk_and_makes_no_spans(tmp_path: Path) -> None:
    """Without OTEL_EXPORTER_OTLP_ENDPOINT the app has no tracer, a request runs without any
    of OpenTelemetry imported, and the API's global provider is its no-op one."""
    script = f"""
import json, os, sys
from starlette.testclient import TestClient
from app import create_app
from config import Settings
from telemetry import tracing
os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
settings = Settings(database_url="sqlite+aiosqlite:///{tmp_path}/off.db")
with TestClient(create_app(settings, tracing.provider_from_env(os.environ))) as http:
    status = http.get("/api/articles").status_code
loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
print(json.dumps({{"status": status, "tracer": repr(tracing.current()), "loaded": loaded}}))
"""
    result = run_python("-c", script, env={})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"status": 200, "tracer": "None", "loaded": []}


def test_an_otlp_endpoint_turns_the_sdk_on() -> None:
    provider = tracing.provider_from_env({tracing.ENDPOINT_VARIABLE: "http://127.0.0.1:4318"})
    assert isinstance(provider, TracerProvider)
    provider.shutdown()
    assert tracing.provider_from_env({}) is None
