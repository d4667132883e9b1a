"""What other domains do when an event arrives: the one list of event handlers, per consumer
domain. Which events each consumer receives is declared in events/subscriptions.py; a handler
must be idempotent, because every bus may deliver an event more than once."""

from __future__ import annotations

from events import ArticleDeleted
from events.handlers import Handlers
from stores.protocols import CommentStore, LikeStore, Stores


def handlers(stores: Stores) -> dict[str, Handlers]:
    """Every consumer's handlers, for a process that has every domain's store."""
    return {"comments": comments_consumer(stores.comments), "likes": likes_consumer(stores.likes)}


# forget_article removes whatever is left of the article's data: nothing the second time.
def comments_consumer(comments: CommentStore) -> Handlers:
    async def forget_comments(event: ArticleDeleted) -> None:
        await comments.forget_article(event.article_id)

    return Handlers().on(ArticleDeleted, forget_comments)


def likes_consumer(likes: LikeStore) -> Handlers:
    async def forget_likes(event: ArticleDeleted) -> None:
        await likes.forget_article(event.article_id)

    return Handlers().on(ArticleDeleted, forget_likes)
