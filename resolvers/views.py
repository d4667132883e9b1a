"""Whole views of articles and comments, for clients that take everything at once (REST).
Each part goes through a loader, so gathering views for a page batches every lookup."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from models.articles import Article
from models.comments import Comment
from models.likes import LikeStats
from resolvers import articles, likes, profiles
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


async def article_view(ctx: Context, article: Article) -> ArticleView:
    tags, author, stats = await asyncio.gather(
        articles.tags_of(ctx, article),
        profiles.profile_of(ctx, article.author_id),
        likes.stats_of(ctx, article),
    )
    return ArticleView(article, tags, author, stats)


async def article_views(ctx: Context, page: list[Article]) -> list[ArticleView]:
    return list(await asyncio.gather(*(article_view(ctx, a) for a in page)))


async def comment_views(ctx: Context, page: list[Comment]) -> list[CommentView]:
    authors = await asyncio.gather(*(profiles.profile_of(ctx, c.author_id) for c in page))
    return [CommentView(c, a) for c, a in zip(page, authors, strict=True)]
