"""Whole views of articles and comments, and the parts they are made of, read a page at a time.
Each part is one batched read through a loader for the whole page, however long the page; a
page reads its parts concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from models.articles import Article
from models.comments import Comment
from models.errors import NotFound
from models.likes import LikeStats
from resolvers.context import Context
from resolvers.profiles import Profile


@dataclass(frozen=True)
class ArticleView:
    article: Article
    tags: list[str]
    author: Profile
    likes: LikeStats


@dataclass(frozen=True)
class CommentView:
    comment: Comment
    author: Profile


async def tags_of(ctx: Context, page: Sequence[Article]) -> list[list[str]]:
    return await ctx.loaders.tags.load_many([a.id for a in page])


async def likes_of(ctx: Context, page: Sequence[Article]) -> list[LikeStats]:
    return await ctx.loaders.likes.load_many([a.id for a in page])


async def profiles_found(ctx: Context, user_ids: Sequence[int]) -> list[Profile | None]:
    """The profiles of these users, None for each user there is not."""
    users, following = await asyncio.gather(
        ctx.loaders.user_by_id.load_many(user_ids),
        ctx.loaders.followed_by_viewer.load_many(user_ids),
    )
    return [
        None if user is None else Profile(user, followed)
        for user, followed in zip(users, following, strict=True)
    ]


async def profiles_of(ctx: Context, user_ids: Sequence[int]) -> list[Profile]:
    """The profiles of users known to exist (authors)."""
    found = await profiles_found(ctx, user_ids)
    if None in found:
        raise NotFound("profile")
    return [p for p in found if p is not None]


async def article_views(ctx: Context, page: Sequence[Article]) -> list[ArticleView]:
    tags, authors, likes = await asyncio.gather(
        tags_of(ctx, page), profiles_of(ctx, [a.author_id for a in page]), likes_of(ctx, page)
    )
    return [ArticleView(*parts) for parts in zip(page, tags, authors, likes, strict=True)]


async def article_view(ctx: Context, article: Article) -> ArticleView:
    [view] = await article_views(ctx, [article])
    return view


async def comment_views(ctx: Context, page: Sequence[Comment]) -> list[CommentView]:
    authors = await profiles_of(ctx, [c.author_id for c in page])
    return [CommentView(c, a) for c, a in zip(page, authors, strict=True)]
