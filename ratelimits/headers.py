"""The standard answer's headers: RateLimit-Limit, -Remaining and -Reset (seconds until the
window ends, as in the IETF RateLimit header fields draft), and Retry-After when refused."""

from __future__ import annotations

from ratelimits.limiter import Budget


def budget_headers(budget: Budget) -> dict[str, str]:
    return _headers(budget.limit, budget.remaining, budget.seconds_to_reset())


def refusal_headers(limit: int, retry_after: int) -> dict[str, str]:
    return {**_headers(limit, 0, retry_after), "Retry-After": str(retry_after)}


def _headers(limit: int, remaining: int, reset_seconds: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset_seconds),
    }
