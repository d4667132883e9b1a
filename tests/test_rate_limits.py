"""Each rate limit, tried past its budget through REST and GraphQL (counters in memory): the
429 answer with Retry-After and RateLimit-* headers, what counts and what does not, and the
account that is usable again once its window ends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from httpx2 import Response
from starlette.testclient import TestClient

from app import create_app
from config import RateLimit, RateLimits, Settings
from tests.conftest import Api, separate_sqlite_files
from tests.graphql_ops import CREATE_ARTICLE, LOGIN, REGISTER

HOUR = 3600
TAGS = "{ tags }"


def limited(
    directory: Path,
    url: str = "memory://",
    *,
    failed_logins_per_account: RateLimit | None = None,
    failed_logins_per_address: RateLimit | None = None,
    sign_ups_per_address: RateLimit | None = None,
    writes_per_user: RateLimit | None = None,
    requests_per_client: RateLimit | None = None,
) -> Settings:
    """Empty SQLite databases, and only the given rate limits, on keys of this test alone."""
    limits = RateLimits(
        url,
        f"test-{uuid.uuid4().hex}",
        failed_logins_per_account,
        failed_logins_per_address,
        sign_ups_per_address,
        writes_per_user,
        requests_per_client,
    )
    return replace(separate_sqlite_files(directory), rate_limits=limits)


@contextmanager
def serving(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield Api(http)


@pytest.fixture
def verified_passwords(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Cheap Argon2 that notes each password it verifies: a refused login must verify none."""
    from auth import passwords

    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(password))
            return super().verify(hash, password)

    monkeypatch.setattr(
        passwords, "_hasher", CountingHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    return verified


def assert_refused(response: Response, limit: int, window: int, what: str) -> int:
    """A standard 429 (REST or GraphQL headers); returns its Retry-After."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window
    assert response.headers["RateLimit-Limit"] == str(limit)
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Reset"] == str(retry_after)
    if response.url.path.startswith("/api"):
        message = f"too many {what}, try again in {retry_after} seconds"
        assert response.json() == {"errors": {"request": [message]}}
    else:
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == retry_after
        assert f"too many {what}" in error["message"]
    return retry_after


def graphql(api: Api, query: str, variables: dict[str, Any], token: str | None = None) -> Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return api.http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def rest_login(api: Api, name: str, password: str) -> Response:
    user = {"email": f"{name}@example.com", "password": password}
    return api.http.post("/api/users/login", json={"user": user})


def graphql_login(api: Api, name: str, password: str) -> Response:
    return graphql(api, LOGIN, {"input": {"email": f"{name}@example.com", "password": password}})


def test_requests_past_the_client_budget_are_refused_on_rest(tmp_path: Path) -> None:
    with serving(limited(tmp_path, requests_per_client=RateLimit(3, HOUR))) as api:
        answers = [api.http.get("/api/tags") for _ in range(3)]
        assert [a.status_code for a in answers] == [200] * 3
        assert [a.headers["RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
        assert all(a.headers["RateLimit-Limit"] == "3" for a in answers)
        assert all(0 < int(a.headers["RateLimit-Reset"]) <= HOUR for a in answers)
        assert "Retry-After" not in answers[0].headers
        assert_refused(api.http.get("/api/tags"), 3, HOUR, "requests")
        assert_refused(api.http.get("/api/articles"), 3, HOUR, "requests")


def test_unknown_paths_and_wrong_methods_spend_the_request_budget(tmp_path: Path) -> None:
    """Every answer under /api is charged, so that probing for paths is no free flood. A CORS
    preflight is not: a browser sends it on its own before the request it asks about, which
    pays; and a body over the limit (413) is refused before the request reaches the API."""
    with serving(limited(tmp_path, requests_per_client=RateLimit(3, HOUR))) as api:
        missing = api.http.get("/api/nothing/here")
        assert missing.status_code == 404
        assert missing.headers["RateLimit-Remaining"] == "2"
        wrong = api.http.patch("/api/tags")
        assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET, HEAD")
        assert wrong.headers["RateLimit-Remaining"] == "1"
        ask = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
        preflight = api.http.options("/api/nothing", headers=ask)
        assert preflight.status_code == 200
        too_big = api.http.post("/api/users", content=b"x" * (2 * 1024 * 1024))
        assert too_big.status_code == 413
        assert all("RateLimit-Limit" not in r.headers for r in (preflight, too_big))
        assert api.http.get("/api/tags").headers["RateLimit-Remaining"] == "0"
        assert_refused(api.http.get("/api/nothing/here"), 3, HOUR, "requests")
        assert_refused(api.http.delete("/api/tags"), 3, HOUR, "requests")


def test_requests_past_the_client_budget_are_refused_on_graphql(tmp_path: Path) -> None:
    with serving(limited(tmp_path, requests_per_client=RateLimit(2, HOUR))) as api:
        first = graphql(api, TAGS, {})
        assert first.status_code == 200
        assert first.headers["RateLimit-Remaining"] == "1"
        assert api.http.get("/api/tags").status_code == 200  # one budget for REST and GraphQL
        assert_refused(graphql(api, TAGS, {}), 2, HOUR, "requests")
        assert_refused(api.http.get("/graphql", params={"query": TAGS}), 2, HOUR, "requests")


def test_graphql_operations_spend_their_points(tmp_path: Path) -> None:
    """A GraphQL request pays its operations' points (one per hundred connection pages, at
    least one), a batch the sum of them; extensions.cost shows the budget left."""
    # 1 page of articles + 100 of comments: 101 pages, 2 points.
    two_points = "{ articles(first: 100) { nodes { comments(first: 1) { totalCount } } } }"
    with serving(limited(tmp_path, requests_per_client=RateLimit(7, HOUR))) as api:
        answer = graphql(api, two_points, {})
        assert answer.status_code == 200
        assert answer.headers["RateLimit-Remaining"] == "5"
        cost = answer.json()["extensions"]["cost"]
        assert cost["points"] == 2
        assert cost["rateLimit"]["limit"] == 7
        assert cost["rateLimit"]["remaining"] == 5
        assert cost["rateLimit"]["resetAt"].endswith("Z")
        batch = api.http.post("/graphql", json=[{"query": TAGS}, {"query": TAGS}])
        assert batch.status_code == 200
        assert batch.headers["RateLimit-Remaining"] == "3"
        assert graphql(api, two_points, {}).headers["RateLimit-Remaining"] == "1"
        # One point left: the request takes it, its operation's second point is refused.
        refused = graphql(api, two_points, {})
        assert_refused(refused, 7, HOUR, "requests")
        assert refused.json()["data"] is None


def test_a_signed_in_user_spends_a_budget_of_their_own(tmp_path: Path) -> None:
    with serving(limited(tmp_path, requests_per_client=RateLimit(2, HOUR))) as api:
        name = api.register()  # the address's first request
        assert api.http.get("/api/tags").status_code == 200
        assert api.http.get("/api/tags").status_code == 429
        as_user = api.http.get("/api/user", headers=api.auth(name))
        assert as_user.status_code == 200
        assert as_user.headers["RateLimit-Remaining"] == "1"
        # A token that is not valid does not open a fresh budget.
        bad = api.http.get("/api/tags", headers={"Authorization": "Token not-a-token"})
        assert bad.status_code == 429


@pytest.mark.usefixtures("cheap_password_hashing")
def test_sign_ups_past_the_address_budget_are_refused(tmp_path: Path) -> None:
    with serving(limited(tmp_path, sign_ups_per_address=RateLimit(2, HOUR))) as api:
        api.register()
        api.register()
        user = {"username": "third", "email": "third@example.com", "password": "password123"}
        assert_refused(api.http.post("/api/users", json={"user": user}), 2, HOUR, "sign-ups")
        assert_refused(graphql(api, REGISTER, {"input": user}), 2, HOUR, "sign-ups")
        assert rest_login(api, "third", "password123").status_code == 401  # never created


def test_failed_logins_past_the_account_budget_are_refused_without_hashing(
    tmp_path: Path, verified_passwords: list[str]
) -> None:
    settings = limited(tmp_path, failed_logins_per_account=RateLimit(2, 2))
    with serving(settings) as api:
        owner = api.register(password="the-right-one")
        assert rest_login(api, owner, "the-right-one").status_code == 200  # success: not counted
        assert [rest_login(api, owner, "guess").status_code for _ in range(2)] == [401, 401]
        assert len(verified_passwords) == 3

        retry_after = assert_refused(rest_login(api, owner, "guess"), 2, 2, "failed logins")
        assert_refused(rest_login(api, owner, "the-right-one"), 2, 2, "failed logins")
        assert_refused(graphql_login(api, owner, "the-right-one"), 2, 2, "failed logins")
        assert len(verified_passwords) == 3, "a refused login ran Argon2"
        other = api.register(password="password123")
        assert rest_login(api, other, "password123").status_code == 200  # other accounts: fine

        time.sleep(retry_after)
        assert rest_login(api, owner, "the-right-one").status_code == 200  # the window ended


def test_failed_logins_on_graphql_share_the_account_budget(
    tmp_path: Path, verified_passwords: list[str]
) -> None:
    with serving(limited(tmp_path, failed_logins_per_account=RateLimit(1, HOUR))) as api:
        owner = api.register(password="the-right-one")
        failed = graphql_login(api, owner, "guess")
        assert failed.status_code == 200
        assert failed.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert_refused(graphql_login(api, owner, "guess"), 1, HOUR, "failed logins")
        assert_refused(rest_login(api, owner, "guess"), 1, HOUR, "failed logins")
        assert len(verified_passwords) == 1


def test_failed_logins_past_the_address_budget_are_refused_for_any_account(
    tmp_path: Path, verified_passwords: list[str]
) -> None:
    with serving(limited(tmp_path, failed_logins_per_address=RateLimit(3, HOUR))) as api:
        tries = [rest_login(api, f"nobody{n}", "guess").status_code for n in range(3)]
        assert tries == [401, 401, 401]
        assert_refused(rest_login(api, "somebody", "guess"), 3, HOUR, "failed logins")
        assert_refused(graphql_login(api, "anybody", "guess"), 3, HOUR, "failed logins")
        assert len(verified_passwords) == 3


@pytest.mark.usefixtures("cheap_password_hashing")
def test_writes_past_the_user_budget_are_refused(tmp_path: Path) -> None:
    with serving(limited(tmp_path, writes_per_user=RateLimit(3, HOUR))) as api:
        writer, other = api.register(), api.register()
        slug = api.publish(writer)
        liked = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(writer))
        followed = api.http.post(f"/api/profiles/{other}/follow", headers=api.auth(writer))
        assert [liked.status_code, followed.status_code] == [200, 200]

        comment = {"comment": {"body": "One write too many"}}
        refused = api.http.post(
            f"/api/articles/{slug}/comments", json=comment, headers=api.auth(writer)
        )
        assert_refused(refused, 3, HOUR, "writes")
        article = {"title": "T", "description": "D", "body": "B", "tagList": []}
        create = graphql(api, CREATE_ARTICLE, {"input": article}, api.tokens[writer])
        assert_refused(create, 3, HOUR, "writes")
        deleted = api.http.delete(f"/api/articles/{slug}", headers=api.auth(writer))
        assert_refused(deleted, 3, HOUR, "writes")
        assert api.http.get(f"/api/articles/{slug}").status_code == 200  # reading is no write
        api.publish(other)  # another user's budget is whole


def test_a_refusal_carries_the_refusing_rules_headers(
    tmp_path: Path, verified_passwords: list[str]
) -> None:
    settings = limited(
        tmp_path,
        requests_per_client=RateLimit(100, HOUR),
        failed_logins_per_account=RateLimit(1, HOUR),
    )
    with serving(settings) as api:
        owner = api.register(password="the-right-one")
        assert rest_login(api, owner, "guess").headers["RateLimit-Limit"] == "100"
        assert_refused(rest_login(api, owner, "guess"), 1, HOUR, "failed logins")
        refused = graphql_login(api, owner, "guess")
        assert_refused(refused, 1, HOUR, "failed logins")
        assert refused.headers.get_list("RateLimit-Limit") == ["1"]
        assert api.http.get("/api/tags").headers["RateLimit-Remaining"] == str(100 - 5)
