"""A list reads the parts of its items (tags, authors, likes) a page at a time, and only the
parts its query selects: however the query selects them (aliases, fragments, directives), the
answer is the same, and a query that selects fewer parts costs fewer round trips."""

from __future__ import annotations

from typing import Any

import pytest

from schema import types
from tests.conftest import Api

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PLAIN = """{ articles(first: 10) { nodes {
  slug tagList favorited favoritesCount author { username following }
  comments(first: 5) { nodes { body author { username } } } } } }"""
# The same selection spelled every other way: aliases, a named fragment, an inline fragment,
# fields under directives, and edges instead of nodes.
SPELLED_OUT = """
query($yes: Boolean = true, $no: Boolean = false) {
  articles(first: 10) { edges { node {
    slug
    labels: tagList
    ...Likes
    ... on Article { writer: author { username following @include(if: $yes) } }
    comments(first: 5) { nodes { ... on Comment { body author @skip(if: $no) { username } } } }
  } } }
}
fragment Likes on Article { favorited liked: favoritesCount }
"""
SLUGS = "{ articles(first: 10) { nodes { slug } } }"


@pytest.fixture
def world(api: Api) -> Api:
    author, reader = api.register("author"), api.register("reader")
    for n in range(3):
        slug = api.publish(author, title=f"Article {n}", tags=[f"t{n}", "shared"])
        api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(reader))
        comment = {"comment": {"body": f"Nice {n}"}}
        api.http.post(f"/api/articles/{slug}/comments", json=comment, headers=api.auth(reader))
    api.http.post(f"/api/profiles/{author}/follow", headers=api.auth(reader))
    return api


# A signed-in request reads its viewer once, to check the token against their credentials.
VIEWER_CHECK = 1


def post(api: Api, query: str) -> tuple[dict[str, Any], int]:
    response = api.http.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Token {api.tokens['reader']}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"], int(response.headers["x-store-round-trips"])


def test_every_spelling_of_a_selection_reads_the_same_parts(world: Api) -> None:
    plain, plain_trips = post(world, PLAIN)
    spelled, spelled_trips = post(world, SPELLED_OUT)
    renamed = [
        {
            "slug": node["slug"],
            "tagList": node["labels"],
            "favorited": node["favorited"],
            "favoritesCount": node["liked"],
            "author": node["writer"],
            "comments": node["comments"],
        }
        for node in (edge["node"] for edge in spelled["articles"]["edges"])
    ]
    assert renamed == plain["articles"]["nodes"]
    assert plain["articles"]["nodes"][0]["author"] == {"username": "author", "following": True}
    assert {n["favoritesCount"] for n in plain["articles"]["nodes"]} == {1}
    assert spelled_trips == plain_trips


def test_a_query_pays_only_for_the_parts_it_selects(world: Api) -> None:
    _, everything = post(world, PLAIN)
    slugs, only_slugs = post(world, SLUGS)
    assert len(slugs["articles"]["nodes"]) == 3
    assert only_slugs == 1 + VIEWER_CHECK
    assert everything > only_slugs + 3  # tags, authors, following, likes, comments...


def test_a_single_article_and_a_mutation_read_their_parts_too(world: Api) -> None:
    slug = world.http.get("/api/articles?limit=1").json()["articles"][0]["slug"]
    query = f'{{ article(slug: "{slug}") {{ tagList author {{ username }} favoritesCount }} }}'
    found, _ = post(world, query)
    assert found["article"] == {
        "tagList": ["shared", "t2"],
        "author": {"username": "author"},
        "favoritesCount": 1,
    }
    liked, _ = post(world, f'mutation {{ unlikeArticle(slug: "{slug}") {{ favorited }} }}')
    assert liked == {"unlikeArticle": {"favorited": False}}


def test_a_part_not_read_is_an_error_never_an_empty_answer(
    world: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the selection misread, the field would be null where the schema promises a value:
    GraphQL reports that as an error (masked), instead of answering with no tags."""
    monkeypatch.setattr(types, "selected_names", lambda *args: set())
    response = world.http.post("/graphql", json={"query": SLUGS.replace("slug", "slug tagList")})
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
