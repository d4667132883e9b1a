"""Mixed backends: each domain on the backend its URL names, all serving one API. The
strangler migration runs this way for a while (one domain moved to DynamoDB, the rest still
on SQL), so every use case, the cross-domain cascade included, must work across the mix."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import DOMAINS
from tests import aws
from tests.conftest import TEST_BACKENDS, Api, settings_for, sqlite_urls
from tests.postgres import DatabaseSets

pytestmark = [
    pytest.mark.usefixtures("cheap_password_hashing", "aws_endpoint"),
    pytest.mark.skipif(
        "dynamodb" not in TEST_BACKENDS, reason="CONDUIT_TEST_BACKENDS leaves out dynamodb"
    ),
]


@contextmanager
def _mix(
    sqlite_domains: set[str],
    postgres_domains: set[str],
    tmp_path: Path,
    postgres: DatabaseSets | None,
) -> Iterator[dict[str, str]]:
    """A URL per domain: SQLite files, PostgreSQL databases, and new DynamoDB tables for the
    rest."""
    dynamodb = aws.fresh_table_urls()
    sqlite = sqlite_urls(tmp_path)
    urls = {d: sqlite[d] if d in sqlite_domains else dynamodb[d] for d in DOMAINS}
    if not postgres_domains:
        yield urls
        return
    assert postgres is not None
    lent = postgres.borrow()
    try:
        yield urls | {d: lent.urls()[d] for d in postgres_domains}
    finally:
        postgres.give_back(lent)


@pytest.fixture(
    params=[
        pytest.param(({"users"}, set()), id="users-on-sqlite-rest-on-dynamodb"),
        pytest.param(({"comments"}, {"users", "likes"}), id="sqlite-postgresql-and-dynamodb"),
    ]
)
def mixed_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    sqlite_domains, postgres_domains = request.param
    if postgres_domains and "postgresql" not in TEST_BACKENDS:
        pytest.skip("CONDUIT_TEST_BACKENDS leaves out postgresql")
    postgres = request.getfixturevalue("postgres") if postgres_domains else None
    with _mix(sqlite_domains, postgres_domains, tmp_path, postgres) as urls:
        settings = settings_for(urls, f"sqlite+aiosqlite:///{tmp_path}/unused.db")
        with TestClient(create_app(settings), raise_server_exceptions=False) as http:
            yield Api(http)


def test_every_domain_answers_ready(mixed_api: Api) -> None:
    response = mixed_api.http.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["stores"] == dict.fromkeys(DOMAINS, "ok")


def test_a_whole_session_works_across_backends(mixed_api: Api) -> None:
    api = mixed_api
    author, reader = api.register("author"), api.register("reader")
    follow = api.http.post(f"/api/profiles/{author}/follow", headers=api.auth(reader))
    assert follow.json()["profile"]["following"] is True
    slug = api.publish(author, title="Mixed stores", tags=["mix", "aws"])

    liked = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(reader))
    assert liked.json()["article"]["favoritesCount"] == 1
    comment = api.http.post(
        f"/api/articles/{slug}/comments",
        json={"comment": {"body": "Across three backends"}},
        headers=api.auth(reader),
    )
    assert comment.status_code == 201, comment.text

    feed = api.http.get("/api/articles/feed", headers=api.auth(reader)).json()
    assert [a["slug"] for a in feed["articles"]] == [slug]
    assert feed["articles"][0]["favorited"] is True
    assert feed["articles"][0]["author"] == {
        "username": author,
        "bio": None,
        "image": None,
        "following": True,
    }
    assert feed["articles"][0]["tagList"] == ["aws", "mix"]
    assert api.http.get("/api/tags").json() == {"tags": ["aws", "mix"]}

    body = api.graphql(
        """query($slug: String!) { article(slug: $slug) {
             favoritesCount favorited author { username following }
             comments(first: 5) { totalCount edges { node { body author { username } } } } } }""",
        {"slug": slug},
        as_user=reader,
    )
    article = body["data"]["article"]
    assert article["favoritesCount"] == 1
    assert article["favorited"] is True
    assert article["author"] == {"username": author, "following": True}
    assert article["comments"]["totalCount"] == 1
    assert article["comments"]["edges"][0]["node"] == {
        "body": "Across three backends",
        "author": {"username": reader},
    }


def test_deleting_an_article_clears_its_comments_and_likes_in_other_backends(
    mixed_api: Api,
) -> None:
    api = mixed_api
    author, reader = api.register("author"), api.register("reader")
    doomed = api.publish(author, title="Doomed", tags=["gone"])
    kept = api.publish(author, title="Kept", tags=["stays"])
    for slug in (doomed, kept):
        api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(reader))
        api.http.post(
            f"/api/articles/{slug}/comments",
            json={"comment": {"body": "a comment"}},
            headers=api.auth(reader),
        )

    deleted = api.http.delete(f"/api/articles/{doomed}", headers=api.auth(author))
    assert deleted.status_code in (200, 204), deleted.text

    assert api.http.get(f"/api/articles/{doomed}").status_code == 404
    liked = api.http.get(f"/api/articles?favorited={reader}").json()
    assert [a["slug"] for a in liked["articles"]] == [kept]
    assert liked["articles"][0]["favoritesCount"] == 1
    assert api.http.get("/api/tags").json() == {"tags": ["stays"]}
    comments = api.http.get(f"/api/articles/{kept}/comments").json()["comments"]
    assert len(comments) == 1
