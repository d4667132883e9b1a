"""`python -m stores.copy`: a domain copied between backends and verified, a copy that stops
and resumes, a tampered target found out, and bad arguments refused.

Copies that touch DynamoDB run the command's `main` in this process, inside moto's in-process
AWS (which mocks this process only); one test runs the real command against a moto server."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from itertools import count
from pathlib import Path
from typing import Any, Protocol

import pytest

from models.articles import ArticleRecord, NewArticle
from models.likes import Like
from models.users import Follow, UserRow
from stores.copy.__main__ import main
from stores.copy.domains import DOMAINS as RECORDS
from stores.errors import StoreUnavailable
from stores.factory import OpenStores
from stores.sql.articles import SqlArticleStore
from tests import aws
from tests.conftest import TEST_BACKENDS, run_python
from tests.postgres import DatabaseSets
from tests.store_contract.conftest import at

# slow (copies between every pair of backends): left out of `python3 dev.py test --fast`
pytestmark = pytest.mark.slow

_tables = count(1)


class Place(Protocol):
    def __call__(self, kind: str, domain: str = "articles") -> str: ...


@pytest.fixture
def place(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Place]:
    """Makes a store URL of a kind ("sqlite", "postgresql", "dynamodb") for the test's domain
    data; DynamoDB ones in moto's in-process AWS, held for the whole test."""
    with ExitStack() as held:
        in_aws = False

        def make(kind: str, domain: str = "articles") -> str:
            nonlocal in_aws
            if kind == "sqlite":
                return f"sqlite+aiosqlite:///{tmp_path}/{domain}-{next(_tables)}.db"
            if kind == "dynamodb":
                if not in_aws:
                    held.enter_context(aws.in_process_aws())
                    in_aws = True
                return f"dynamodb://conduit-copy{next(_tables)}-{domain}"
            sets: DatabaseSets = request.getfixturevalue("postgres")
            borrowed = sets.borrow()
            held.callback(sets.give_back, borrowed)
            return borrowed.urls()[domain]

        yield make


def opened(url: str, domain: str) -> OpenStores:
    return OpenStores({domain: url})


def write_articles(url: str, how_many: int) -> None:
    async def write() -> None:
        stores = opened(url, "articles")
        try:
            await stores.prepare(migrate=True)
            await stores.articles().create_many(
                [
                    NewArticle(
                        slug=f"article-{n}",
                        title=f"Article {n}",
                        description="about it",
                        body=f"body {n}",
                        tags=tuple(sorted({f"tag{n % 3}", f"tag{n % 5}"})),
                        author_id=n % 4 + 1,
                        created_at=at(n),
                    )
                    for n in range(how_many)
                ]
            )
        finally:
            await stores.close()

    asyncio.run(write())


def write_users(url: str, how_many: int) -> None:
    async def write() -> None:
        stores = opened(url, "users")
        try:
            await stores.prepare(migrate=True)
            created = await stores.users().create_many(
                [
                    UserRow(username=f"u{n}", email=f"u{n}@example.com", password_hash=f"h{n}")
                    for n in range(how_many)
                ]
            )
            ids = [u.id for u in created]
            await stores.users().follow_many(
                [Follow(a, b) for a in ids for b in ids[: a % 4] if a != b]
            )
        finally:
            await stores.close()

    asyncio.run(write())


def dumped(url: str, domain: str) -> list[Any]:
    """Every record of the domain at `url`, in key order."""

    async def read() -> list[Any]:
        stores = opened(url, domain)
        records = RECORDS[domain](stores)
        try:
            found: list[Any] = []
            while batch := await records.dump(records.key(found[-1]) if found else None, 100):
                found += batch
            return found
        finally:
            await stores.close()

    return asyncio.run(read())


def squeezed(text: str) -> str:
    """The report with every run of spaces as one, so tests do not depend on its alignment."""
    return re.sub(r" +", " ", text)


def copy(domain: str, source: str, target: str, state: Path, *more: str) -> int:
    return main([domain, "--from", source, "--to", target, "--state", str(state), *more])


