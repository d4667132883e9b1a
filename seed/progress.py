"""A progress line per phase on stderr, redrawn in place on a terminal; elsewhere (a log, CI)
only the finished line, so a run leaves a few lines, not thousands."""

from __future__ import annotations

import time
from typing import TextIO

WIDTH = 30
# Redraw at most this often, in seconds: a terminal does not need more.
REDRAW_EVERY = 0.1


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO) -> None:
        self._label = label
        self._total = total
        self._stream = stream
        self._live = stream.isatty()
        self._done = 0
        self._started = self._drawn = time.perf_counter()

    def advance(self, count: int) -> None:
        self._done += count
        now = time.perf_counter()
        if self._live and now - self._drawn >= REDRAW_EVERY:
            self._drawn = now
            self._stream.write("\r" + self._line(now))
            self._stream.flush()

    def finish(self) -> None:
        self._stream.write(("\r" if self._live else "") + self._line(time.perf_counter()) + "\n")
        self._stream.flush()

    def _line(self, now: float) -> str:
        share = self._done / self._total if self._total else 1.0
        bar = "#" * round(share * WIDTH)
        elapsed = now - self._started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        return (
            f"{self._label:<9} [{bar:<{WIDTH}}] {self._done:>9,}/{self._total:<9,} "
            f"{share:>4.0%}  {elapsed:6.1f} s  {rate:>9,.0f}/s"
        )
