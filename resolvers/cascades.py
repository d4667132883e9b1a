"""What other domains do when an event arrives: the one list of event handlers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from events import ArticleDeleted, DomainEvent, Handler
from stores.protocols import Stores


def handlers(stores: Stores) -> Mapping[type[DomainEvent], Sequence[Handler]]:
    async def forget_comments(event: DomainEvent) -> None:
        await stores.comments.forget_article(event.article_id)

    async def forget_likes(event: DomainEvent) -> None:
        await stores.likes.forget_article(event.article_id)

    return {ArticleDeleted: [forget_comments, forget_likes]}
