"""Storms of truly concurrent requests against a real server: uvicorn with two worker
processes on PostgreSQL (one database per domain, as in production), and one worker on SQLite
files. Every storm must end in exactly the state its requests imply, read back both through
the API and straight from the database, and no request may get a 5xx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest

from config import DOMAINS
from tests import postgres
from tests.live import read_value, uvicorn_server

pytestmark = pytest.mark.anyio

CROWD = 50
# Registrations at once while the crowd signs up: Argon2 makes each cost ~0.1 s of CPU.
SIGN_UP_BATCH = 10
TAKEN = "has already been taken"
LIKE = "mutation Like($slug: String!) { likeArticle(slug: $slug) { favoritesCount } }"


@dataclass(frozen=True)
class User:
    name: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


@dataclass(frozen=True)
class Server:
    base_url: str
    urls: dict[str, str]  # each domain's database, to read rows behind the server's back

    async def scalar(self, domain: str, sql: str, **params: Any) -> Any:
        return await read_value(self.urls[domain], sql, **params)

    async def user_id(self, user: User) -> int:
        found: int = await self.scalar(
            "users", "SELECT id FROM users WHERE username = :n", n=user.name
        )
        return found


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        urls = {d: f"sqlite+aiosqlite:///{directory / d}.db" for d in DOMAINS}
        yield from _served(urls, workers=1, log=directory / "server.log")
        return
    if not postgres.is_available():
        pytest.skip(f"no PostgreSQL server at {postgres.ADMIN_DSN}")
    with postgres.fresh_databases(len(DOMAINS)) as names:
        urls = {d: postgres.server_url(n) for d, n in zip(DOMAINS, names, strict=True)}
        yield from _served(urls, workers=2, log=directory / "server.log")


def _served(urls: dict[str, str], workers: int, log: Path) -> Iterator[Server]:
    # Development mode: each worker brings the fresh databases to the latest schema on start.
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {"CONDUIT_JWT_SECRET": "concurrency-test-secret-" * 2, "CONDUIT_LOG_LEVEL": "WARNING"}
    with uvicorn_server(env, workers, log) as base_url:
        yield Server(base_url, urls)


@pytest.fixture(scope="module")
def crowd(server: Server) -> list[User]:
    """CROWD users, registered through the server."""
    return asyncio.run(_sign_up(server, CROWD))


async def _sign_up(server: Server, count: int) -> list[User]:
    users: list[User] = []
    async with _client(server) as http:
        while len(users) < count:
            names = [_unique("u") for _ in range(min(SIGN_UP_BATCH, count - len(users)))]
            responses = await asyncio.gather(
                *(_register(http, n, f"{n}@example.com") for n in names)
            )
            assert [r.status_code for r in responses] == [201] * len(names)
            users += [
                User(n, r.json()["user"]["token"]) for n, r in zip(names, responses, strict=True)
            ]
    return users


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx2.AsyncClient]:
    async with _client(server) as client:
        yield client


def _client(server: Server) -> httpx2.AsyncClient:
    # Generous: a storm queues on two CPU cores, Argon2 hashing included.
    return httpx2.AsyncClient(base_url=server.base_url, timeout=60)


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def _register(http: httpx2.AsyncClient, username: str, email: str) -> httpx2.Response:
    user = {"username": username, "email": email, "password": "password123"}
    return await http.post("/api/users", json={"user": user})


async def _publish(http: httpx2.AsyncClient, author: User, title: str) -> httpx2.Response:
    article = {"title": title, "description": "d", "body": "b", "tagList": ["storm"]}
    return await http.post("/api/articles", json={"article": article}, headers=author.auth)


async def _published(http: httpx2.AsyncClient, author: User) -> str:
    response = await _publish(http, author, _unique("Storm "))
    assert response.status_code == 201, response.text
    slug: str = response.json()["article"]["slug"]
    return slug


async def _storm(*requests: Awaitable[httpx2.Response]) -> list[httpx2.Response]:
    """Every request at once; none may fail with a server error."""
    responses = await asyncio.gather(*requests)
    failed = [(r.status_code, r.text) for r in responses if r.status_code >= 500]
    assert not failed, failed
    return responses


async def test_fifty_users_like_one_article_at_once(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    slug = await _published(http, crowd[0])
    half = CROWD // 2
    # Half through REST, half through GraphQL: both reach the same use case and store.
    responses = await _storm(
        *(http.post(f"/api/articles/{slug}/favorite", headers=u.auth) for u in crowd[:half]),
        *(
            http.post("/graphql", json={"query": LIKE, "variables": {"slug": slug}}, headers=u.auth)
            for u in crowd[half:]
        ),
    )

    assert [r.status_code for r in responses] == [200] * CROWD
    assert [r.json().get("errors") for r in responses[half:]] == [None] * (CROWD - half)
    article = (await http.get(f"/api/articles/{slug}")).json()["article"]
    assert article["favoritesCount"] == CROWD
    article_id = await server.scalar("articles", "SELECT id FROM articles WHERE slug = :s", s=slug)
    rows = await server.scalar(
        "likes", "SELECT count(*) FROM likes WHERE article_id = :a", a=article_id
    )
    assert rows == CROWD


async def test_like_unlike_storms_end_in_each_users_last_call(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    slug = await _published(http, crowd[0])
    stormers = crowd[:5]
    path = f"/api/articles/{slug}/favorite"
    responses = await _storm(
        *(
            http.request("POST" if i % 2 == 0 else "DELETE", path, headers=u.auth)
            for i in range(10)
            for u in stormers
        )
    )
    assert [r.status_code for r in responses] == [200] * len(responses)
    article_id = await server.scalar("articles", "SELECT id FROM articles WHERE slug = :s", s=slug)
    count_likes = "SELECT count(*) FROM likes WHERE article_id = :a AND user_id = :u"
    for user in stormers:
        rows = await server.scalar("likes", count_likes, a=article_id, u=await server.user_id(user))
        assert rows in (0, 1)

    # One last call each, all at once: the first three like it, the other two do not.
    finals = await _storm(
        *(
            http.request("POST" if i < 3 else "DELETE", path, headers=u.auth)
            for i, u in enumerate(stormers)
        )
    )

    assert [r.json()["article"]["favorited"] for r in finals] == [True] * 3 + [False] * 2
    for i, user in enumerate(stormers):
        rows = await server.scalar("likes", count_likes, a=article_id, u=await server.user_id(user))
        seen = (await http.get(f"/api/articles/{slug}", headers=user.auth)).json()["article"]
        assert (rows, seen["favorited"]) == ((1, True) if i < 3 else (0, False))
        assert seen["favoritesCount"] == 3


async def test_one_username_registered_twenty_times_at_once(
    server: Server, http: httpx2.AsyncClient
) -> None:
    name = _unique("same")
    responses = await _storm(*(_register(http, name, f"{name}.{i}@example.com") for i in range(20)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert refusals == [{"errors": {"username": [TAKEN]}}] * 19
    assert (
        await server.scalar("users", "SELECT count(*) FROM users WHERE username = :n", n=name) == 1
    )


async def test_one_email_registered_twenty_times_at_once(
    server: Server, http: httpx2.AsyncClient
) -> None:
    email = f"{_unique('same')}@example.com"
    responses = await _storm(*(_register(http, _unique("u"), email) for _ in range(20)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert refusals == [{"errors": {"email": [TAKEN]}}] * 19
    assert await server.scalar("users", "SELECT count(*) FROM users WHERE email = :e", e=email) == 1


async def test_ten_articles_with_one_title_at_once_get_ten_slugs(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    title = _unique("Same title ")
    responses = await _storm(*(_publish(http, crowd[i % 2], title) for i in range(10)))

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["article"]["slug"] for r in responses}) == 10
    rows = await server.scalar(
        "articles", "SELECT count(*) FROM articles WHERE title = :t", t=title
    )
    assert rows == 10


async def test_follow_unfollow_storms_leave_profile_feed_and_rows_agreeing(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    author, followers = crowd[-1], crowd[-11:-1]
    slug = await _published(http, author)
    author_id = await server.user_id(author)
    path = f"/api/profiles/{author.name}/follow"

    async def agreed_state(follower: User) -> bool:
        """Whether `follower` follows the author, as the row, the profile and the feed agree."""
        row = await server.scalar(
            "users",
            "SELECT count(*) FROM follows WHERE follower_id = :f AND followee_id = :a",
            f=await server.user_id(follower),
            a=author_id,
        )
        profile = (await http.get(f"/api/profiles/{author.name}", headers=follower.auth)).json()
        feed = (await http.get("/api/articles/feed", headers=follower.auth)).json()
        in_feed = slug in [a["slug"] for a in feed["articles"]]
        assert (row, profile["profile"]["following"], in_feed) in (
            (0, False, False),
            (1, True, True),
        )
        return bool(row)

    responses = await _storm(
        *(
            http.request("POST" if i % 2 == 0 else "DELETE", path, headers=f.auth)
            for i in range(5)
            for f in followers
        )
    )
    assert [r.status_code for r in responses] == [200] * len(responses)
    for follower in followers:
        await agreed_state(follower)

    # One last call each, all at once: every other follower follows.
    finals = await _storm(
        *(
            http.request("POST" if i % 2 == 0 else "DELETE", path, headers=f.auth)
            for i, f in enumerate(followers)
        )
    )

    assert [r.json()["profile"]["following"] for r in finals] == [True, False] * 5
    assert [await agreed_state(f) for f in followers] == [True, False] * 5
