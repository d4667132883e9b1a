"""Profiles (a user as others see them) and follows."""

from __future__ import annotations

from dataclasses import dataclass

from events import Followed, Unfollowed
from models.errors import Invalid, NotFound
from models.users import User, is_plausible_username
from resolvers import limits
from resolvers.context import Context
from resolvers.users import current_user


@dataclass(frozen=True)
class Profile:
    user: User
    following: bool


async def find_user(ctx: Context, username: str) -> User:
    user = await ctx.stores.users.by_username(username) if is_plausible_username(username) else None
    if user is None:
        raise NotFound("profile")
    return user


async def profile(ctx: Context, username: str) -> Profile:
    ctx.viewer_id()
    user = await find_user(ctx, username)
    return Profile(user, await ctx.loaders.followed_by_viewer.load(user.id))


async def follow(ctx: Context, username: str) -> Profile:
    viewer = await current_user(ctx)
    await limits.charge_write(ctx, viewer.id)
    user = await find_user(ctx, username)
    if user.id == viewer.id:
        raise Invalid({"username": ["cannot follow yourself"]})
    followed = Followed(viewer.id, user.id)
    await ctx.stores.users.follow(viewer.id, user.id, events=[followed])
    await ctx.relay.deliver([followed])
    return Profile(user, following=True)


async def unfollow(ctx: Context, username: str) -> Profile:
    viewer = await current_user(ctx)
    await limits.charge_write(ctx, viewer.id)
    user = await find_user(ctx, username)
    unfollowed = Unfollowed(viewer.id, user.id)
    await ctx.stores.users.unfollow(viewer.id, user.id, events=[unfollowed])
    await ctx.relay.deliver([unfollowed])
    return Profile(user, following=False)
