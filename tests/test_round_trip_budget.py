"""The round-trip budget: a page costs a fixed number of store round trips whatever its size.

Each SQL engine counts the statements it sends and `RequestTracking` reports the count of the
request in `X-Store-Round-Trips`. One app grows its data from 5 to 20 to 50 articles (by several
authors, some followed by the reader, some liked, most tagged) and after each step every list is
read with a page as large as the data: the count must be the same each time, and within budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from app import create_app
from config import Settings
from tests.conftest import Api

SIZES = (5, 20, 50)
READER = "reader"
FAN = "fan"
AUTHORS = ("author0", "author1", "author2", "author3")
FOLLOWED = ("author0", "author1")
ROUND_TRIPS = "X-Store-Round-Trips"

ARTICLE_FIELDS = """
    totalCount
    edges {
      cursor
      node {
        id slug title description createdAt tagList favorited favoritesCount
        author { username image following }
      }
    }
    pageInfo { hasNextPage endCursor }
"""
HOME_PAGE = "query Home($n: Int!) { articles(first: $n) {" + ARTICLE_FIELDS + "} }"
# Each article of the page with its newest comments: one read of all their comments.
WITH_COMMENTS = """
query WithComments($n: Int!) {
  articles(first: $n) {
    nodes {
      slug
      comments(first: 3) {
        totalCount
        nodes { id body author { username following } }
        pageInfo { hasNextPage }
      }
    }
  }
}
"""
# The same articles and comments again by their global ids, as a client cache refetches them.
NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on Article {
      slug title description createdAt tagList favorited favoritesCount
      author { username image following }
    }
    ... on Comment { body author { username following } }
  }
}
"""
FEED = "query Feed($n: Int!) { feed(first: $n) {" + ARTICLE_FIELDS + "} }"
COMMENTS = """
query Comments($slug: String!, $n: Int!) {
  article(slug: $slug) {
    comments(first: $n) {
      totalCount
      edges { cursor node { id body createdAt author { username image following } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

# From each article of a page to its author's own newest articles and follow counts.
NAVIGATION = """
query Navigation($n: Int!) {
  articles(first: $n) {
    nodes {
      slug
      author {
        username
        articles(first: 3) { totalCount nodes { title } }
        likedArticles(first: 2) { totalCount nodes { title } }
        followersCount
        followingCount
      }
    }
  }
}
"""
VIEWER = """
query Viewer($n: Int!) {
  viewer { profile { username followingCount } feed(first: $n) { totalCount nodes { slug } } }
}
"""
BY_AUTHOR = """
query ByAuthor($n: Int!, $author: String!) {
  articles(first: $n, author: $author) { totalCount nodes { title } }
  liked: articles(first: 2, likedBy: $author) { totalCount nodes { title } }
}
"""

# A signed-in request reads its viewer once, to check the token against their credentials.
VIEWER_CHECK = 1
# What each list may cost, at most, signed in or not (a feed needs the followees first).
BUDGETS = {
    "graphql articles, signed in": 6 + VIEWER_CHECK,
    "graphql articles, anonymous": 6,
    "graphql feed, signed in": 7 + VIEWER_CHECK,
    "graphql articles with comments, signed in": 6 + VIEWER_CHECK,
    "graphql articles with comments, anonymous": 6,
    # The articles, then their parts as on a page: tags, authors, likes, and (for a viewer)
    # following. On DynamoDB too: a batch of ids is one BatchGetItem.
    "graphql nodes of articles, signed in": 5 + VIEWER_CHECK,
    "graphql nodes of articles, anonymous": 4,
    # The comments, their articles (a deleted article's comments are hidden), their authors,
    # and (for a viewer) following.
    "graphql nodes of comments, signed in": 4 + VIEWER_CHECK,
    "graphql nodes of comments, anonymous": 3,
    "rest articles, signed in": 6 + VIEWER_CHECK,
    "rest articles, anonymous": 6,
    "rest feed, signed in": 7 + VIEWER_CHECK,
}

# Reading the comments of a page of articles: one statement on SQL; on DynamoDB one Query per
# article (each article's comments are a partition of their own), sent all at once.
COMMENT_QUERIES_PER_ARTICLE = {"sqlite": 0, "postgresql": 0, "dynamodb": 1}

# Navigating from a page's authors: one statement per list or count on SQL; on DynamoDB, per
# author, one Query of their articles, one of their likes and two COUNT Queries (followers
# and followees), all sent at once.
QUERIES_PER_AUTHOR = {"sqlite": 0, "postgresql": 0, "dynamodb": 4}
# The page, its authors, their articles, their counts, their likes (which ones, where they
# sit, the page's articles), their follow counts; signed in, also whether the viewer follows
# each author.
NAVIGATION_BUDGET = 8
FOLLOWING_CHECK = 1
# The viewer, their followees, the feed's page and count, and their follow counts; on
# DynamoDB the page is a Query per followee, and the follow counts two COUNT Queries.
VIEWER_BUDGET = 4 + VIEWER_CHECK
FEED_QUERIES_PER_FOLLOWEE = {"sqlite": 0, "postgresql": 0, "dynamodb": 1}

# Round trips of finding a user by name or an article by slug: one statement, or on DynamoDB
# the name's claim item and then the item it names.
LOOKUP_BY_NAME = {"sqlite": 1, "postgresql": 1, "dynamodb": 2}


def trips(response: Any) -> int:
    assert response.status_code == 200, response.text
    return int(response.headers[ROUND_TRIPS])


@pytest.fixture(scope="module")
def cheap_hashes() -> Iterator[None]:
    """Registering dozens of users is slow with production-strength Argon2, and hashing is not
    what this module measures: use the cheapest Argon2id parameters while it runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "auth.passwords._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield


