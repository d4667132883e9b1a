"""The rate limits of the use cases: what each spends, and the refusal past a limit."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from models.errors import RateLimited, Unauthenticated
from ratelimits.limiter import Budget, Rule
from resolvers.context import Context


async def spend(ctx: Context, rule: Rule, key: str, what: str, points: int = 1) -> Budget | None:
    """Spend `points` of `key`'s budget under `rule`; RateLimited (naming `what` was too
    many) once it is spent. None when the rule is off or the limiter cannot count."""
    budget = await ctx.limiter.spend(rule, key, points)
    if budget is not None and budget.exceeded:
        raise RateLimited(what, budget.limit, budget.seconds_to_reset())
    return budget


async def charge_request(ctx: Context, points: int = 1) -> Budget | None:
    """The request budget of whoever sends this request (see Context.client_key)."""
    return await spend(ctx, Rule.REQUESTS_PER_CLIENT, ctx.client_key(), "requests", points)


async def charge_write(ctx: Context, user_id: int) -> None:
    """One write (an article, comment, like, follow or settings change) by `user_id`."""
    await spend(ctx, Rule.WRITES_PER_USER, str(user_id), "writes")


async def charge_sign_up(ctx: Context) -> None:
    await spend(ctx, Rule.SIGN_UPS_PER_ADDRESS, ctx.client_address, "sign-ups")


@asynccontextmanager
async def login_attempt(ctx: Context, email: str) -> AsyncIterator[None]:
    """One login of `email`, counted as failed before its password is checked: each count is
    one atomic increment on every counter store, so concurrent attempts cannot all pass a
    check before any of them counts. RateLimited, before any password hashing, once the
    account or the client address has no failed login left. Only failures count: an attempt
    that ends otherwise than Unauthenticated (the right password, an unreachable store) gives
    its points back, so the owner who types the right password spends nothing."""
    spends = [
        (Rule.FAILED_LOGINS_PER_ACCOUNT, _account_key(email)),
        (Rule.FAILED_LOGINS_PER_ADDRESS, ctx.client_address),
    ]
    budgets = await asyncio.gather(*(ctx.limiter.spend(rule, key) for rule, key in spends))
    counted = [
        spend
        for spend, budget in zip(spends, budgets, strict=True)
        if budget is not None and not budget.exceeded
    ]
    spent = [b for b in budgets if b is not None and b.exceeded]
    if spent:
        await _give_back(ctx, counted)  # a refused attempt costs the other budget nothing
        longest = max(spent, key=lambda b: b.reset_at)
        raise RateLimited("failed logins", longest.limit, longest.seconds_to_reset())
    try:
        yield
    except Unauthenticated:
        raise  # a failed login: it stays counted
    except Exception:
        await _give_back(ctx, counted)
        raise
    await _give_back(ctx, counted)


async def _give_back(ctx: Context, spends: list[tuple[Rule, str]]) -> None:
    await asyncio.gather(*(ctx.limiter.give_back(rule, key) for rule, key in spends))


def _account_key(email: str) -> str:
    """The account's counter key: a digest, so that no email address sits in the counter store
    (Redis, a DynamoDB table) beside the users' own database."""
    return hashlib.sha256(email.encode()).hexdigest()