PAIRS = [
    (a, b)
    for a, b in [
        ("sqlite", "dynamodb"),
        ("dynamodb", "sqlite"),
        ("postgresql", "dynamodb"),
        ("sqlite", "postgresql"),
        ("postgresql", "sqlite"),
        ("sqlite", "sqlite"),
    ]
    if a in TEST_BACKENDS and b in TEST_BACKENDS
]


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
def test_copies_articles_and_finds_both_sides_identical(
    source_kind: str,
    target_kind: str,
    place: Place,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = place(source_kind), place(target_kind)
    write_articles(source, 23)
    assert copy("articles", source, target, tmp_path / "state.json", "--batch", "5") == 0
    out = squeezed(capsys.readouterr().out)
    assert "23 records in 5 batches" in out
    assert "records in target 23" in out
    assert out.rstrip().endswith("identical")
    assert dumped(target, "articles") == dumped(source, "articles")
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["copied"], state["batches"], state["finished"]) == (23, 5, True)


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
def test_copies_users_with_whom_they_follow(
    source_kind: str, target_kind: str, place: Place, tmp_path: Path
) -> None:
    source, target = place(source_kind, "users"), place(target_kind, "users")
    write_users(source, 12)
    assert copy("users", source, target, tmp_path / "state.json", "--batch", "5") == 0
    records = dumped(source, "users")
    assert sum(len(r.followee_ids) for r in records) > 0
    assert dumped(target, "users") == records


