"""The limiter every rate limit goes through: named rules, each a fixed window per key, and
what is left of a key's budget after each spend."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from enum import Enum

from limits import RateLimitItemPerSecond
from limits.errors import StorageError

from config import RateLimit, RateLimits
from ratelimits.counters import CounterStore, open_counter_store

logger = logging.getLogger("conduit.ratelimits")
# The window of a count given back after its own window ended: the negative count it leaves
# (one point of the next window's budget, at most) is gone within a second.
_GIVEN_BACK_SECONDS = 1


class Rule(Enum):
    """Each value names the RateLimits field that sets the rule's budget."""

    FAILED_LOGINS_PER_ACCOUNT = "failed_logins_per_account"
    FAILED_LOGINS_PER_ADDRESS = "failed_logins_per_address"
    SIGN_UPS_PER_ADDRESS = "sign_ups_per_address"
    WRITES_PER_USER = "writes_per_user"
    REQUESTS_PER_CLIENT = "requests_per_client"


@dataclass(frozen=True)
class Budget:
    """A key's budget under one rule, as it stands after a spend."""

    limit: int
    remaining: int
    reset_at: float  # seconds since the epoch when the window ends
    exceeded: bool

    def seconds_to_reset(self) -> int:
        """Whole seconds until the window ends, at least 1 (what Retry-After says)."""
        return max(1, math.ceil(self.reset_at - time.time()))


class Limiter:
    """Spends points of named budgets. A rule that is off, or a counter store that cannot be
    reached, gives None: the request goes on uncounted (an outage of the limiter must not
    take the API down with it), with a warning in the log."""

    def __init__(self, settings: RateLimits) -> None:
        self._store: CounterStore = open_counter_store(settings.url)
        self._windows = {
            rule: _window(limit, settings.key_prefix)
            for rule in Rule
            if (limit := getattr(settings, rule.value)) is not None
        }

    async def prepare(self, *, create: bool) -> None:
        await self._store.prepare(create=create)

    async def close(self) -> None:
        await self._store.close()

    async def spend(self, rule: Rule, key: str, points: int = 1) -> Budget | None:
        """Take `points` from `key`'s budget under `rule`. Points past the limit are still
        counted (the window does not get longer): `exceeded` is then True, and the caller
        refuses the request."""
        window = self._windows.get(rule)
        if window is None:
            return None
        counter = window.key_for(rule.value, key)
        try:
            # FixedWindowRateLimiter.hit, keeping the count the increment returns: read again
            # afterwards, it would include what concurrent requests spent meanwhile.
            spent = await self._store.storage.incr(counter, window.get_expiry(), amount=points)
            reset_at = await self._store.storage.get_expiry(counter)
        except StorageError as error:
            _warn_uncounted(rule, error)
            return None
        remaining = max(0, window.amount - spent)
        return Budget(window.amount, remaining, reset_at, exceeded=spent > window.amount)

    async def give_back(self, rule: Rule, key: str, points: int = 1) -> None:
        """Undo a spend of `points` that turned out not to count, in the same atomic way."""
        window = self._windows.get(rule)
        if window is None:
            return
        counter = window.key_for(rule.value, key)
        try:
            await self._store.storage.incr(counter, _GIVEN_BACK_SECONDS, amount=-points)
        except StorageError as error:
            _warn_uncounted(rule, error)


def _window(limit: RateLimit, key_prefix: str) -> RateLimitItemPerSecond:
    return RateLimitItemPerSecond(limit.amount, limit.window_seconds, namespace=key_prefix)


def _warn_uncounted(rule: Rule, error: StorageError) -> None:
    logger.warning(
        "rate limit store unavailable, %s not counted: %s",
        rule.value,
        error.storage_error,
    )
