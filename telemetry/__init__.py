"""Tracing (OpenTelemetry, exported over OTLP) and request metrics (Prometheus at /metrics),
each off unless configured: see docs/observability.md."""
