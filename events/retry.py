"""Trying a delivery again after a short pause, a bounded number of times."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger("conduit.events")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all, the pause doubling from `first_pause_seconds`: short, because
    the in-process bus retries while the request that published the event waits."""

    attempts: int = 3
    first_pause_seconds: float = 0.05

    async def run(self, attempt: Callable[[], Awaitable[None]], what: str) -> None:
        """Await `attempt()` until it succeeds; past the last try, raise its last error."""
        for number in range(1, self.attempts + 1):
            try:
                await attempt()
                return
            except Exception:
                logger.warning(
                    "%s failed (attempt %d of %d)", what, number, self.attempts, exc_info=True
                )
                if number == self.attempts:
                    raise
            await asyncio.sleep(self.first_pause_seconds * 2 ** (number - 1))
