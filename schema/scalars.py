"""Scalars: DateTime in the same millisecond UTC form as the REST API."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.clock import isoformat_ms

DATETIME = strawberry.scalar(
    name="DateTime",
    description="An instant in UTC with milliseconds, e.g. 2026-01-01T00:00:00.000Z.",
    serialize=isoformat_ms,
    parse_value=lambda value: datetime.fromisoformat(str(value)),
)
