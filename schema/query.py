"""The queries."""

from __future__ import annotations

from typing import Annotated

import strawberry

from models.ids import MAX_NODE_IDS
from resolvers import articles, profiles, users
from schema.nodes import nodes_of
from schema.pagination import After, Connection, First, window
from schema.types import Article, Info, Node, Profile, User, article_connection, feed


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user, or null for an anonymous request.")
    async def viewer(self, info: Info) -> User | None:
        signed_in = await users.viewer(info.context)
        return None if signed_in is None else User.of(signed_in)

    @strawberry.field(description="A user's profile (NOT_FOUND when there is no such user).")
    async def profile(self, info: Info, username: str) -> Profile | None:
        return Profile.of(await profiles.profile(info.context, username))

    @strawberry.field(description="An article by slug (NOT_FOUND when there is none).")
    async def article(self, info: Info, slug: str) -> Article | None:
        return await Article.one(info, await articles.article(info.context, slug))

    @strawberry.field(description="Articles, newest first; filters combine.")
    async def articles(
        self,
        info: Info,
        first: First = 20,
        after: After = None,
        tag: str | None = None,
        author: Annotated[str | None, strawberry.argument(description="Author's username.")] = None,
        liked_by: Annotated[
            str | None, strawberry.argument(description="Username of a user who likes them.")
        ] = None,
    ) -> Connection[Article]:
        filters = articles.ArticleFilter(tag=tag, author=author, liked_by=liked_by)
        page = await articles.articles(info.context, filters, window(first, after))
        return await article_connection(info, page)

    @strawberry.field(description="Articles by the authors the viewer follows, newest first.")
    async def feed(self, info: Info, first: First = 20, after: After = None) -> Connection[Article]:
        return await feed(info, first, after)

    @strawberry.field(
        description="The object with this global id; null when there is none the viewer may "
        "see (a User only for the viewer themselves). BAD_USER_INPUT for text that is no id."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        [found] = await nodes_of(info, [id], "id")
        return found

    @strawberry.field(
        description=f"The objects with these global ids, in order, null for each as `node` "
        f"would be; at most {MAX_NODE_IDS} ids."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        return await nodes_of(info, ids, "ids")

    @strawberry.field(description="Every tag in use, sorted.")
    async def tags(self, info: Info) -> list[str]:
        return await articles.all_tags(info.context)
