"""The subscriptions, over WebSocket (graphql-transport-ws, see schema/live.py): an article's
comments as they are added and deleted."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from models.ids import Kind
from resolvers import comments
from schema.types import Comment, DeletedComment, Info, node_id


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Each comment added to the article from now on (NOT_FOUND for an unknown "
        "slug). Over WebSocket only, graphql-transport-ws."
    )
    async def comment_added(self, info: Info, article_slug: str) -> AsyncGenerator[Comment]:
        async for record in comments.added(info.context, article_slug):
            yield await Comment.one(info, record)

    @strawberry.subscription(
        description="Each comment deleted from the article from now on (NOT_FOUND for an "
        "unknown slug). Over WebSocket only, graphql-transport-ws."
    )
    async def comment_deleted(
        self, info: Info, article_slug: str
    ) -> AsyncGenerator[DeletedComment]:
        async for comment_id in comments.deleted(info.context, article_slug):
            yield DeletedComment(id=node_id(Kind.COMMENT, comment_id))
