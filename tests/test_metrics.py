"""/metrics: unknown (404) unless CONDUIT_METRICS=on; on, Prometheus's text format with the
requests counted and the errors by status and code."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from app import create_app
from config import ConfigError, Settings
from schema.errors import VALIDATION_FAILED
from tests.conftest import Api


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_off_by_default(api: Api) -> None:
    assert api.http.get("/metrics").status_code == 404


def test_metrics_count_requests_and_errors_by_code(settings: Settings) -> None:
    with TestClient(create_app(replace(settings, metrics=True))) as http:
        assert http.get("/api/articles").status_code == 200
        assert http.get("/api/articles/no-such-article").status_code == 404
        assert http.post("/graphql", json={"query": "{ noSuchField }"}).status_code == 200
        response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    requests = "conduit_http_requests_total"
    assert samples[(requests, (("endpoint", "/api"), ("method", "GET"), ("status", "200")))] == 1
    assert samples[(requests, (("endpoint", "/api"), ("method", "GET"), ("status", "404")))] == 1
    assert samples[("conduit_errors_total", (("code", "-"), ("status", "404")))] == 1
    graphql_error = (("code", VALIDATION_FAILED), ("status", "200"))
    assert samples[("conduit_errors_total", graphql_error)] == 1
    latency = (
        "conduit_http_request_duration_seconds_count",
        (("endpoint", "/api"), ("method", "GET")),
    )
    assert samples[latency] == 2


def test_the_metrics_setting_takes_on_and_off() -> None:
    assert Settings.from_env({"CONDUIT_METRICS": "on"}).metrics
    assert not Settings.from_env({}).metrics
    with pytest.raises(ConfigError, match="CONDUIT_METRICS"):
        Settings.from_env({"CONDUIT_METRICS": "maybe"})
