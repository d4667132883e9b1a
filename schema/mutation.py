"""The mutations and their inputs. A field left out of an update input stays as it is."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from models.ids import Kind, number_of
from models.validation import MISSING, Maybe
from resolvers import articles, comments, likes, profiles, users
from schema.types import (
    Article,
    AuthPayload,
    Comment,
    DeletedArticle,
    DeletedComment,
    Info,
    Profile,
    User,
)

T = TypeVar("T")


def given(value: T | None) -> Maybe[T | None]:
    """Strawberry's UNSET (field left out) as the use cases' MISSING."""
    return MISSING if value is strawberry.UNSET else value


@strawberry.input
class RegisterInput:
    username: str
    email: str
    password: str = strawberry.field(description="At least 8 characters.")


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input(description='Only the fields given change; null or "" clears bio and image.')
class UpdateViewerInput:
    username: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    image: str | None = strawberry.UNSET


@strawberry.input
class CreateArticleInput:
    title: str
    description: str
    body: str
    tag_list: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; tagList [] clears the tags.")
class UpdateArticleInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    tag_list: list[str] | None = strawberry.UNSET


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an account and sign in.")
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        signed_in = await users.register(info.context, input.username, input.email, input.password)
        return AuthPayload.of(signed_in)

    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        return AuthPayload.of(await users.login(info.context, input.email, input.password))

    @strawberry.mutation(description="Change the signed-in user's settings.")
    async def update_viewer(self, info: Info, input: UpdateViewerInput) -> User:
        signed_in = await users.update_settings(
            info.context,
            username=given(input.username),
            email=given(input.email),
            password=given(input.password),
            bio=given(input.bio),
            image=given(input.image),
        )
        return User.of(signed_in)

    @strawberry.mutation
    async def follow(self, info: Info, username: str) -> Profile:
        return Profile.of(await profiles.follow(info.context, username))

    @strawberry.mutation
    async def unfollow(self, info: Info, username: str) -> Profile:
        return Profile.of(await profiles.unfollow(info.context, username))

    @strawberry.mutation
    async def create_article(self, info: Info, input: CreateArticleInput) -> Article:
        created = await articles.create(
            info.context, input.title, input.description, input.body, input.tag_list
        )
        return await Article.one(info, created)

    @strawberry.mutation(description="Edit the viewer's article; a new title gives a new slug.")
    async def update_article(self, info: Info, slug: str, input: UpdateArticleInput) -> Article:
        updated = await articles.update(
            info.context,
            slug,
            title=given(input.title),
            description=given(input.description),
            body=given(input.body),
            tags=given(input.tag_list),
        )
        return await Article.one(info, updated)

    @strawberry.mutation(description="Delete the viewer's article with its comments and likes.")
    async def delete_article(self, info: Info, slug: str) -> DeletedArticle:
        return DeletedArticle.of(await articles.delete(info.context, slug))

    @strawberry.mutation
    async def add_comment(self, info: Info, slug: str, body: str) -> Comment:
        return await Comment.one(info, await comments.add(info.context, slug, body))

    @strawberry.mutation(
        description="Delete one of the viewer's comments, by its id (or, as before comments "
        "had global ids, by its number)."
    )
    async def delete_comment(self, info: Info, id: strawberry.ID) -> DeletedComment:
        number = number_of(id, Kind.COMMENT, "id")
        return DeletedComment.of(await comments.delete(info.context, number))

    @strawberry.mutation(description='Like an article ("favorite" in RealWorld).')
    async def like_article(self, info: Info, slug: str) -> Article:
        return await Article.one(info, await likes.like(info.context, slug))

    @strawberry.mutation
    async def unlike_article(self, info: Info, slug: str) -> Article:
        return await Article.one(info, await likes.unlike(info.context, slug))
