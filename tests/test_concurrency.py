"""Storms of truly concurrent requests against a real server: uvicorn with two worker
processes on PostgreSQL (one database per domain, as in production) and on DynamoDB (a table
per domain, in a moto server), and one worker on SQLite files. Every storm must end in exactly
the state its requests imply, read back both through the API and straight from the database,
and no request may get a 5xx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import boto3
import httpx2
import pytest

from config import DOMAINS
from models.pages import Window
from stores.factory import OpenStores
from tests import aws, postgres
from tests.conftest import TEST_BACKENDS
from tests.live import read_value, uvicorn_server

# slow: left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CROWD = 50
# Registrations at once while the crowd signs up: Argon2 makes each cost ~0.1 s of CPU.
SIGN_UP_BATCH = 10
TAKEN = "has already been taken"
LIKE = "mutation Like($slug: String!) { likeArticle(slug: $slug) { favoritesCount } }"
COMMENT = 'mutation Comment($slug: String!) { addComment(slug: $slug, body: "Mine!") { id } }'
DELETE = "mutation Delete($slug: String!) { deleteArticle(slug: $slug) { slug } }"
# Rounds of comments and likes racing their article's deletion, writers in each round, and
# when each write and the deletion are sent, in seconds.
DELETION_RACES = 12
RACERS = 10
WRITES_APART = 0.002
DELETION_AFTER = 0.01


@dataclass(frozen=True)
class User:
    name: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


class Rows(Protocol):
    """What the server wrote, read straight from its databases, behind its back."""

    async def user_id(self, username: str) -> int: ...

    async def users_named(self, username: str) -> int: ...

    async def users_with_email(self, email: str) -> int: ...

    async def article_id(self, slug: str) -> int: ...

    async def articles_titled(self, title: str) -> int: ...

    async def likes(self, article_id: int, user_id: int | None = None) -> int: ...

    async def follows(self, follower_id: int, followee_id: int) -> int: ...


@dataclass(frozen=True)
class SqlRows:
    urls: dict[str, str]  # each domain's database

    async def _scalar(self, domain: str, sql: str, **params: Any) -> Any:
        return await read_value(self.urls[domain], sql, **params)

    async def user_id(self, username: str) -> int:
        found: int = await self._scalar(
            "users", "SELECT id FROM users WHERE username = :n", n=username
        )
        return found

    async def users_named(self, username: str) -> int:
        sql = "SELECT count(*) FROM users WHERE username = :n"
        return int(await self._scalar("users", sql, n=username))

    async def users_with_email(self, email: str) -> int:
        return int(
            await self._scalar("users", "SELECT count(*) FROM users WHERE email = :e", e=email)
        )

    async def article_id(self, slug: str) -> int:
        found: int = await self._scalar(
            "articles", "SELECT id FROM articles WHERE slug = :s", s=slug
        )
        return found

    async def articles_titled(self, title: str) -> int:
        sql = "SELECT count(*) FROM articles WHERE title = :t"
        return int(await self._scalar("articles", sql, t=title))

    async def likes(self, article_id: int, user_id: int | None = None) -> int:
        sql = "SELECT count(*) FROM likes WHERE article_id = :a"
        if user_id is None:
            return int(await self._scalar("likes", sql, a=article_id))
        return int(await self._scalar("likes", f"{sql} AND user_id = :u", a=article_id, u=user_id))

    async def follows(self, follower_id: int, followee_id: int) -> int:
        sql = "SELECT count(*) FROM follows WHERE follower_id = :f AND followee_id = :a"
        return int(await self._scalar("users", sql, f=follower_id, a=followee_id))


@dataclass(frozen=True)
class DynamoRows:
    """Items as stores/dynamodb/tables.py lays them out. Scans are fine here: a test reading
    behind the server's back, not a request path."""

    tables: dict[str, str]  # each domain's table

    async def _call(self, operation: str, domain: str, **arguments: Any) -> dict[str, Any]:
        client = boto3.client("dynamodb")
        method = getattr(client, operation)
        found: dict[str, Any] = await asyncio.to_thread(
            method, TableName=self.tables[domain], **arguments
        )
        return found

    async def _number(self, domain: str, pk: str, sk: str, attribute: str) -> int:
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        item = (await self._call("get_item", domain, Key=key, ConsistentRead=True))["Item"]
        return int(item[attribute]["N"])

    async def _exists(self, domain: str, pk: str, sk: str) -> int:
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        found = await self._call("get_item", domain, Key=key, ConsistentRead=True)
        return int("Item" in found)

    async def _counted(self, domain: str, sk: str, attribute: str, value: str) -> int:
        count = 0
        pages: dict[str, Any] = {}
        while True:
            page = await self._call(
                "scan",
                domain,
                FilterExpression="sk = :sk AND #a = :v",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":sk": {"S": sk}, ":v": {"S": value}},
                ConsistentRead=True,
                **pages,
            )
            count += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return count
            pages = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    async def user_id(self, username: str) -> int:
        return await self._number("users", f"USERNAME#{username}", "USERNAME", "user_id")

    async def users_named(self, username: str) -> int:
        return await self._counted("users", "USER", "username", username)

    async def users_with_email(self, email: str) -> int:
        return await self._counted("users", "USER", "email", email)

    async def article_id(self, slug: str) -> int:
        return await self._number("articles", f"SLUG#{slug}", "SLUG", "article_id")

    async def articles_titled(self, title: str) -> int:
        return await self._counted("articles", "ARTICLE", "title", title)

    async def likes(self, article_id: int, user_id: int | None = None) -> int:
        if user_id is not None:
            return await self._exists("likes", f"ARTICLE#{article_id}", f"USER#{user_id}")
        page = await self._call(
            "query",
            "likes",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :like)",
            ExpressionAttributeValues={
                ":pk": {"S": f"ARTICLE#{article_id}"},
                ":like": {"S": "USER#"},
            },
            Select="COUNT",
            ConsistentRead=True,
        )
        return int(page["Count"])

    async def follows(self, follower_id: int, followee_id: int) -> int:
        return await self._exists("users", f"USER#{follower_id}", f"FOLLOWS#{followee_id}")


