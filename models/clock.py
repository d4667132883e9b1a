"""Time as the domain sees it: UTC, millisecond precision, one text form everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant in UTC, cut to milliseconds so every backend stores it exactly."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def isoformat_ms(moment: datetime) -> str:
    """`2026-01-01T00:00:00.000Z`, the RealWorld timestamp form."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