def graphql(
    api: Api, query: str, n: int, as_user: str | None, **variables: Any
) -> tuple[int, dict[str, Any]]:
    headers = {} if as_user is None else {"Authorization": f"Bearer {api.tokens[as_user]}"}
    response = api.http.post(
        "/graphql", json={"query": query, "variables": {"n": n, **variables}}, headers=headers
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return trips(response), body["data"]


def rest(api: Api, path: str, as_user: str | None) -> tuple[int, dict[str, Any]]:
    response = api.http.get(path, headers=api.auth(as_user))
    body: dict[str, Any] = response.json()
    return trips(response), body


def check_articles(nodes: list[dict[str, Any]], expected: int, *, signed_in: bool) -> None:
    """The page is whole and mixes every case the loaders answer (so the count is real)."""
    assert len(nodes) == expected
    following = {n["author"]["following"] for n in nodes}
    favorited = {n["favorited"] for n in nodes}
    assert {n["author"]["username"] for n in nodes} <= set(AUTHORS)
    assert any(n["tagList"] for n in nodes)
    assert any(n["favoritesCount"] > 0 for n in nodes)
    if signed_in:
        assert favorited == {True, False}
    else:
        assert following == {False}
        assert favorited == {False}


def feed_size(n: int) -> int:
    return sum(1 for i in range(n) if AUTHORS[i % len(AUTHORS)] in FOLLOWED)


def seed_up_to(api: Api, start: int, stop: int) -> None:
    for i in range(start, stop):
        author = AUTHORS[i % len(AUTHORS)]
        tags = [] if i % 5 == 4 else [f"tag{i % 3}", "common"]
        slug = api.publish(author, title=f"Article number {i}", tags=tags)
        if i % 3 == 0:
            response = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(READER))
            assert response.status_code == 200, response.text
        if i % 2 == 0:
            response = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(FAN))
            assert response.status_code == 200, response.text
        for commenter in (READER, FAN, AUTHORS[0], AUTHORS[2])[: i % 5]:
            response = api.http.post(
                f"/api/articles/{slug}/comments",
                json={"comment": {"body": f"{commenter} on {i}"}},
                headers=api.auth(commenter),
            )
            assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def module_api(module_settings: Settings, cheap_hashes: None) -> Iterator[Api]:
    """One app for the module, with the reader, a fan and the authors registered, and the
    reader following some authors."""
    with TestClient(create_app(module_settings)) as http:
        api = Api(http)
        for name in (READER, FAN, *AUTHORS):
            api.register(name)
        for name in FOLLOWED:
            response = api.http.post(f"/api/profiles/{name}/follow", headers=api.auth(READER))
            assert response.status_code == 200, response.text
        yield api


