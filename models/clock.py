"""Time as the domain sees it: UTC, millisecond precision, one text form everywhere."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant in UTC, cut to milliseconds so every backend stores it exactly."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def isoformat_ms(moment: datetime) -> str:
    """`2026-01-01T00:00:00.000Z`, the RealWorld timestamp form."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:
        # strftime writes such a year unpadded (`5-01-01`), isoformat pads it: kept as it was.
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    # A quarter cheaper than strftime, and called for every timestamp of every page.
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"
