"""The counter stores behind the rate limits: Redis shared by two uvicorn workers, DynamoDB
(moto) shared by two app instances, each allowing exactly the budget; concurrent wrong logins
getting no more password checks than their budget on every store; and a counter store that
cannot be reached lets requests through (fail open) with a warning."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Literal

import boto3
import httpx2
import pytest
import redis
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from app import create_app
from config import RateLimit
from tests import aws
from tests.conftest import separate_sqlite_files
from tests.live import free_port, uvicorn_server
from tests.test_rate_limits import HOUR, assert_refused, limited, rest_login, serving

pytestmark = pytest.mark.slow  # left out of `python3 dev.py test --fast`

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is unreachable at {REDIS_URL}: {error}")
    prefix = f"test-{uuid.uuid4().hex}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def slow_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Cheap Argon2 whose verifications each take a while (in the hashing pool's thread), as on
    a busy server, and are noted: concurrent logins are all in flight before any is checked."""
    from auth import passwords

    verified: list[str] = []

    class SlowHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            verified.append(str(password))
            time.sleep(0.05)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", SlowHasher(time_cost=1, memory_cost=8, parallelism=1))
    return verified


@pytest.mark.parametrize("store", ["memory", "redis", "dynamodb"])
def test_concurrent_wrong_logins_get_no_more_checks_than_the_budget(
    tmp_path: Path, redis_prefix: str, slow_verifications: list[str], store: str
) -> None:
    """Each attempt is counted before its password is checked, atomically on each store: of
    12 at once against a budget of 3, 3 are checked (401) and 9 refused (429). The owner's
    logins, right first, gave their counts back."""
    budget, attempts = 3, 12
    url = {
        "memory": "memory://",
        "redis": REDIS_URL,
        "dynamodb": f"dynamodb://conduit-test-rate-limits-{uuid.uuid4().hex[:8]}",
    }[store]
    settings = limited(tmp_path, url, failed_logins_per_account=RateLimit(budget, HOUR))
    settings = replace(settings, rate_limits=replace(settings.rate_limits, key_prefix=redis_prefix))
    aws_context: AbstractContextManager[None] = (
        aws.in_process_aws() if store == "dynamodb" else nullcontext()
    )
    with aws_context, serving(settings) as api:
        owner = api.register(password="the-right-one")
        assert [rest_login(api, owner, "the-right-one").status_code for _ in range(2)] == [200] * 2
        with ThreadPoolExecutor(attempts) as pool:
            answers = list(pool.map(lambda _: rest_login(api, owner, "guess"), range(attempts)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * budget + [429] * (attempts - budget)
    assert slow_verifications.count("guess") == budget
    assert_refused(next(a for a in answers if a.status_code == 429), budget, HOUR, "failed logins")


def test_two_workers_share_one_redis_budget_exactly(tmp_path: Path, redis_prefix: str) -> None:
    budget, extra = 20, 10
    urls = separate_sqlite_files(tmp_path / "db").domain_urls()
    env = {f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()}
    env |= {
        "CONDUIT_LOG_LEVEL": "WARNING",
        "CONDUIT_RATE_LIMIT_URL": REDIS_URL,
        "CONDUIT_RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "CONDUIT_RATE_LIMIT_REQUESTS_PER_CLIENT": f"{budget}/hour",
    }
    with uvicorn_server(env, workers=2, log=tmp_path / "server.log") as base_url:

        def one_request(_: int) -> httpx2.Response:
            # A connection of its own each: the two workers take turns accepting them.
            return httpx2.get(f"{base_url}/api/tags", timeout=30)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one_request, range(budget + extra)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * budget + [429] * extra
    remaining = sorted(int(a.headers["RateLimit-Remaining"]) for a in answers)
    assert remaining == [0] * (extra + 1) + list(range(1, budget))
    refused = next(a for a in answers if a.status_code == 429)
    assert_refused(refused, budget, HOUR, "requests")


def test_two_app_instances_share_one_dynamodb_budget_exactly(tmp_path: Path) -> None:
    table = f"conduit-test-rate-limits-{uuid.uuid4().hex[:8]}"
    settings = limited(tmp_path, f"dynamodb://{table}", requests_per_client=RateLimit(5, HOUR))
    with aws.in_process_aws():
        with (
            TestClient(create_app(settings)) as first,
            TestClient(create_app(settings)) as second,
        ):
            answers = [(first, second)[n % 2].get("/api/tags") for n in range(8)]
        ttl = boto3.client("dynamodb").describe_time_to_live(TableName=table)
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    assert [a.headers["RateLimit-Remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
    assert_refused(answers[5], 5, HOUR, "requests")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_a_dynamodb_window_that_ended_starts_again(tmp_path: Path) -> None:
    settings = limited(
        tmp_path,
        f"dynamodb://conduit-test-rate-limits-{uuid.uuid4().hex[:8]}",
        requests_per_client=RateLimit(2, 1),
    )
    with aws.in_process_aws(), TestClient(create_app(settings)) as http:
        assert [http.get("/api/tags").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(int(http.get("/api/tags").headers["Retry-After"]))
        # The ended window's item is still there (TTL deletes lazily): a new window replaces it.
        again = http.get("/api/tags")
        assert again.status_code == 200
        assert again.headers["RateLimit-Remaining"] == "1"


def test_an_unreachable_counter_store_lets_requests_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = limited(
        tmp_path,
        f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        requests_per_client=RateLimit(1, HOUR),
        failed_logins_per_account=RateLimit(1, HOUR),
    )
    with caplog.at_level(logging.WARNING, "conduit.ratelimits"), serving(settings) as api:
        answers = [api.http.get("/api/tags") for _ in range(3)]
        logins = [rest_login(api, "nobody", "guess").status_code for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert all("RateLimit-Limit" not in a.headers for a in answers)
    assert logins == [401] * 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "conduit.ratelimits"]
    assert warnings
    assert all(w.startswith("rate limit store unavailable") for w in warnings)
