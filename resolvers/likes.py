"""Likes ("favorites"): liking, unliking, and the like stats of an article."""

from __future__ import annotations

from models.articles import Article
from models.likes import LikeStats
from resolvers import articles
from resolvers.context import Context
from resolvers.users import current_user


async def stats_of(ctx: Context, article: Article) -> LikeStats:
    return await ctx.loaders.likes.load(article.id)


async def like(ctx: Context, slug: str) -> Article:
    viewer = await current_user(ctx)
    liked = await articles.article(ctx, slug)
    await ctx.stores.likes.like(viewer.id, liked.id)
    ctx.loaders.likes.clear(liked.id)
    return liked


async def unlike(ctx: Context, slug: str) -> Article:
    viewer = await current_user(ctx)
    unliked = await articles.article(ctx, slug)
    await ctx.stores.likes.unlike(viewer.id, unliked.id)
    ctx.loaders.likes.clear(unliked.id)
    return unliked