@pytest.fixture(scope="module")
def costs(module_api: Api) -> dict[str, dict[int, int]]:
    """Round trips of each list, by the number of articles it shows."""
    api = module_api
    measured: dict[str, dict[int, int]] = {name: {} for name in BUDGETS}
    seeded = 0
    for n in SIZES:
        seed_up_to(api, seeded, n)
        seeded = n
        for viewer, label in ((READER, "signed in"), (None, "anonymous")):
            cost, data = graphql(api, HOME_PAGE, n, viewer)
            page = data["articles"]
            assert page["totalCount"] == n
            assert page["pageInfo"]["hasNextPage"] is False
            check_articles([e["node"] for e in page["edges"]], n, signed_in=viewer is not None)
            measured[f"graphql articles, {label}"][n] = cost

            cost, body = rest(api, f"/api/articles?limit={n}", viewer)
            assert body["articlesCount"] == n
            check_articles(body["articles"], n, signed_in=viewer is not None)
            measured[f"rest articles, {label}"][n] = cost

            article_ids = [e["node"]["id"] for e in page["edges"]]
            cost, data = graphql(api, NODES, n, viewer, ids=article_ids)
            check_articles(data["nodes"], n, signed_in=viewer is not None)
            assert [a["id"] for a in data["nodes"]] == article_ids
            measured[f"graphql nodes of articles, {label}"][n] = cost

            cost, data = graphql(api, WITH_COMMENTS, n, viewer)
            check_comment_previews(data["articles"]["nodes"], n, signed_in=viewer is not None)
            measured[f"graphql articles with comments, {label}"][n] = cost

            previews = [c for a in data["articles"]["nodes"] for c in a["comments"]["nodes"]]
            comment_ids = [c["id"] for c in previews]
            cost, data = graphql(api, NODES, n, viewer, ids=comment_ids)
            assert data["nodes"] == previews
            measured[f"graphql nodes of comments, {label}"][n] = cost

        cost, data = graphql(api, FEED, n, READER)
        nodes = [e["node"] for e in data["feed"]["edges"]]
        assert data["feed"]["totalCount"] == len(nodes) == feed_size(n)
        assert {node["author"]["username"] for node in nodes} == set(FOLLOWED)
        assert all(node["author"]["following"] for node in nodes)
        measured["graphql feed, signed in"][n] = cost

        cost, body = rest(api, f"/api/articles/feed?limit={n}", READER)
        assert body["articlesCount"] == len(body["articles"]) == feed_size(n)
        assert all(a["author"]["following"] for a in body["articles"])
        measured["rest feed, signed in"][n] = cost
    return measured


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_a_page_costs_the_same_whatever_its_size(
    costs: dict[str, dict[int, int]], name: str, backend: str
) -> None:
    per_article = COMMENT_QUERIES_PER_ARTICLE[backend] if "with comments" in name else 0
    by_size = {n: trips - per_article * n for n, trips in costs[name].items()}
    assert sorted(by_size) == list(SIZES)
    assert len(set(by_size.values())) == 1, f"{name}: round trips by page size {by_size}"
    assert by_size[SIZES[0]] <= BUDGETS[name], f"{name}: {by_size}"
    # A page reads at least the articles, users and likes stores: a count below that would
    # mean the header does not count what the stores really do.
    assert by_size[SIZES[0]] >= 3, f"{name}: {by_size}"


def test_the_header_counts_real_round_trips(
    module_api: Api, costs: dict[str, dict[int, int]], backend: str
) -> None:
    api = module_api
    slug = api.http.get("/api/articles?limit=1").json()["articles"][0]["slug"]
    single = trips(api.http.get(f"/api/articles/{slug}"))
    assert single >= 1
    # Per request, not cumulative: asking twice costs the same twice.
    assert trips(api.http.get(f"/api/articles/{slug}")) == single
    # A request that reaches no store costs nothing.
    assert trips(api.http.get("/health")) == 0
    # A filter that resolves a username first costs that lookup more than the plain list.
    plain = trips(api.http.get("/api/articles?limit=5"))
    by_author = trips(api.http.get(f"/api/articles?limit=5&author={AUTHORS[0]}"))
    assert by_author == plain + LOOKUP_BY_NAME[backend]


def test_comment_lists_are_flat(module_api: Api, backend: str) -> None:
    """Comments by many different authors cost the same to list as comments by a few."""
    api = module_api
    # Listing comments finds their article by slug first.
    slug_lookup = LOOKUP_BY_NAME[backend] - 1
    commenters = [api.register() for _ in range(30)]
    few = api.publish(AUTHORS[0], title="Few comments")
    many = api.publish(AUTHORS[0], title="Many comments")
    for slug, count in ((few, 5), (many, 30)):
        for name in commenters[:count]:
            response = api.http.post(
                f"/api/articles/{slug}/comments",
                json={"comment": {"body": f"Comment by {name}"}},
                headers=api.auth(name),
            )
            assert response.status_code == 201, response.text
    follow = api.http.post(f"/api/profiles/{commenters[0]}/follow", headers=api.auth(READER))
    assert follow.status_code == 200, follow.text

    for viewer in (READER, None):
        rest_costs: dict[int, int] = {}
        graphql_costs: dict[int, int] = {}
        for slug, count in ((few, 5), (many, 30)):
            rest_costs[count], body = rest(api, f"/api/articles/{slug}/comments", viewer)
            check_comments(body["comments"], count, signed_in=viewer is not None)

            graphql_costs[count], data = graphql(api, COMMENTS, count, viewer, slug=slug)
            connection = data["article"]["comments"]
            assert connection["totalCount"] == count
            nodes = [e["node"] for e in connection["edges"]]
            check_comments(nodes, count, signed_in=viewer is not None)
        check = 0 if viewer is None else VIEWER_CHECK
        assert rest_costs[5] == rest_costs[30], (viewer, rest_costs)
        assert 3 <= rest_costs[5] <= 4 + slug_lookup + check, (viewer, rest_costs)
        assert graphql_costs[5] == graphql_costs[30], (viewer, graphql_costs)
        assert 3 <= graphql_costs[5] <= 5 + slug_lookup + check, (viewer, graphql_costs)


