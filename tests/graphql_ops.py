"""Helpers shared by the GraphQL tests: the operations they send, the fragments they read, and
short ways to check a response's data or its one error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.testclient import TestClient

from app import create_app
from config import Settings
from tests.conftest import Api, error_codes

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BLANK = "can't be blank"
TAKEN = "has already been taken"
# extensions.fields of the errors every domain shares
TOKEN_MISSING = {"token": ["is missing"]}
ARTICLE_NOT_FOUND = {"article": ["not found"]}

# 30 connections of 100 articles, each with 100 comments: 303,000 nodes (also bench.attacks).
AMPLIFICATION = (
    "{ "
    + " ".join(
        f"a{i}: articles(first: 100) {{ nodes {{ comments(first: 100) "
        "{ totalCount nodes { body } } } }"
        for i in range(30)
    )
    + " }"
)


def fragment_bomb(levels: int, innermost: str, name: str = "F") -> str:
    """Each fragment spreads the one before it twice: walked naively, 2^levels copies of
    `innermost`. Fragments are named `name` and their level (also bench.attacks)."""
    fragments = [f"fragment {name}0 on Query {{ {innermost} }}"] + [
        f"fragment {name}{i} on Query {{ ...{name}{i - 1} ...{name}{i - 1} }}"
        for i in range(1, levels + 1)
    ]
    return f"query Bomb {{ ...{name}{levels} }}\n" + "\n".join(fragments)


PROFILE_FIELDS = "username bio image following"
ARTICLE_FIELDS = f"""
    slug title description body createdAt updatedAt tagList favorited favoritesCount
    viewerCanEdit viewerCanDelete author {{ {PROFILE_FIELDS} }}
"""
COMMENT_FIELDS = f"id body createdAt updatedAt viewerCanDelete author {{ {PROFILE_FIELDS} }}"
PAGE_INFO = "totalCount pageInfo { hasNextPage endCursor }"

VIEWER = "{ viewer { username email bio image } }"
PROFILE = f"query($username: String!) {{ profile(username: $username) {{ {PROFILE_FIELDS} }} }}"
ARTICLE = f"query($slug: String!) {{ article(slug: $slug) {{ {ARTICLE_FIELDS} }} }}"
ARTICLES = f"""
query($first: Int!, $after: String, $tag: String, $author: String, $likedBy: String) {{
  articles(first: $first, after: $after, tag: $tag, author: $author, likedBy: $likedBy) {{
    {PAGE_INFO} edges {{ cursor node {{ slug }} }} nodes {{ slug }}
  }}
}}"""
FEED = f"""
query($first: Int!, $after: String) {{
  feed(first: $first, after: $after) {{
    {PAGE_INFO} nodes {{ slug author {{ username following }} }}
  }}
}}"""
COMMENTS = f"""
query($slug: String!, $first: Int!, $after: String) {{
  article(slug: $slug) {{
    comments(first: $first, after: $after) {{
      {PAGE_INFO} edges {{ cursor node {{ id body }} }} nodes {{ {COMMENT_FIELDS} }}
    }}
  }}
}}"""

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token user { username email bio image } }
}"""
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { token user { username email bio image } }
}"""
UPDATE_VIEWER = """
mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { username email bio image } }
"""
FOLLOW = f"mutation($username: String!) {{ follow(username: $username) {{ {PROFILE_FIELDS} }} }}"
UNFOLLOW = (
    f"mutation($username: String!) {{ unfollow(username: $username) {{ {PROFILE_FIELDS} }} }}"
)
CREATE_ARTICLE = f"""
mutation($input: CreateArticleInput!) {{ createArticle(input: $input) {{ {ARTICLE_FIELDS} }} }}
"""
UPDATE_ARTICLE = f"""
mutation($slug: String!, $input: UpdateArticleInput!) {{
  updateArticle(slug: $slug, input: $input) {{ {ARTICLE_FIELDS} }}
}}"""
DELETE_ARTICLE = "mutation($slug: String!) { deleteArticle(slug: $slug) { slug } }"
ADD_COMMENT = f"""
mutation($slug: String!, $body: String!) {{
  addComment(slug: $slug, body: $body) {{ {COMMENT_FIELDS} }}
}}"""
DELETE_COMMENT = "mutation($id: ID!) { deleteComment(id: $id) { id } }"
LIKE = "mutation($slug: String!) { likeArticle(slug: $slug) { slug favorited favoritesCount } }"
UNLIKE = "mutation($slug: String!) { unlikeArticle(slug: $slug) { slug favorited favoritesCount } }"


def data(body: dict[str, Any]) -> dict[str, Any]:
    """The data of a response that must have no errors."""
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a response that must have exactly one."""
    errors: list[dict[str, Any]] = body.get("errors", [])
    assert len(errors) == 1, body
    return errors[0]


