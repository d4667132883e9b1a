"""The object types. Field names follow the RealWorld JSON (tagList, favorited, favoritesCount,
following, createdAt...) so REST clients port easily; fields that need another domain resolve
through the use cases' batched loaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated

import strawberry

from models import articles as article_records
from models import comments as comment_records
from models.ids import Kind, global_id
from models.pages import Window
from resolvers import articles, comments, profiles, views
from resolvers.context import Context
from resolvers.profiles import Profile as ProfileRecord
from resolvers.users import SignedIn
from schema.pagination import (
    AFTER_DESCRIPTION,
    FIRST_DESCRIPTION,
    NODE_PATHS,
    After,
    Connection,
    First,
    connection,
    window,
)
from schema.prefetch import read_if, selected_names

Info = strawberry.Info[Context, None]


def node_id(kind: Kind, number: int) -> strawberry.ID:
    return strawberry.ID(global_id(kind, number))


@strawberry.interface(
    description="An object with a global id: `node(id:)` finds it again by that id alone."
)
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque and stable; unique across every type, so a client cache can key "
        "objects by it."
    )


@strawberry.type(description="A user as others see them (its id is not their User's id).")
class Profile(Node):
    _record: strawberry.Private[ProfileRecord]
    username: str
    bio: str | None
    image: str | None
    following: bool = strawberry.field(description="Whether the viewer follows this user.")

    @classmethod
    def of(cls, record: ProfileRecord) -> Profile:
        user = record.user
        return cls(
            _record=record,
            id=node_id(Kind.PROFILE, user.id),
            username=user.username,
            bio=user.bio,
            image=user.image,
            following=record.following,
        )

    # Each list and count below loads with those of every other profile of the request: a page
    # of N profiles reads them in a fixed number of round trips.
    @strawberry.field(description="The user's articles, newest first.")
    async def articles(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Article]:
        return await self._list(info, first, after, profiles.articles_by, profiles.article_count)

    @strawberry.field(description="The articles the user likes, newest first.")
    async def liked_articles(
        self, info: Info, first: First = 20, after: After = None
    ) -> Connection[Article]:
        return await self._list(info, first, after, profiles.liked_articles, profiles.liked_count)

    async def _list(
        self,
        info: Info,
        first: int,
        after: str | None,
        page_of: Callable[[Context, int, Window], Awaitable[profiles.ArticlesOf]],
        count_of: Callable[[Context, int], Awaitable[int]],
    ) -> Connection[Article]:
        ctx, user_id = info.context, self._record.user.id
        page = await page_of(ctx, user_id, window(first, after))
        return await _articles_of(info, page, lambda: count_of(ctx, user_id))

    @strawberry.field(description="How many users follow this user.")
    async def followers_count(self, info: Info) -> int:
        return (await profiles.follow_counts(info.context, self._record.user.id)).followers

    @strawberry.field(description="How many users this user follows.")
    async def following_count(self, info: Info) -> int:
        return (await profiles.follow_counts(info.context, self._record.user.id)).following


@strawberry.type(description="The signed-in user (its id is not their Profile's id).")
class User(Node):
    _signed_in: strawberry.Private[SignedIn]
    username: str
    email: str
    bio: str | None
    image: str | None
    token: str = strawberry.field(
        description="The token to send from now on: changing the password or the email "
        "ends every token issued before, and this is the one that replaces them."
    )

    @classmethod
    def of(cls, signed_in: SignedIn) -> User:
        user = signed_in.user
        return cls(
            _signed_in=signed_in,
            id=node_id(Kind.USER, user.id),
            username=user.username,
            email=user.email,
            bio=user.bio,
            image=user.image,
            token=signed_in.token,
        )

    @strawberry.field(description="The signed-in user's own profile.")
    def profile(self) -> Profile:
        return Profile.of(profiles.own(self._signed_in.user))

    @strawberry.field(description="The same as `Query.feed`.")
    async def feed(self, info: Info, first: First = 20, after: After = None) -> Connection[Article]:
        return await feed(info, first, after)


@strawberry.type(description="A signed-in session: send `Authorization: Bearer <token>`.")
class AuthPayload:
    token: str
    user: User

    @classmethod
    def of(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(token=signed_in.token, user=User.of(signed_in))


@strawberry.type
class Comment(Node):
    _record: strawberry.Private[comment_records.Comment]
    body: str
    created_at: datetime
    updated_at: datetime
    # As Article's parts: read by `page` when selected, None otherwise.
    author: Profile | None = strawberry.field(graphql_type=Profile)

    @classmethod
    async def page(
        cls, info: Info, records: Sequence[comment_records.Comment], *paths: tuple[str, ...]
    ) -> list[Comment]:
        """The comments, with the parts the query selects on them (at `paths` below the field
        being resolved, see `selected_names`) read for all of them at once."""
        ctx = info.context
        authors = await read_if(
            "author" in selected_names(info, *paths),
            lambda: views.profiles_of(ctx, [c.author_id for c in records]),
        )
        return [
            cls(
                _record=record,
                id=node_id(Kind.COMMENT, record.id),
                body=record.body,
                created_at=record.created_at,
                updated_at=record.updated_at,
                author=None if authors is None else Profile.of(authors[i]),
            )
            for i, record in enumerate(records)
        ]

    @classmethod
    async def one(cls, info: Info, record: comment_records.Comment) -> Comment:
        [comment] = await cls.page(info, [record])
        return comment

    @strawberry.field(description="Whether the viewer may delete this comment.")
    def viewer_can_delete(self, info: Info) -> bool:
        return comments.viewer_can_delete(info.context, self._record)


@strawberry.type
class Article(Node):
    _record: strawberry.Private[article_records.Article]
    slug: str
    title: str
    description: str
    body: str
    created_at: datetime
    updated_at: datetime
    # Read a page at a time by `page`, and only when the query selects them: None otherwise.
    # The schema keeps them non-null, so a None asked for (a bug in `selected_names`) would be
    # an error, never a silently empty answer.
    tag_list: list[str] | None = strawberry.field(
        graphql_type=list[str], description="Tags, sorted alphabetically."
    )
    author: Profile | None = strawberry.field(graphql_type=Profile)
    favorited: bool | None = strawberry.field(
        graphql_type=bool, description="Whether the viewer likes this article."
    )
    favorites_count: int | None = strawberry.field(
        graphql_type=int, description="How many users like this article."
    )

    @classmethod
    async def page(
        cls, info: Info, records: Sequence[article_records.Article], *paths: tuple[str, ...]
    ) -> list[Article]:
        """The articles, with the parts the query selects on them (at `paths` below the field
        being resolved, see `selected_names`) read for all of them at once."""
        ctx = info.context
        names = selected_names(info, *paths)
        tags, authors, stats = await asyncio.gather(
            read_if("tagList" in names, lambda: views.tags_of(ctx, records)),
            read_if(
                "author" in names,
                lambda: views.profiles_of(ctx, [a.author_id for a in records]),
            ),
            read_if(
                bool(names & {"favorited", "favoritesCount"}),
                lambda: views.likes_of(ctx, records),
            ),
        )
        return [
            cls(
                _record=record,
                id=node_id(Kind.ARTICLE, record.id),
                slug=record.slug,
                title=record.title,
                description=record.description,
                body=record.body,
                created_at=record.created_at,
                updated_at=record.updated_at,
                tag_list=None if tags is None else tags[i],
                author=None if authors is None else Profile.of(authors[i]),
                favorited=None if stats is None else stats[i].liked_by_viewer,
                favorites_count=None if stats is None else stats[i].count,
            )
            for i, record in enumerate(records)
        ]

    @classmethod
    async def one(cls, info: Info, record: article_records.Article) -> Article:
        [article] = await cls.page(info, [record])
        return article

    @strawberry.field(description="Whether the viewer may edit this article.")
    def viewer_can_edit(self, info: Info) -> bool:
        return articles.viewer_can_edit(info.context, self._record)

    @strawberry.field(description="Whether the viewer may delete this article.")
    def viewer_can_delete(self, info: Info) -> bool:
        return articles.viewer_can_edit(info.context, self._record)

    @strawberry.field(description="Comments, newest first.")
    async def comments(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description=FIRST_DESCRIPTION)] = 20,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
    ) -> Connection[Comment]:
        ctx = info.context
        page = await comments.comments_of(ctx, self._record.id, window(first, after))
        return connection(
            page.comments,
            await Comment.page(info, page.comments, *NODE_PATHS),
            page.has_next_page,
            lambda: comments.count(ctx, page.article_id),
        )


@strawberry.type(description="What a deletion removed: a client cache evicts it by its `id`.")
class DeletedArticle:
    id: strawberry.ID
    slug: str

    @classmethod
    def of(cls, record: article_records.Article) -> DeletedArticle:
        return cls(id=node_id(Kind.ARTICLE, record.id), slug=record.slug)


@strawberry.type(description="What a deletion removed: a client cache evicts it by its `id`.")
class DeletedComment:
    id: strawberry.ID

    @classmethod
    def of(cls, record: comment_records.Comment) -> DeletedComment:
        return cls(id=node_id(Kind.COMMENT, record.id))


async def article_connection(info: Info, page: articles.ArticlePage) -> Connection[Article]:
    ctx = info.context
    return await _articles_of(info, page, lambda: articles.count(ctx, page.query))


async def feed(info: Info, first: int, after: str | None) -> Connection[Article]:
    """Articles by the authors the viewer follows, newest first."""
    info.context.require_viewer_id()  # the contract: who may not read it learns nothing more
    page = await articles.feed(info.context, window(first, after))
    return await article_connection(info, page)


async def _articles_of(
    info: Info,
    page: articles.ArticlePage | profiles.ArticlesOf,
    count: Callable[[], Awaitable[int]],
) -> Connection[Article]:
    return connection(
        page.articles,
        await Article.page(info, page.articles, *NODE_PATHS),
        page.has_next_page,
        count,
    )
