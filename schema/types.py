"""The object types. Field names follow the RealWorld JSON (tagList, favorited, favoritesCount,
following, createdAt...) so REST clients port easily; fields that need another domain resolve
through the use cases' batched loaders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from models import articles as article_records
from models import comments as comment_records
from resolvers import articles, comments, likes, profiles
from resolvers.context import Context
from resolvers.profiles import Profile as ProfileRecord
from resolvers.users import SignedIn
from schema.pagination import AFTER_DESCRIPTION, FIRST_DESCRIPTION, Connection, connection, window

Info = strawberry.Info[Context, None]


@strawberry.type(description="A user as others see them.")
class Profile:
    username: str
    bio: str | None
    image: str | None
    following: bool = strawberry.field(description="Whether the viewer follows this user.")

    @classmethod
    def of(cls, record: ProfileRecord) -> Profile:
        user = record.user
        return cls(
            username=user.username, bio=user.bio, image=user.image, following=record.following
        )


@strawberry.type(description="The signed-in user.")
class User:
    username: str
    email: str
    bio: str | None
    image: str | None

    @classmethod
    def of(cls, signed_in: SignedIn) -> User:
        user = signed_in.user
        return cls(username=user.username, email=user.email, bio=user.bio, image=user.image)


@strawberry.type(description="A signed-in session: send `Authorization: Bearer <token>`.")
class AuthPayload:
    token: str
    user: User

    @classmethod
    def of(cls, signed_in: SignedIn) -> AuthPayload:
        return cls(token=signed_in.token, user=User.of(signed_in))


@strawberry.type
class Comment:
    _record: strawberry.Private[comment_records.Comment]
    id: strawberry.ID
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: comment_records.Comment) -> Comment:
        return cls(
            _record=record,
            id=strawberry.ID(str(record.id)),
            body=record.body,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @strawberry.field
    async def author(self, info: Info) -> Profile:
        return Profile.of(await profiles.profile_of(info.context, self._record.author_id))

    @strawberry.field(description="Whether the viewer may delete this comment.")
    def viewer_can_delete(self, info: Info) -> bool:
        return comments.viewer_can_delete(info.context, self._record)


@strawberry.type
class Article:
    _record: strawberry.Private[article_records.Article]
    slug: str
    title: str
    description: str
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: article_records.Article) -> Article:
        return cls(
            _record=record,
            slug=record.slug,
            title=record.title,
            description=record.description,
            body=record.body,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @strawberry.field(description="Tags, sorted alphabetically.")
    async def tag_list(self, info: Info) -> list[str]:
        return await articles.tags_of(info.context, self._record)

    @strawberry.field
    async def author(self, info: Info) -> Profile:
        return Profile.of(await profiles.profile_of(info.context, self._record.author_id))

    @strawberry.field(description="Whether the viewer likes this article.")
    async def favorited(self, info: Info) -> bool:
        return (await likes.stats_of(info.context, self._record)).liked_by_viewer

    @strawberry.field(description="How many users like this article.")
    async def favorites_count(self, info: Info) -> int:
        return (await likes.stats_of(info.context, self._record)).count

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
            [Comment.of(c) for c in page.comments],
            page.has_next_page,
            lambda: comments.count(ctx, page.article_id),
        )


@strawberry.type(description="What a deletion removed.")
class DeletedArticle:
    slug: str


@strawberry.type(description="What a deletion removed.")
class DeletedComment:
    id: strawberry.ID