@dataclass(frozen=True)
class Server:
    base_url: str
    rows: Rows
    urls: dict[str, str]  # each domain's database or table, to open its stores

    async def user_id(self, user: User) -> int:
        return await self.rows.user_id(user.name)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["postgresql", "sqlite", "dynamodb"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp(request.param)
    log = directory / "server.log"
    if request.param not in TEST_BACKENDS:
        pytest.skip(f"CONDUIT_TEST_BACKENDS leaves out {request.param}")
    if request.param == "sqlite":
        urls = {d: f"sqlite+aiosqlite:///{directory / d}.db" for d in DOMAINS}
        yield from _served(urls, SqlRows(urls), workers=1, log=log)
        return
    if request.param == "dynamodb":
        request.getfixturevalue("aws_endpoint")
        urls = aws.fresh_table_urls()
        tables = {d: url.removeprefix("dynamodb://") for d, url in urls.items()}
        yield from _served(urls, DynamoRows(tables), workers=2, log=log)
        return
    if not postgres.is_available():
        pytest.skip(f"no PostgreSQL server at {postgres.ADMIN_DSN}")
    with postgres.fresh_databases(len(DOMAINS)) as names:
        urls = {d: postgres.server_url(n) for d, n in zip(DOMAINS, names, strict=True)}
        yield from _served(urls, SqlRows(urls), workers=2, log=log)


def _served(urls: dict[str, str], rows: Rows, workers: int, log: Path) -> Iterator[Server]:
    # Development mode: each worker brings the fresh databases (or tables) up to date on start.
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {"CONDUIT_JWT_SECRET": "concurrency-test-secret-" * 2, "CONDUIT_LOG_LEVEL": "WARNING"}
    env["CONDUIT_RATE_LIMITS"] = "off"  # the crowd signs up and writes from one address
    # As long as the clients wait: a storm queues on two cores (and on moto, which answers one
    # call at a time); the deadline itself is tested in test_request_deadline.py.
    env["CONDUIT_REQUEST_TIMEOUT_SECONDS"] = "60"
    with uvicorn_server(env, workers, log) as base_url:
        yield Server(base_url, rows, urls)


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
    article_id = await server.rows.article_id(slug)
    assert await server.rows.likes(article_id) == CROWD


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
    article_id = await server.rows.article_id(slug)
    for user in stormers:
        assert await server.rows.likes(article_id, await server.user_id(user)) in (0, 1)

    # One last call each, all at once: the first three like it, the other two do not.
    finals = await _storm(
        *(
            http.request("POST" if i < 3 else "DELETE", path, headers=u.auth)
            for i, u in enumerate(stormers)
        )
    )

    assert [r.json()["article"]["favorited"] for r in finals] == [True] * 3 + [False] * 2
    for i, user in enumerate(stormers):
        rows = await server.rows.likes(article_id, await server.user_id(user))
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
    assert await server.rows.users_named(name) == 1


async def test_one_name_in_four_spellings_registered_twenty_times_at_once(
    server: Server, http: httpx2.AsyncClient
) -> None:
    """Case and width make no other name, under a race too: one of the twenty wins."""
    name = _unique("same")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in name)
    spellings = [name, name.upper(), name.capitalize(), fullwidth]
    registering = (_register(http, spellings[i % 4], f"{name}.{i}@example.com") for i in range(20))
    responses = await _storm(*registering)

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert refusals == [{"errors": {"username": [TAKEN]}}] * 19
    assert sum([await server.rows.users_named(s) for s in spellings]) == 1


