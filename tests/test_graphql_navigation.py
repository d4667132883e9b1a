"""GraphQL: navigating from a profile to its articles, the articles it likes and its follow
counts, and from the viewer to their own profile and feed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api
from tests.graphql_ops import assert_error, data

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

BAD_FIRST = {"first": ["must be between 1 and 100"]}
BAD_CURSOR = {"after": ["is not a valid cursor"]}
PROFILE_ARTICLES = """
query($username: String!, $first: Int!, $after: String) {
  profile(username: $username) {
    username followersCount followingCount
    articles(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { slug author { username } }
    }
    likedArticles(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { slug favorited }
    }
  }
}"""
VIEWER = """
query($first: Int!) {
  viewer {
    username
    profile { username following followersCount followingCount articles(first: 1) { totalCount } }
    feed(first: $first) { totalCount nodes { slug author { username following } } }
  }
}"""


def follow(api: Api, follower: str, followee: str) -> None:
    response = api.http.post(f"/api/profiles/{followee}/follow", headers=api.auth(follower))
    assert response.status_code == 200, response.text


def like(api: Api, user: str, slug: str) -> None:
    response = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(user))
    assert response.status_code == 200, response.text


def profile(api: Api, username: str, first: int = 20, after: str | None = None) -> dict[str, Any]:
    variables = {"username": username, "first": first, "after": after}
    body = api.graphql(PROFILE_ARTICLES, variables, as_user=username)
    found: dict[str, Any] = data(body)["profile"]
    return found


def test_a_profile_lists_its_articles_and_likes_newest_first_with_counts(api: Api) -> None:
    alice, bob, carol = api.register("alice"), api.register("bob"), api.register("carol")
    alices = [api.publish(alice, f"Alice {i}") for i in range(3)]
    bobs = [api.publish(bob, f"Bob {i}") for i in range(2)]
    for slug in (alices[0], bobs[1], alices[2]):
        like(api, alice, slug)
    follow(api, alice, bob)
    follow(api, carol, alice)
    follow(api, bob, alice)

    found = profile(api, alice)
    assert (found["followersCount"], found["followingCount"]) == (2, 1)
    articles = found["articles"]
    assert articles["totalCount"] == 3
    assert [n["slug"] for n in articles["nodes"]] == alices[::-1]
    assert {n["author"]["username"] for n in articles["nodes"]} == {alice}
    liked = found["likedArticles"]
    assert liked["totalCount"] == 3
    assert [n["slug"] for n in liked["nodes"]] == [bobs[1], alices[2], alices[0]]
    assert all(n["favorited"] for n in liked["nodes"])

    found = profile(api, carol)
    assert (found["followersCount"], found["followingCount"]) == (0, 1)
    assert found["articles"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [],
    }
    assert found["likedArticles"]["totalCount"] == 0


def test_a_profiles_lists_page_with_cursors(api: Api) -> None:
    alice = api.register("alice")
    slugs = [api.publish(alice, f"Alice {i}") for i in range(5)][::-1]
    for slug in slugs:
        like(api, alice, slug)
    for field in ("articles", "likedArticles"):
        seen: list[str] = []
        after = None
        while True:
            page = profile(api, alice, first=2, after=after)[field]
            assert page["totalCount"] == 5
            seen += [n["slug"] for n in page["nodes"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == slugs, field


def test_a_deleted_article_leaves_the_lists_of_its_likers(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    kept, gone = api.publish(alice, "Kept"), api.publish(alice, "Gone")
    like(api, bob, kept)
    like(api, bob, gone)
    response = api.http.delete(f"/api/articles/{gone}", headers=api.auth(alice))
    assert response.status_code in (200, 204), response.text

    liked = profile(api, bob)["likedArticles"]
    assert (liked["totalCount"], [n["slug"] for n in liked["nodes"]]) == (1, [kept])
    assert profile(api, alice)["articles"]["totalCount"] == 1


def test_profiles_in_a_list_each_show_their_own(api: Api) -> None:
    authors = [api.register(f"writer{i}") for i in range(3)]
    published = {
        a: [api.publish(a, f"{a} {i}") for i in range(i + 1)] for i, a in enumerate(authors)
    }
    follow(api, authors[0], authors[2])
    query = """
    { articles(first: 20) { nodes { author {
        username followersCount articles(first: 2) { totalCount nodes { slug } } } } } }"""
    nodes = data(api.graphql(query))["articles"]["nodes"]
    assert len(nodes) == 6
    for node in nodes:
        author = node["author"]
        mine = published[author["username"]]
        assert author["articles"]["totalCount"] == len(mine)
        assert [n["slug"] for n in author["articles"]["nodes"]] == mine[::-1][:2]
        assert author["followersCount"] == (1 if author["username"] == authors[2] else 0)


def test_the_viewer_reaches_their_profile_and_feed(api: Api) -> None:
    reader, writer, other = api.register("reader"), api.register("writer"), api.register("other")
    written = [api.publish(writer, f"Written {i}") for i in range(3)]
    api.publish(other, "Not followed")
    api.publish(reader, "Own")
    follow(api, reader, writer)
    follow(api, other, reader)

    viewer = data(api.graphql(VIEWER, {"first": 2}, as_user=reader))["viewer"]
    assert viewer["username"] == reader
    assert viewer["profile"] == {
        "username": reader,
        "following": False,
        "followersCount": 1,
        "followingCount": 1,
        "articles": {"totalCount": 1},
    }
    feed = viewer["feed"]
    assert feed["totalCount"] == 3
    assert [n["slug"] for n in feed["nodes"]] == written[::-1][:2]
    assert all(n["author"] == {"username": writer, "following": True} for n in feed["nodes"])
    # The same as Query.feed.
    same = data(api.graphql("{ feed(first: 2) { totalCount nodes { slug } } }", as_user=reader))
    assert [n["slug"] for n in same["feed"]["nodes"]] == [n["slug"] for n in feed["nodes"]]

    # Anonymous: there is no viewer to navigate from.
    assert data(api.graphql(VIEWER, {"first": 2})) == {"viewer": None}


def test_bad_pages_and_unknown_profiles_are_errors(api: Api) -> None:
    alice = api.register("alice")
    api.publish(alice, "One")
    for field in ("articles", "likedArticles"):
        query = (
            'query($first: Int!, $after: String) { profile(username: "alice") { '
            f"{field}(first: $first, after: $after) {{ totalCount }} }} }}"
        )
        body = api.graphql(query, {"first": 0})
        assert_error(body, "BAD_USER_INPUT", BAD_FIRST)
        body = api.graphql(query, {"first": 101})
        assert_error(body, "BAD_USER_INPUT", BAD_FIRST)
        body = api.graphql(query, {"first": 5, "after": "not-a-cursor"})
        assert_error(body, "BAD_USER_INPUT", BAD_CURSOR)
    feed = "query($after: String) { viewer { feed(first: 5, after: $after) { totalCount } } }"
    assert_error(api.graphql(feed, {"after": "bad"}, as_user=alice), "BAD_USER_INPUT", BAD_CURSOR)

    body = api.graphql(PROFILE_ARTICLES, {"username": "nobody", "first": 5})
    assert_error(body, "NOT_FOUND", {"profile": ["not found"]})
    assert body["data"] == {"profile": None}


def test_the_guides_navigation_example_runs(api: Api) -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "graphql.md").read_text()
    example = guide[guide.index("query Navigate {") :]
    example = example[: example.index("```")]
    alice = api.register("alice")
    api.publish(alice, "One")
    body = api.graphql(example, as_user=alice)
    found = data(body)
    assert found["articles"]["nodes"][0]["author"]["articles"]["totalCount"] == 1
    assert found["viewer"]["profile"]["articles"] == {"totalCount": 1}
    assert body["extensions"]["cost"]["nodes"] == 120 + 5 + 10
