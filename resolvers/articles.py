"""Articles: reading one, listing pages (global, filtered, feed), writing, tags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from events import ArticleCreated, ArticleDeleted, ArticleUpdated, DomainEvent, new_event_id
from models import articles as rules
from models import clock
from models.articles import Article, ArticleEdit, ArticleQuery, NewArticle
from models.errors import Conflict, Forbidden, NotFound
from models.pages import Window
from models.users import is_plausible_username
from models.validation import MISSING, Maybe
from resolvers import limits
from resolvers.context import Context
from resolvers.users import current_user

# Tries at a unique slug before giving up: the plain one, then random suffixes.
SLUG_ATTEMPTS = 5


@dataclass(frozen=True)
class ArticleFilter:
    """The filters a client may combine: tag, author's username, username who liked."""

    tag: str | None = None
    author: str | None = None
    liked_by: str | None = None


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    has_next_page: bool
    query: ArticleQuery


async def article(ctx: Context, slug: str) -> Article:
    ctx.viewer_id()
    found = await ctx.stores.articles.by_slug(slug) if rules.is_plausible_slug(slug) else None
    if found is None:
        raise NotFound("article")
    return found


async def articles(ctx: Context, filters: ArticleFilter, window: Window) -> ArticlePage:
    ctx.viewer_id()
    return await _page(ctx, await _query(ctx, filters), window)


async def feed(ctx: Context, window: Window) -> ArticlePage:
    """Articles by the authors the viewer follows, newest first."""
    viewer_id = ctx.require_viewer_id()
    followed = await ctx.stores.users.followees(viewer_id)
    if not followed:
        # Who follows nobody may not exist (a valid token of a removed user): only then check.
        await current_user(ctx)
    for author_id in followed:
        ctx.loaders.followed_by_viewer.prime(author_id, True)
    return await _page(ctx, ArticleQuery(author_ids=tuple(followed)), window)


async def count(ctx: Context, query: ArticleQuery) -> int:
    return 0 if query.matches_nothing else await ctx.stores.articles.count(query)


async def all_tags(ctx: Context) -> list[str]:
    ctx.viewer_id()
    return await ctx.stores.articles.all_tags()


def viewer_can_edit(ctx: Context, article: Article) -> bool:
    """Only the author edits or deletes an article."""
    return ctx.viewer_id() == article.author_id


async def create(
    ctx: Context, title: object, description: object, body: object, tags: object
) -> Article:
    author = await current_user(ctx)
    await limits.charge_write(ctx, author.id)
    draft = rules.validate_draft(title, description, body, tags)
    created_at = clock.now()
    event_id = new_event_id()

    def created_events(article: Article) -> list[DomainEvent]:
        # The same event each time it is made: the one recorded is the one delivered.
        return [ArticleCreated(article.id, author.id, event_id=event_id, occurred_at=created_at)]

    async def write(slug: str) -> Article:
        return await ctx.stores.articles.create(
            NewArticle(
                slug=slug,
                title=draft.title,
                description=draft.description,
                body=draft.body,
                tags=draft.tags,
                author_id=author.id,
                created_at=created_at,
            ),
            events=created_events,
        )

    created = await _with_unique_slug(rules.slugify(draft.title), write)
    ctx.loaders.tags.prime(created.id, list(draft.tags))
    await ctx.relay.deliver(created_events(created))
    return created


async def update(
    ctx: Context,
    slug: str,
    title: Maybe[object] = MISSING,
    description: Maybe[object] = MISSING,
    body: Maybe[object] = MISSING,
    tags: Maybe[object] = MISSING,
) -> Article:
    current = await _own_article(ctx, slug)
    changes = rules.validate_changes(title, description, body, tags)
    if rules.changes_nothing(current, changes) and (
        changes.tags is MISSING
        or changes.tags == tuple(sorted(await ctx.loaders.tags.load(current.id)))
    ):
        return current  # not written: updatedAt stays, and no ArticleUpdated goes out
    new_title = current.title if changes.title is MISSING else changes.title
    plain_slug = rules.slugify(new_title)
    keeps_slug = plain_slug == rules.slugify(current.title)
    updated_event = ArticleUpdated(current.id)

    async def write(new_slug: str) -> Article:
        return await ctx.stores.articles.update(
            current.id,
            ArticleEdit(
                slug=new_slug,
                title=new_title,
                description=current.description
                if changes.description is MISSING
                else changes.description,
                body=current.body if changes.body is MISSING else changes.body,
                tags=changes.tags,
                updated_at=clock.now(),
            ),
            events=[updated_event],
        )

    updated = await (write(current.slug) if keeps_slug else _with_unique_slug(plain_slug, write))
    if changes.tags is not MISSING:
        ctx.loaders.tags.clear(current.id).prime(current.id, list(changes.tags))
    await ctx.relay.deliver([updated_event])
    return updated


async def delete(ctx: Context, slug: str) -> Article:
    """Delete the viewer's article; its comments and likes go through the ArticleDeleted event."""
    current = await _own_article(ctx, slug)
    deleted = ArticleDeleted(current.id)
    await ctx.stores.articles.delete(current.id, events=[deleted])
    await ctx.relay.deliver([deleted])
    return current


async def _own_article(ctx: Context, slug: str) -> Article:
    """The viewer's article, for a write: the write is charged to the viewer."""
    viewer = await current_user(ctx)
    await limits.charge_write(ctx, viewer.id)
    found = await article(ctx, slug)
    if found.author_id != viewer.id:
        raise Forbidden("article")
    return found


async def _page(ctx: Context, query: ArticleQuery, window: Window) -> ArticlePage:
    if query.matches_nothing:
        return ArticlePage([], False, query)
    found, more = window.cut(await ctx.stores.articles.page(query, window.probe()))
    return ArticlePage(found, more, query)


async def _query(ctx: Context, filters: ArticleFilter) -> ArticleQuery:
    """Turn usernames into ids; an unknown username matches no article (not an error)."""
    tag = None if filters.tag is None else rules.require_tag_filter(filters.tag)
    author_ids: tuple[int, ...] | None = None
    article_ids: tuple[int, ...] | None = None
    if filters.author is not None:
        author = await _user_id(ctx, filters.author)
        author_ids = () if author is None else (author,)
    if filters.liked_by is not None:
        liker = await _user_id(ctx, filters.liked_by)
        liked = [] if liker is None else await ctx.stores.likes.liked_article_ids(liker)
        article_ids = tuple(liked)
    return ArticleQuery(tag=tag, author_ids=author_ids, article_ids=article_ids)


async def _user_id(ctx: Context, username: str) -> int | None:
    if not is_plausible_username(username):
        return None
    user = await ctx.stores.users.by_username(username)
    return None if user is None else user.id


async def _with_unique_slug(slug: str, write: Callable[[str], Awaitable[Article]]) -> Article:
    candidate = rules.with_suffix(slug) if slug in rules.RESERVED_SLUGS else slug
    for _ in range(SLUG_ATTEMPTS):
        try:
            return await write(candidate)
        except Conflict:
            candidate = rules.with_suffix(slug)
    raise Conflict.taken("slug")