async def test_one_email_registered_twenty_times_at_once(
    server: Server, http: httpx2.AsyncClient
) -> None:
    email = f"{_unique('same')}@example.com"
    responses = await _storm(*(_register(http, _unique("u"), email) for _ in range(20)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    refusals = [r.json() for r in responses if r.status_code == 409]
    assert refusals == [{"errors": {"email": [TAKEN]}}] * 19
    assert await server.rows.users_with_email(email) == 1


async def test_ten_articles_with_one_title_at_once_get_ten_slugs(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    title = _unique("Same title ")
    responses = await _storm(*(_publish(http, crowd[i % 2], title) for i in range(10)))

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["article"]["slug"] for r in responses}) == 10
    assert await server.rows.articles_titled(title) == 10


async def test_follow_unfollow_storms_leave_profile_feed_and_rows_agreeing(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    author, followers = crowd[-1], crowd[-11:-1]
    slug = await _published(http, author)
    author_id = await server.user_id(author)
    path = f"/api/profiles/{author.name}/follow"

    async def agreed_state(follower: User) -> bool:
        """Whether `follower` follows the author, as the row, the profile and the feed agree."""
        row = await server.rows.follows(await server.user_id(follower), author_id)
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


async def test_comments_and_likes_racing_their_articles_deletion_leave_none_behind(
    server: Server, crowd: list[User], http: httpx2.AsyncClient
) -> None:
    """Every write lands before the deletion (and goes with the article) or after it (and is
    refused as for a missing article): no comment or like is left on a deleted article."""
    author, racers = crowd[0], crowd[1 : 1 + RACERS]
    deleted: list[int] = []
    for race in range(DELETION_RACES):
        slug = await _published(http, author)
        deleted.append(await server.rows.article_id(slug))
        # Half through REST, half through GraphQL, sent one after the other every few
        # milliseconds, and the deletion sent amid them.
        writes = [
            write(http, racer, slug, graphql=(i + k) % 2 == 0)
            for i, racer in enumerate(racers)
            for k, write in enumerate((_comment, _like))
        ]
        deletion = _delete(http, author, slug, graphql=race % 2 == 1)
        responses = await _storm(
            _after(DELETION_AFTER, deletion),
            *(_after(i * WRITES_APART, w) for i, w in enumerate(writes)),
        )
        outcomes = [_outcome(r) for r in responses]
        assert set(outcomes) <= {"done", "article not found"}, outcomes

    remains = await _left_of(server, deleted, [await server.user_id(r) for r in racers])
    assert remains == {"comments": {}, "likes": {}, "liked": []}


async def _after(delay: float, request: Awaitable[httpx2.Response]) -> httpx2.Response:
    await asyncio.sleep(delay)
    return await request


async def _comment(
    http: httpx2.AsyncClient, user: User, slug: str, *, graphql: bool
) -> httpx2.Response:
    if graphql:
        query = {"query": COMMENT, "variables": {"slug": slug}}
        return await http.post("/graphql", json=query, headers=user.auth)
    comment = {"comment": {"body": "Mine!"}}
    return await http.post(f"/api/articles/{slug}/comments", json=comment, headers=user.auth)


async def _like(
    http: httpx2.AsyncClient, user: User, slug: str, *, graphql: bool
) -> httpx2.Response:
    if graphql:
        query = {"query": LIKE, "variables": {"slug": slug}}
        return await http.post("/graphql", json=query, headers=user.auth)
    return await http.post(f"/api/articles/{slug}/favorite", headers=user.auth)


async def _delete(
    http: httpx2.AsyncClient, user: User, slug: str, *, graphql: bool
) -> httpx2.Response:
    if graphql:
        query = {"query": DELETE, "variables": {"slug": slug}}
        return await http.post("/graphql", json=query, headers=user.auth)
    return await http.delete(f"/api/articles/{slug}", headers=user.auth)


def _outcome(response: httpx2.Response) -> str:
    """What a write or the deletion came to: "done", "article not found", or the answer
    itself when it is neither."""
    body = response.json() if response.content else {}
    if response.request.url.path == "/graphql":
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        if response.status_code == 200 and not codes:
            return "done"
        if codes == ["NOT_FOUND"] and body["errors"][0]["message"] == "article not found":
            return "article not found"
    elif response.status_code in (200, 201, 204):
        return "done"
    elif response.status_code == 404 and body == {"errors": {"article": ["not found"]}}:
        return "article not found"
    return f"{response.status_code} {response.text}"


async def _left_of(server: Server, article_ids: list[int], user_ids: list[int]) -> dict[str, Any]:
    """What the stores still hold of the articles: their comments and likes, and which of
    them the users still like."""
    opened = OpenStores(server.urls)
    try:
        stores = opened.stores
        liked = {a for u in user_ids for a in await stores.likes.liked_article_ids(u)}
        return {
            "comments": await stores.comments.pages(article_ids, Window(limit=None)),
            "likes": await stores.likes.stats(article_ids, None),
            "liked": sorted(liked & set(article_ids)),
        }
    finally:
        await opened.close()
