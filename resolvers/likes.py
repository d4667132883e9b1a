"""Likes ("favorites"): liking, unliking, and the like stats of an article."""

from __future__ import annotations

from events import Liked, Unliked
from models.articles import Article
from models.errors import NotFound
from resolvers import articles, limits
from resolvers.context import Context
from resolvers.users import current_user
from stores.errors import ArticleForgotten


async def like(ctx: Context, slug: str) -> Article:
    return await _set_like(ctx, slug, liked=True)


async def unlike(ctx: Context, slug: str) -> Article:
    return await _set_like(ctx, slug, liked=False)


async def _set_like(ctx: Context, slug: str, *, liked: bool) -> Article:
    viewer = await current_user(ctx)
    await limits.charge_write(ctx, viewer.id)
    target = await articles.article(ctx, slug)
    write = ctx.stores.likes.like if liked else ctx.stores.likes.unlike
    changed = (Liked if liked else Unliked)(viewer.id, target.id)
    try:
        await write(viewer.id, target.id, events=[changed])
    except ArticleForgotten:
        # Deleted since it was read: its likes went with it, and so does this one.
        raise NotFound("article") from None
    ctx.loaders.likes.clear(target.id)
    await ctx.relay.deliver([changed])
    return target