def check_comment_previews(articles: list[dict[str, Any]], n: int, *, signed_in: bool) -> None:
    """Every article shows its own newest comments (at most 3 of its 0 to 4), with authors."""
    assert len(articles) == n
    for article in articles:
        i = int(article["slug"].rsplit("-", 1)[1])
        comments = article["comments"]
        assert comments["totalCount"] == i % 5
        assert comments["pageInfo"]["hasNextPage"] == (i % 5 > 3)
        expected = [f"{c} on {i}" for c in (READER, FAN, AUTHORS[0], AUTHORS[2])[: i % 5]]
        assert [c["body"] for c in comments["nodes"]] == expected[::-1][:3]
    authors = [c["author"] for a in articles for c in a["comments"]["nodes"]]
    assert {a["following"] for a in authors} == ({True, False} if signed_in else {False})


def check_comments(comments: list[dict[str, Any]], count: int, *, signed_in: bool) -> None:
    assert len(comments) == count
    assert len({c["author"]["username"] for c in comments}) == count
    following = {c["author"]["following"] for c in comments}
    assert following == ({True, False} if signed_in else {False})


def test_navigating_from_a_page_of_authors_costs_the_same_whatever_its_size(
    module_api: Api, costs: dict[str, dict[int, int]], backend: str
) -> None:
    """Past `costs`, all the articles are there: pages of 20 and of 50 show every author."""
    api = module_api
    per_author = QUERIES_PER_AUTHOR[backend] * len(AUTHORS)
    slugs = [a["slug"] for a in rest(api, "/api/articles?limit=50", None)[1]["articles"]]
    for liker, liked in ((AUTHORS[0], slugs[:3]), (AUTHORS[2], slugs[5:30])):
        for slug in liked:
            response = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(liker))
            assert response.status_code == 200, response.text
    expected = {name: graphql(api, BY_AUTHOR, 3, None, author=name)[1] for name in AUTHORS}
    for viewer in (READER, None):
        by_size: dict[int, int] = {}
        for n in (20, 50):
            cost, data = graphql(api, NAVIGATION, n, viewer)
            nodes = data["articles"]["nodes"]
            assert len(nodes) == n
            for node in nodes:
                author = node["author"]
                own = expected[author["username"]]
                assert author["articles"] == own["articles"]
                assert author["likedArticles"] == own["liked"]
                assert author["followersCount"] == (1 if author["username"] in FOLLOWED else 0)
                assert author["followingCount"] == 0
            by_size[n] = cost - per_author
        check = 0 if viewer is None else VIEWER_CHECK + FOLLOWING_CHECK
        assert by_size[20] == by_size[50], (viewer, by_size)
        assert 3 <= by_size[20] <= NAVIGATION_BUDGET + check, (viewer, by_size)


def test_the_viewers_profile_and_feed_cost_a_fixed_budget(
    module_api: Api, costs: dict[str, dict[int, int]], backend: str
) -> None:
    api = module_api
    by_size: dict[int, int] = {}
    for n in (10, 20):
        cost, data = graphql(api, VIEWER, n, READER)
        viewer = data["viewer"]
        assert viewer["profile"]["username"] == READER
        followees = viewer["profile"]["followingCount"]
        assert followees >= len(FOLLOWED)
        feed = viewer["feed"]
        assert len(feed["nodes"]) == min(n, feed["totalCount"])
        by_size[n] = cost - FEED_QUERIES_PER_FOLLOWEE[backend] * followees
    assert by_size[10] == by_size[20], by_size
    assert 3 <= by_size[10] <= VIEWER_BUDGET, by_size
