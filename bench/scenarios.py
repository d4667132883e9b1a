"""The pages the benchmark requests: each over REST and as the GraphQL query a client would send
for the same page (the same fields the REST answer carries)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PAGE = 20
AUTHOR = "author { username bio image following }"
LIST_ITEM = f"slug title description tagList createdAt updatedAt favorited favoritesCount {AUTHOR}"
CONNECTION = f"totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ {LIST_ITEM} }}"
# REST lists every comment of an article; GraphQL pages them: one page of the most it allows.
COMMENTS_PAGE = 100


@dataclass(frozen=True)
class Target:
    """What the pages are about: found in the seeded data set before the load starts."""

    token: str
    tag: str
    slug: str
    username: str


@dataclass(frozen=True)
class Scenario:
    page: str
    api: str
    request: dict[str, Any]


def scenarios(target: Target) -> list[Scenario]:
    signed_in = {"Authorization": f"Token {target.token}"}
    rest = {
        "list": _get("/api/articles"),
        "tag": _get(f"/api/articles?tag={target.tag}"),
        "feed": _get("/api/articles/feed", signed_in),
        "article": _get(f"/api/articles/{target.slug}"),
        "comments": _get(f"/api/articles/{target.slug}/comments"),
        "tags": _get("/api/tags"),
        "profile": _get(f"/api/profiles/{target.username}", signed_in),
    }
    graphql = {
        "list": _graphql(f"{{ articles(first: {PAGE}) {{ {CONNECTION} }} }}"),
        "tag": _graphql(
            f"query($tag: String!) {{ articles(first: {PAGE}, tag: $tag) {{ {CONNECTION} }} }}",
            {"tag": target.tag},
        ),
        "feed": _graphql(f"{{ feed(first: {PAGE}) {{ {CONNECTION} }} }}", headers=signed_in),
        "article": _graphql(
            f"query($slug: String!) {{ article(slug: $slug) {{ {LIST_ITEM} body }} }}",
            {"slug": target.slug},
        ),
        "comments": _graphql(
            "query($slug: String!) { article(slug: $slug) { comments(first: "
            f"{COMMENTS_PAGE}) {{ nodes {{ id createdAt updatedAt body {AUTHOR} }} }} }} }}",
            {"slug": target.slug},
        ),
        "tags": _graphql("{ tags }"),
        "profile": _graphql(
            "query($username: String!) { profile(username: $username) "
            "{ username bio image following } }",
            {"username": target.username},
            signed_in,
        ),
    }
    return [
        Scenario(page, api, requests[page])
        for page in rest
        for api, requests in (("REST", rest), ("GraphQL", graphql))
    ]


def _get(path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"method": "GET", "path": path, "headers": headers or {}}


def _graphql(
    query: str, variables: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/graphql",
        "json": {"query": query, "variables": variables or {}},
        "headers": headers or {},
    }


def describe(scenario: Scenario) -> str:
    """The request as one line, for BENCHMARKS.md."""
    request = scenario.request
    if "json" in request:
        return f"POST /graphql {json.dumps(request['json']['query'])}"
    return f"GET {request['path']}"
