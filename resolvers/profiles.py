"""Profiles (a user as others see them) and follows."""

from __future__ import annotations

from dataclasses import dataclass

from events import Followed, Unfollowed
from models.articles import Article
from models.errors import Invalid, NotFound
from models.pages import Position, Window, in_window
from models.users import FollowCounts, User, is_plausible_username
from resolvers import limits
from resolvers.context import Context
from resolvers.users import current_user


@dataclass(frozen=True)
class Profile:
    user: User
    following: bool


@dataclass(frozen=True)
class ArticlesOf:
    """A page of one of a profile's lists of articles."""

    articles: list[Article]
    has_next_page: bool


def own(user: User) -> Profile:
    """The signed-in user's own profile: no one follows themselves."""
    return Profile(user, following=False)


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


async def articles_by(ctx: Context, user_id: int, window: Window) -> ArticlesOf:
    """The user's articles, newest first; loaded with every other profile's of the request."""
    found, more = window.cut(await ctx.loaders.authored_pages.load((user_id, window.probe())))
    return ArticlesOf(found, more)


async def article_count(ctx: Context, user_id: int) -> int:
    return await ctx.loaders.authored_counts.load(user_id)


async def liked_articles(ctx: Context, user_id: int, window: Window) -> ArticlesOf:
    """The articles the user likes, newest first, as the `likedBy` filter lists them: the
    likes domain knows which, the articles domain their order."""
    chosen, more = window.cut(in_window(await _liked_positions(ctx, user_id), window.probe()))
    found = await ctx.loaders.article_by_id.load_many([p.id for p in chosen])
    # An article deleted between the two reads is left out, not shown as a hole.
    return ArticlesOf([a for a in found if a is not None], more)


async def liked_count(ctx: Context, user_id: int) -> int:
    return len(await _liked_positions(ctx, user_id))


async def follow_counts(ctx: Context, user_id: int) -> FollowCounts:
    return await ctx.loaders.follow_counts.load(user_id)


async def _liked_positions(ctx: Context, user_id: int) -> list[Position]:
    """Where the articles the user likes sit; a like of an article since deleted (its likes
    are removed by an event, later) counts for nothing."""
    liked = await ctx.loaders.liked_ids.load(user_id)
    positions = await ctx.loaders.article_positions.load_many(liked)
    return [p for p in positions if p is not None]
