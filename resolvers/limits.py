"""The rate limits of the use cases: what each spends, and the refusal past a limit."""

from __future__ import annotations

import asyncio
import hashlib

from models.errors import RateLimited
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


async def refuse_spent_logins(ctx: Context, email: str) -> None:
    """RateLimited when the account or the client address has no failed login left: checked
    before the password is, so that a refused attempt costs no password hashing."""
    account, address = await asyncio.gather(
        ctx.limiter.look(Rule.FAILED_LOGINS_PER_ACCOUNT, _account_key(email)),
        ctx.limiter.look(Rule.FAILED_LOGINS_PER_ADDRESS, ctx.client_address),
    )
    spent = [b for b in (account, address) if b is not None and b.exceeded]
    if spent:
        longest = max(spent, key=lambda b: b.reset_at)
        raise RateLimited("failed logins", longest.limit, longest.seconds_to_reset())


async def count_failed_login(ctx: Context, email: str) -> None:
    """Only failures count: the owner who types the right password spends nothing."""
    await asyncio.gather(
        ctx.limiter.spend(Rule.FAILED_LOGINS_PER_ACCOUNT, _account_key(email)),
        ctx.limiter.spend(Rule.FAILED_LOGINS_PER_ADDRESS, ctx.client_address),
    )


def _account_key(email: str) -> str:
    """The account's counter key: a digest, so that no email address sits in the counter store
    (Redis, a DynamoDB table) beside the users' own database."""
    return hashlib.sha256(email.encode()).hexdigest()
