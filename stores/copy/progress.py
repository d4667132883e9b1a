"""Progress of a copy on stderr: seed's progress line, against the total where a store counts
its records in one call (articles), else the count and the rate alone."""

from __future__ import annotations

from typing import TextIO

from seed.progress import Progress


class Unbounded(Progress):
    """A progress line with no total to draw a bar against."""

    def __init__(self, label: str, stream: TextIO) -> None:
        super().__init__(label, 0, stream)

    def _line(self, now: float) -> str:
        elapsed = now - self._started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        return f"{self._label:<9} {self._done:>9,} records  {elapsed:6.1f} s  {rate:>9,.0f}/s"


def progress(label: str, total: int | None, stream: TextIO) -> Progress:
    return Unbounded(label, stream) if total is None else Progress(label, total, stream)
