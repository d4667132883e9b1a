"""The seed command: a small data set, read back through the API, adds up; the same seed gives
the same data set; sizes it cannot honour and non-empty databases are refused cleanly."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import Settings
from seed.__main__ import main
from stores.factory import OpenStores
from tests.conftest import separate_sqlite_files

# Seeded data sets, each built whole: left out of `dev.py test --fast`.
pytestmark = pytest.mark.slow

USERS, ARTICLES = 20, 50


def seed_into(directory: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for four empty SQLite files, which the seed command reads from the environment."""
    settings = separate_sqlite_files(directory)
    for domain, url in settings.domain_urls().items():
        monkeypatch.setenv(f"CONDUIT_{domain.upper()}_URL", url)
    return settings


@pytest.fixture
def seeded_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return seed_into(tmp_path, monkeypatch)


def articles(http: TestClient) -> list[dict[str, Any]]:
    body = http.get("/api/articles", params={"limit": 100}).json()
    assert body["articlesCount"] == len(body["articles"])
    found: list[dict[str, Any]] = body["articles"]
    return found


def test_a_seeded_data_set_adds_up_through_the_api(
    seeded_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--users", str(USERS), "--articles", str(ARTICLES), "--likes", "120"]) == 0
    out, err = capsys.readouterr()
    assert "seeded 20 users, 50 articles, 190 follows, 120 likes and 50 comments" in out
    assert err.count("\n") == 5  # one finished progress line per phase
    with TestClient(create_app(seeded_settings)) as http:
        listed = articles(http)
        assert len(listed) == ARTICLES
        assert sum(a["favoritesCount"] for a in listed) == 120
        comments = [http.get(f"/api/articles/{a['slug']}/comments").json() for a in listed]
        assert sum(len(c["comments"]) for c in comments) == ARTICLES
        assert all(0 <= len(a["tagList"]) <= 4 for a in listed)
        assert set(http.get("/api/tags").json()["tags"]) == {
            t for a in listed for t in a["tagList"]
        }
        assert [a["createdAt"] for a in listed] == sorted(
            (a["createdAt"] for a in listed), reverse=True
        )

        signed_in = http.post(
            "/api/users/login",
            json={"user": {"email": "user1@example.com", "password": "password123"}},
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["user"]["token"]
        feed = http.get("/api/articles/feed", headers={"Authorization": f"Token {token}"}).json()
        follows = asyncio.run(followed_usernames(seeded_settings))
        assert sum(len(names) for names in follows.values()) == 190
        by_followed = [
            http.get("/api/articles", params={"author": name}).json()["articlesCount"]
            for name in follows[signed_in.json()["user"]["username"]]
        ]
        assert feed["articlesCount"] == sum(by_followed)
        assert all(a["author"]["following"] for a in feed["articles"])


async def followed_usernames(settings: Settings) -> dict[str, list[str]]:
    """Whom each user follows, read from the store (the API shows follows only one at a time)."""
    opened = OpenStores(settings.domain_urls())
    try:
        users = {u.id: u.username for u in await opened.stores.users.by_ids(range(1, USERS + 1))}
        return {
            name: [users[f] for f in await opened.stores.users.followees(user_id)]
            for user_id, name in users.items()
        }
    finally:
        await opened.close()


def test_the_same_seed_gives_the_same_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def seeded(name: str, seed: int) -> list[dict[str, Any]]:
        (tmp_path / name).mkdir()
        settings = seed_into(tmp_path / name, monkeypatch)
        assert main(["--users", "10", "--articles", "30", "--seed", str(seed), "--batch", "7"]) == 0
        with TestClient(create_app(settings)) as http:
            return articles(http)

    first = seeded("first", seed=5)
    assert seeded("again", seed=5) == first
    assert seeded("other", seed=6) != first


def test_sizes_that_cannot_be_seeded_are_refused(
    seeded_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--users", "3", "--follows", "4", "--articles", "0"]) == 2
    assert "at most users x (users - 1) / 2 follows" in capsys.readouterr().err
    assert main(["--users", "0", "--articles", "5"]) == 2
    assert "articles and comments need users" in capsys.readouterr().err


def test_a_database_seeded_already_is_refused(
    seeded_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--users", "5", "--articles", "5"]) == 0
    assert main(["--users", "5", "--articles", "5"]) == 1
    assert "seed empty databases" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--users", "many"], "argument --users: 'many' is not a whole number"),
        (["--articles", "-1"], "argument --articles: must be at least 0"),
        (["--batch", "0"], "argument --batch: must be at least 1"),
    ],
)
def test_a_size_that_is_no_count_is_a_usage_error(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
