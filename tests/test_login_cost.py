"""Password hashing is bounded: at most CONDUIT_PASSWORD_HASH_CONCURRENCY Argon2 hashes or
verifications run at once in a process, however many logins arrive together; the rest wait,
and every login still gets its right answer."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from app import create_app
from auth import passwords
from config import Settings
from tests.conftest import Api

LOGINS = 12
# Long enough that hashes left to run together would overlap, whatever the machine's speed.
HOLD_SECONDS = 0.05


@pytest.fixture(scope="module")
def backend() -> str:
    """One backend: what is bounded here is CPU work, not any store's."""
    return "sqlite"


class CountingHasher(PasswordHasher):
    """Cheap Argon2id that records how many of its hashes and verifications run at once."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self._lock = threading.Lock()
        self.running = 0
        self.peak = 0

    def _counted(self, work: Any, *args: Any) -> Any:
        with self._lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(HOLD_SECONDS)
            return work(*args)
        finally:
            with self._lock:
                self.running -= 1

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        result: str = self._counted(super().hash, password)
        return result

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        result: Literal[True] = self._counted(super().verify, hash, password)
        return result


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


@contextmanager
def app_hashing(settings: Settings, concurrency: int) -> Iterator[Api]:
    bounded = dataclasses.replace(settings, password_hash_concurrency=concurrency)
    with TestClient(create_app(bounded), raise_server_exceptions=False) as http:
        yield Api(http)


def logins_at_once(api: Api) -> list[int]:
    """LOGINS logins at once, every other one with the wrong password; their statuses."""

    def login(i: int) -> int:
        password = "password123" if i % 2 == 0 else "wrong-password"
        credentials = {"user": {"email": "alice@example.com", "password": password}}
        return api.http.post("/api/users/login", json=credentials).status_code

    with ThreadPoolExecutor(LOGINS) as pool:
        return list(pool.map(login, range(LOGINS)))


@pytest.mark.parametrize("concurrency", [1, 3])
def test_logins_at_once_never_hash_more_at_once_than_the_limit(
    settings: Settings, hasher: CountingHasher, concurrency: int
) -> None:
    with app_hashing(settings, concurrency) as api:
        api.register("alice")
        hasher.peak = 0

        statuses = logins_at_once(api)

        assert statuses == [200, 401] * (LOGINS // 2)
        assert hasher.peak <= concurrency
        # And up to it when allowed: the count does see hashes that overlap.
        assert hasher.peak > 1 or concurrency == 1
        assert api.http.get("/health").status_code == 200
