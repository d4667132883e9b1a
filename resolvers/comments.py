"""Comments of an article: reading them newest first, adding, deleting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from events import ArticleDeleted, CommentDeleted, Commented, DomainEvent, new_event_id
from events.live import QUEUE_SIZE, LiveEvent, Overflowed
from models import clock
from models import comments as rules
from models.comments import Comment, NewComment
from models.errors import FellBehind, Forbidden, NotFound
from models.pages import Window
from resolvers import articles, limits
from resolvers.context import Context
from resolvers.users import current_user
from stores.errors import ArticleForgotten


@dataclass(frozen=True)
class CommentPage:
    comments: list[Comment]
    has_next_page: bool
    article_id: int


async def comments_of(ctx: Context, article_id: int, window: Window) -> CommentPage:
    """Batched: the comments of every article of a page come in one read."""
    found, more = window.cut(await ctx.loaders.comment_pages.load((article_id, window.probe())))
    return CommentPage(found, more, article_id)


async def comments_of_slug(ctx: Context, slug: str, window: Window) -> CommentPage:
    return await comments_of(ctx, (await articles.article(ctx, slug)).id, window)


async def count(ctx: Context, article_id: int) -> int:
    return await ctx.loaders.comment_counts.load(article_id)


def viewer_can_delete(ctx: Context, comment: Comment) -> bool:
    """Only the comment's author deletes it."""
    return ctx.viewer_id() == comment.author_id


async def add(ctx: Context, slug: str, body: object) -> Comment:
    author = await current_user(ctx)
    await limits.charge_write(ctx, author.id)
    target = await articles.article(ctx, slug)
    text = rules.validate_body(body)
    created_at, event_id = clock.now(), new_event_id()

    def added_events(comment: Comment) -> list[DomainEvent]:
        # The same event each time it is made: the one recorded is the one delivered.
        return [
            Commented(comment.id, target.id, author.id, event_id=event_id, occurred_at=created_at)
        ]

    try:
        added = await ctx.stores.comments.add(
            NewComment(article_id=target.id, author_id=author.id, body=text, created_at=created_at),
            events=added_events,
        )
    except ArticleForgotten:
        # Deleted since it was read: its comments went with it, and so does this one.
        raise NotFound("article") from None
    await ctx.relay.deliver(added_events(added))
    return added


async def delete(ctx: Context, comment_id: int | None, slug: str | None = None) -> Comment:
    """Delete the viewer's comment; with `slug`, only if it belongs to that article. A
    `comment_id` of None names no comment."""
    viewer = await current_user(ctx)
    await limits.charge_write(ctx, viewer.id)
    target = None if slug is None else await articles.article(ctx, slug)
    found = None if comment_id is None else await ctx.stores.comments.by_id(comment_id)
    if found is None or (target is not None and found.article_id != target.id):
        raise NotFound("comment")
    if found.author_id != viewer.id:
        raise Forbidden("comment")
    deleted = CommentDeleted(found.id, found.article_id)
    await ctx.stores.comments.delete(found.id, events=[deleted])
    await ctx.relay.deliver([deleted])
    return found


async def added(ctx: Context, slug: str) -> AsyncIterator[Comment]:
    """The article's comments as they are added from now on, by any server that shares the
    live channel (events/live.py), until the article is deleted; NotFound for an unknown
    article, before any wait."""
    async for event in _live_events(ctx, slug):
        if isinstance(event, Commented):
            ctx.renew_loaders()
            found = await ctx.stores.comments.by_id(event.comment_id)
            # Gone again before it could be read: its deletion is on its way.
            if found is not None:
                yield found


async def deleted(ctx: Context, slug: str) -> AsyncIterator[int]:
    """The ids of the article's comments as they are deleted from now on."""
    async for event in _live_events(ctx, slug):
        if isinstance(event, CommentDeleted):
            yield event.comment_id


async def _live_events(ctx: Context, slug: str) -> AsyncIterator[LiveEvent]:
    # Every context the app makes has the broker; one made without it cannot subscribe.
    assert ctx.live is not None
    target = await articles.article(ctx, slug)
    with ctx.live.subscribe(target.id) as subscriber:
        while True:
            try:
                event = await subscriber.next()
            except Overflowed:
                raise FellBehind(QUEUE_SIZE) from None
            if isinstance(event, ArticleDeleted):
                # Its comments went with it, without an event each: nothing more will come.
                return
            yield event