def assert_error(
    body: dict[str, Any], code: str, fields: dict[str, list[str]] | None = None
) -> None:
    """The response failed with exactly one error of `code` (and, when given, exactly these
    per-field messages)."""
    error = only_error(body)
    assert error_codes(body) == [code], error
    if fields is not None:
        assert error["extensions"]["fields"] == fields, error


def register(api: Api, username: str, email: str, password: str) -> dict[str, Any]:
    """Send `register`; the whole response body."""
    variables = {"input": {"username": username, "email": email, "password": password}}
    return api.graphql(REGISTER, variables)


def login(api: Api, email: str, password: str) -> dict[str, Any]:
    """Send `login`; the whole response body."""
    return api.graphql(LOGIN, {"input": {"email": email, "password": password}})


def update_viewer(api: Api, user: str, /, **changes: Any) -> dict[str, Any]:
    """Send `updateViewer` as `user`; the whole response body."""
    return api.graphql(UPDATE_VIEWER, {"input": changes}, as_user=user)


def create_article(
    api: Api,
    author: str,
    title: str = "A title",
    tags: list[str] | None = None,
    description: str = "About it",
    body: str = "The body",
) -> dict[str, Any]:
    """Create an article that must be valid; returns it."""
    article = {"title": title, "description": description, "body": body, "tagList": tags or []}
    response = api.graphql(CREATE_ARTICLE, {"input": article}, as_user=author)
    created: dict[str, Any] = data(response)["createArticle"]
    return created


def article(api: Api, slug: str, as_user: str | None = None) -> dict[str, Any]:
    """An article that must exist, as `as_user` sees it."""
    found: dict[str, Any] = data(api.graphql(ARTICLE, {"slug": slug}, as_user=as_user))["article"]
    return found


def articles(api: Api, as_user: str | None = None, first: int = 100, **filters: Any) -> Any:
    """One page of `articles` (the connection), which must succeed."""
    variables = {"first": first, **filters}
    return data(api.graphql(ARTICLES, variables, as_user=as_user))["articles"]


def slugs(connection: dict[str, Any]) -> list[str]:
    return [node["slug"] for node in connection["nodes"]]


def add_comment(api: Api, author: str, slug: str, text: str = "Nice one") -> dict[str, Any]:
    """Add a comment that must be valid; returns it."""
    response = api.graphql(ADD_COMMENT, {"slug": slug, "body": text}, as_user=author)
    added: dict[str, Any] = data(response)["addComment"]
    return added


def follow(api: Api, follower: str, followee: str) -> None:
    data(api.graphql(FOLLOW, {"username": followee}, as_user=follower))


def like(api: Api, liker: str, slug: str) -> dict[str, Any]:
    liked: dict[str, Any] = data(api.graphql(LIKE, {"slug": slug}, as_user=liker))["likeArticle"]
    return liked


def post(
    api: Api, query: str, variables: dict[str, Any] | None = None, **headers: str
) -> dict[str, Any]:
    """POST an operation with these exact headers (`Authorization=...`); the response body."""
    response = api.http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def app_of_its_own(settings: Settings) -> Iterator[Api]:
    """A running app like the `api` fixture's, for module-scoped fixtures (on
    `module_settings`): data that several tests only read is then written once."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield Api(http)