def test_a_copy_that_stops_resumes_after_the_last_batch_it_recorded(
    place: Place,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, target = place("sqlite"), place("sqlite")
    write_articles(source, 35)
    state_file = tmp_path / "state.json"
    restore = SqlArticleStore.restore
    restored: list[int] = []

    async def lost_on_the_third(self: SqlArticleStore, records: Sequence[ArticleRecord]) -> None:
        # The third batch commits, then the connection drops before the copy hears back: the
        # state file still says two batches, so the run after writes the third one again.
        await restore(self, records)
        restored.append(len(records))
        if len(restored) == 3:
            raise StoreUnavailable("ConnectionResetError: the connection dropped")

    monkeypatch.setattr(SqlArticleStore, "restore", lost_on_the_third)
    assert copy("articles", source, target, state_file, "--batch", "10") == 3
    assert "run again to resume" in capsys.readouterr().err
    state = json.loads(state_file.read_text())
    assert (state["copied"], state["batches"], state["finished"]) == (20, 2, False)
    assert len(dumped(target, "articles")) == 30

    monkeypatch.setattr(SqlArticleStore, "restore", restore)
    assert copy("articles", source, target, state_file, "--batch", "10") == 0
    out, err = capsys.readouterr()
    out = squeezed(out)
    last_recorded = dumped(source, "articles")[19].article.id
    assert f"resuming after {last_recorded} (20 articles copied before)" in err
    assert "35 records in 4 batches" in out
    assert out.rstrip().endswith("identical")
    assert dumped(target, "articles") == dumped(source, "articles")


def test_a_run_after_a_finished_copy_makes_a_new_pass_that_picks_up_changes(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = place("sqlite"), place("sqlite")
    write_articles(source, 8)
    state_file = tmp_path / "state.json"
    assert copy("articles", source, target, state_file) == 0
    first = dumped(source, "articles")[0]
    changed = ArticleRecord(replace(first.article, title="Changed since"), ("new",))
    _restore_articles(source, [changed])
    assert copy("articles", source, target, state_file, "--verify-only") == 1
    assert copy("articles", source, target, state_file) == 0
    assert "8 records in 1 batches" in capsys.readouterr().out
    assert dumped(target, "articles")[0] == changed


def _restore_articles(url: str, records: Sequence[ArticleRecord]) -> None:
    async def write() -> None:
        stores = opened(url, "articles")
        try:
            await stores.articles().restore(records)
        finally:
            await stores.close()

    asyncio.run(write())


@pytest.mark.parametrize("target_kind", [k for k in ("sqlite", "dynamodb") if k in TEST_BACKENDS])
def test_verify_reports_a_tampered_target(
    target_kind: str, place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = place("sqlite"), place(target_kind)
    write_articles(source, 12)
    assert copy("articles", source, target, tmp_path / "state.json") == 0
    capsys.readouterr()
    records = dumped(source, "articles")

    async def tamper() -> None:
        stores = opened(target, "articles")
        try:
            await stores.articles().delete(records[2].article.id)
            await stores.articles().delete(records[7].article.id)
            retitled = replace(records[5].article, title="Tampered")
            await stores.articles().restore([ArticleRecord(retitled, records[5].tags)])
            await stores.articles().create(NewArticle("extra", "Extra", "d", "b", (), 1, at(999)))
        finally:
            await stores.close()

    asyncio.run(tamper())
    assert copy("articles", source, target, tmp_path / "unused.json", "--verify-only") == 1
    out = squeezed(capsys.readouterr().out)
    ids = [r.article.id for r in records]
    assert "records in source 12" in out
    assert "records in target 11" in out
    assert f"missing in target 2 first: {ids[2]}, {ids[7]}" in out
    assert f"extra in target 1 first: {ids[-1] + 1}" in out
    assert f"differing 1 first: {ids[5]}" in out
    assert out.rstrip().endswith("the target's articles differ from the source's")
    assert not (tmp_path / "unused.json").exists()


def test_likes_are_verified_by_article_then_user(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = place("sqlite", "likes"), place("sqlite", "likes")

    async def like(url: str, pairs: list[Like]) -> None:
        stores = opened(url, "likes")
        try:
            await stores.prepare(migrate=True)
            await stores.likes().like_many(pairs)
        finally:
            await stores.close()

    asyncio.run(like(source, [Like(user_id=u, article_id=a) for a in (1, 2) for u in (5, 6)]))
    asyncio.run(like(target, [Like(user_id=9, article_id=1)]))
    assert copy("likes", source, target, tmp_path / "state.json") == 1
    out = squeezed(capsys.readouterr().out)
    assert "extra in target 1 first: (article_id=1, user_id=9)" in out


def test_the_state_file_defaults_to_the_working_directory(
    place: Place, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = place("sqlite"), place("sqlite")
    write_articles(source, 3)
    monkeypatch.chdir(tmp_path)
    assert main(["articles", "--from", source, "--to", target]) == 0
    assert json.loads((tmp_path / ".copy-articles.json").read_text())["copied"] == 3


def test_a_state_file_of_another_copy_is_refused(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, target = place("sqlite"), place("sqlite")
    write_articles(source, 3)
    state_file = tmp_path / "state.json"
    assert copy("articles", source, target, state_file) == 0
    users = place("sqlite", "users")
    write_users(users, 2)
    assert copy("users", users, place("sqlite", "users"), state_file) == 2
    assert "belongs to a copy of articles from" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["posts", "--from", "sqlite+aiosqlite:///a.db", "--to", "dynamodb://table1"],
            "invalid choice",
        ),
        (
            ["articles", "--from", "mysql://u@h/db", "--to", "dynamodb://table1"],
            "--from: the articles",
        ),
        (["articles", "--from", "sqlite+aiosqlite:///a.db", "--to", "dynamodb://x"], "--to: the"),
        (
            ["articles", "--from", "dynamodb://table1", "--to", "dynamodb://table1"],
            "name the same store",
        ),
        (["articles", "--from", "SRC", "--to", "sqlite+aiosqlite:///./b/../a.db"], "same store"),
        (
            ["articles", "--from", "sqlite+aiosqlite:///none.db", "--to", "dynamodb://table1"],
            "no SQLite",
        ),
        (
            [
                "articles",
                "--from",
                "dynamodb://table1",
                "--to",
                "dynamodb://table2",
                "--batch",
                "0",
            ],
            "at least 1",
        ),
        (
            ["users", "--from", "dynamodb://table1", "--to", "postgresql+psycopg2://u:s3cret@h/db"],
            "not an asyncio driver",
        ),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(
    arguments: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.db").touch()
    (tmp_path / "b").mkdir()
    arguments = [a.replace("SRC", "sqlite+aiosqlite:///a.db") for a in arguments]
    try:
        status = main(arguments)
    except SystemExit as exit_:  # argparse's own refusals
        status = int(str(exit_.code))
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert "s3cret" not in err
    assert "Traceback" not in err


def test_a_target_that_is_not_reachable_exits_3(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = place("sqlite")
    write_articles(source, 2)
    unreachable = "postgresql+asyncpg://nobody@127.0.0.1:9/nowhere"
    assert copy("articles", source, unreachable, tmp_path / "state.json") == 3
    assert "could not finish (" in capsys.readouterr().err


@pytest.mark.skipif("dynamodb" not in TEST_BACKENDS, reason="DynamoDB not selected")
def test_the_command_copies_to_and_from_a_dynamodb_server(
    aws_endpoint: str, place: Place, tmp_path: Path
) -> None:
    source, back = place("sqlite"), place("sqlite")
    table = f"dynamodb://conduit-copy-server{next(_tables)}-articles"
    write_articles(source, 40)
    to_dynamodb = run_python(
        *("-m", "stores.copy", "articles", "--from", source, "--to", table),
        *("--batch", "16", "--state", str(tmp_path / "to.json")),
        env={},
    )
    assert to_dynamodb.returncode == 0, to_dynamodb.stderr
    assert "40 records in 3 batches" in to_dynamodb.stdout
    from_dynamodb = run_python(
        *("-m", "stores.copy", "articles", "--from", table, "--to", back),
        *("--state", str(tmp_path / "back.json")),
        env={},
    )
    assert from_dynamodb.returncode == 0, from_dynamodb.stderr
    assert from_dynamodb.stdout.rstrip().endswith("identical")
    assert dumped(back, "articles") == dumped(source, "articles")
