"""`node` and `nodes`: objects by global id, each shown as the lists show it, with the parts
the query selects on them read for all of them at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from models.articles import Article as ArticleRecord
from models.comments import Comment as CommentRecord
from resolvers import nodes
from resolvers.nodes import Found
from resolvers.profiles import Profile as ProfileRecord
from schema.types import Article, Comment, Info, Node, Profile, User


async def nodes_of(info: Info, ids: Sequence[str], field: str) -> list[Node | None]:
    """`field` is the argument that gave the ids, which an error about them names."""
    found = await nodes.find(info.context, ids, field)
    articles, comments = await asyncio.gather(
        Article.page(info, [r for r in found if isinstance(r, ArticleRecord)]),
        Comment.page(info, [r for r in found if isinstance(r, CommentRecord)]),
    )
    # In the order found, as each kind's page is.
    next_article, next_comment = iter(articles), iter(comments)

    def shown(record: Found | None) -> Node | None:
        if isinstance(record, ArticleRecord):
            return next(next_article)
        if isinstance(record, CommentRecord):
            return next(next_comment)
        if isinstance(record, ProfileRecord):
            return Profile.of(record)
        return None if record is None else User.of(record)

    return [shown(record) for record in found]
