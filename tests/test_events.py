"""Domain events without AWS: their wire form, who receives them, the in-process bus (retries,
dead letters), idempotent handlers under redelivery, and replaying parked events."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_type_hints

import pytest

from config import DOMAINS, Settings
from events import EVENT_TYPES, ArticleDeleted, DomainEvent, Liked, wire
from events.dead_letters import DeadLetter, from_line, to_line
from events.handlers import Handlers, NoHandler
from events.in_process import InProcessBus
from events.replay import main as replay_main
from events.retry import RetryPolicy
from events.subscriptions import CONSUMERS, consumers_of, queue_name
from models.comments import NewComment
from models.likes import Like
from resolvers import cascades
from stores.factory import OpenStores
from stores.protocols import Stores
from tests.conftest import run_python, separate_sqlite_files

NO_PAUSE = RetryPolicy(attempts=3, first_pause_seconds=0)
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def sample(event_type: type[DomainEvent], **values: Any) -> DomainEvent:
    """An event of the type with every id field set (7 unless given)."""
    hints = get_type_hints(event_type)
    ids = {f.name: 7 for f in dataclasses.fields(event_type) if hints[f.name] is int}
    return event_type(**{**ids, **values})


class Parked:
    """A dead-letter sink that keeps what it is given."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def park(self, letter: DeadLetter) -> None:
        self.letters.append(letter)


class Flaky:
    """A handler that fails its first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[DomainEvent] = []

    async def __call__(self, event: ArticleDeleted) -> None:
        self.calls.append(event)
        if len(self.calls) <= self.failures:
            raise RuntimeError(f"store down (call {len(self.calls)})")


def bus_with(comments: Flaky, likes: Flaky, dead_letters: Parked | None = None) -> InProcessBus:
    handlers = {
        "comments": Handlers().on(ArticleDeleted, comments),
        "likes": Handlers().on(ArticleDeleted, likes),
    }
    return InProcessBus(handlers, NO_PAUSE, dead_letters)


# --- the events and their wire form -----------------------------------------------------------


def test_events_are_immutable_and_each_has_its_own_id_and_time() -> None:
    first, second = ArticleDeleted(1), ArticleDeleted(1)
    assert first.event_id != second.event_id
    assert len(first.event_id) == 32
    int(first.event_id, 16)  # uuid4 hex
    assert first.occurred_at.tzinfo is UTC
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.article_id = 2  # type: ignore[misc]


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_survives_its_wire_form(event_type: type[DomainEvent]) -> None:
    event = sample(event_type, occurred_at=WHEN)
    envelope = json.loads(wire.to_json(event))
    assert envelope["detail-type"] == wire.detail_type(event_type) == event_type.__name__
    assert envelope["source"] == wire.source(event_type)
    assert envelope["detail"]["occurred_at"] == "2026-01-02T03:04:05.678Z"
    assert envelope["detail"] == json.loads(wire.detail_json(event))
    assert wire.from_json(wire.to_json(event)) == event


def test_each_domain_publishes_its_own_events() -> None:
    publishers = {t.__name__: wire.source(t) for t in EVENT_TYPES}
    assert publishers == {
        "ArticleCreated": "conduit.articles",
        "ArticleUpdated": "conduit.articles",
        "ArticleDeleted": "conduit.articles",
        "UserUpdated": "conduit.users",
        "Followed": "conduit.users",
        "Unfollowed": "conduit.users",
        "Liked": "conduit.likes",
        "Unliked": "conduit.likes",
        "Commented": "conduit.comments",
        "CommentDeleted": "conduit.comments",
    }


def test_a_wire_form_may_carry_more_than_the_event() -> None:
    """SQS delivers the whole EventBridge envelope; only detail-type, source and detail count."""
    event = ArticleDeleted(3)
    envelope = wire.to_envelope(event)
    envelope.update(id="x", version="0", time="2026-01-01T00:00:00Z", account="1", resources=[])
    assert wire.from_envelope(envelope) == event


def _detail(**changes: Any) -> str:
    envelope = wire.to_envelope(ArticleDeleted(3, event_id="e1", occurred_at=WHEN))
    envelope["detail"].update(changes)
    return json.dumps(envelope)


def _envelope(**changes: Any) -> str:
    envelope = wire.to_envelope(ArticleDeleted(3))
    envelope.update(changes)
    return json.dumps(envelope)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "an event is a JSON object"),
        (_envelope(**{"detail-type": "ArticleVanished"}), "unknown detail-type 'ArticleVanished'"),
        (_envelope(**{"detail-type": ["ArticleDeleted"]}), "unknown detail-type"),
        (_envelope(source="conduit.likes"), "comes from 'conduit.articles', not 'conduit.likes'"),
        (_envelope(detail="article 3"), "detail is not a JSON object"),
        (_envelope(detail={"article_id": 3}), "has the fields"),
        (_detail(extra=1), "has the fields"),
        (_detail(article_id="3"), "ArticleDeleted.article_id is not a int"),
        (_detail(article_id=True), "ArticleDeleted.article_id is not a int"),
        (_detail(event_id=5), "ArticleDeleted.event_id is not a str"),
        (_detail(occurred_at="yesterday"), "occurred_at is not a datetime"),
        (_detail(occurred_at="2026-01-02T03:04:05"), "occurred_at is not a datetime"),
        (_detail(occurred_at=1767323045), "occurred_at is not a datetime"),
    ],
)
def test_what_is_not_a_known_event_is_malformed(text: str, message: str) -> None:
    with pytest.raises(wire.MalformedEvent, match=message):
        wire.from_json(text)


# --- subscriptions and handlers ----------------------------------------------------------------


def test_comments_and_likes_consume_article_deletions() -> None:
    assert dict(CONSUMERS) == {"comments": (ArticleDeleted,), "likes": (ArticleDeleted,)}
    assert consumers_of(ArticleDeleted) == ["comments", "likes"]
    assert consumers_of(Liked) == []
    assert queue_name("conduit-prod", "comments") == "conduit-prod-comments-events"


def test_every_consumer_handles_exactly_the_events_it_subscribes_to(tmp_path: Path) -> None:
    urls = {d: f"sqlite+aiosqlite:///{tmp_path}/{d}.db" for d in DOMAINS}
    handlers = cascades.handlers(OpenStores(urls).stores)  # builds, never connects
    assert {c: h.event_types for c, h in handlers.items()} == {
        c: frozenset(types) for c, types in CONSUMERS.items()
    }


@pytest.mark.anyio
async def test_an_event_without_a_handler_is_an_error_not_a_no_op() -> None:
    with pytest.raises(NoHandler, match="no handler for Liked"):
        await Handlers().on(ArticleDeleted, Flaky(0)).deliver(sample(Liked))


# --- the in-process bus: retries and dead letters ------------------------------------------------


@pytest.mark.anyio
async def test_a_handler_failing_once_is_retried_and_nothing_is_parked() -> None:
    comments, likes, parked = Flaky(failures=1), Flaky(failures=0), Parked()
    event = ArticleDeleted(1)
    await bus_with(comments, likes, parked).publish(event)
    assert comments.calls == [event, event]
    assert likes.calls == [event]
    assert parked.letters == []


@pytest.mark.anyio
async def test_a_handler_failing_every_attempt_parks_the_event_for_its_consumer() -> None:
    comments, likes, parked = Flaky(failures=99), Flaky(failures=0), Parked()
    event = ArticleDeleted(1)
    await bus_with(comments, likes, parked).publish(event)  # does not raise: the write stands
    assert len(comments.calls) == 3
    assert likes.calls == [event]  # the other consumer is not held back
    assert parked.letters == [DeadLetter(event, "comments", 3, "RuntimeError: store down (call 3)")]


@pytest.mark.anyio
async def test_by_default_a_parked_event_is_logged_whole_at_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = ArticleDeleted(1)
    with caplog.at_level(logging.WARNING, logger="conduit.events"):
        await bus_with(Flaky(failures=99), Flaky(failures=0)).publish(event)
    parked = [r for r in caplog.records if r.name == "conduit.events.dead_letter"]
    assert [r.levelno for r in parked] == [logging.ERROR]
    letter = from_line(parked[0].getMessage())
    assert (letter.event, letter.consumer, letter.attempts) == (event, "comments", 3)
    # Each failed attempt is logged with its traceback, for the cause.
    attempts = [r for r in caplog.records if r.name == "conduit.events" and r.exc_info]
    assert len(attempts) == 3


@pytest.mark.anyio
async def test_retries_pause_longer_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    monkeypatch.setattr("events.retry.asyncio.sleep", pause)
    handlers = {c: Handlers().on(ArticleDeleted, Flaky(failures=99)) for c in CONSUMERS}
    await InProcessBus(
        handlers, RetryPolicy(attempts=3, first_pause_seconds=0.05), Parked()
    ).publish(ArticleDeleted(1))
    assert pauses == [0.05, 0.1] * len(CONSUMERS)


def test_dead_letters_read_back_only_what_they_wrote() -> None:
    letter = DeadLetter(ArticleDeleted(4), None, 3, "ClientError: no bus")
    assert from_line(to_line(letter)) == letter


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("parked!", "not JSON"),
        ("[]", "a dead letter is a JSON object"),
        ('{"consumer": 5, "attempts": 3, "error": "x", "event": {}}', "consumer is not a name"),
        ('{"consumer": null, "error": "x", "event": {}}', "names its attempts and error"),
        ('{"consumer": null, "attempts": 3, "event": {}}', "names its attempts and error"),
        ('{"consumer": null, "attempts": 3, "error": "x", "event": {}}', "unknown detail-type"),
    ],
)
def test_a_line_that_is_not_a_dead_letter_is_malformed(line: str, message: str) -> None:
    with pytest.raises(wire.MalformedEvent, match=message):
        from_line(line)


# --- idempotent handlers, on real stores --------------------------------------------------------


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Stores]:
    open_stores = OpenStores(settings.domain_urls())
    try:
        yield open_stores.stores
    finally:
        await open_stores.close()


async def seed(settings: Settings, article_ids: list[int]) -> None:
    """A comment and two likes on each article."""
    async with opened(settings) as stores:
        for article_id in article_ids:
            await stores.comments.add(NewComment(article_id, 1, "hi", WHEN))
            await stores.likes.like_many([Like(1, article_id), Like(2, article_id)])


async def remaining(settings: Settings, article_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(comments, likes) per article."""
    async with opened(settings) as stores:
        stats = await stores.likes.stats(article_ids, None)
        return {
            a: ((await stores.comments.counts([a])).get(a, 0), stats[a].count if a in stats else 0)
            for a in article_ids
        }


@pytest.fixture
def sqlite_files(tmp_path: Path) -> Settings:
    return separate_sqlite_files(tmp_path / "db")


@pytest.mark.anyio
async def test_a_redelivered_event_changes_nothing(sqlite_files: Settings) -> None:
    settings = sqlite_files
    await seed(settings, [1, 2])
    deleted = ArticleDeleted(1)
    async with opened(settings) as stores:
        bus = InProcessBus(cascades.handlers(stores), NO_PAUSE, Parked())
        await bus.publish(deleted)
        after_once = await remaining(settings, [1, 2])
        assert after_once == {1: (0, 0), 2: (1, 2)}
        await bus.publish(deleted)
        await bus.publish(wire.from_json(wire.to_json(deleted)))  # as a queue redelivers it
    assert await remaining(settings, [1, 2]) == after_once


# --- replaying parked events ---------------------------------------------------------------------


@pytest.fixture
def configured(sqlite_files: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """SQLite files, named to the replay command through the CONDUIT_* environment."""
    for domain, url in sqlite_files.domain_urls().items():
        monkeypatch.setenv(f"CONDUIT_{domain.upper()}_URL", url)
    return sqlite_files


def parked_file(directory: Path, *lines: str) -> str:
    path = directory / "parked.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


def test_replay_delivers_each_parked_event_to_its_consumers(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(configured, [1, 2, 3]))
    path = parked_file(
        tmp_path,
        to_line(DeadLetter(ArticleDeleted(1), "comments", 3, "OperationalError: locked")),
        "",
        # Parked before reaching any consumer (EventBridge refused it): every subscriber's.
        to_line(DeadLetter(ArticleDeleted(2), None, 3, "ClientError: throttled")),
    )
    assert replay_main([path]) == 0
    assert asyncio.run(remaining(configured, [1, 2, 3])) == {1: (0, 2), 2: (0, 0), 3: (1, 2)}
    assert capsys.readouterr().out == ""
    assert replay_main([path]) == 0  # replaying again does no harm
    assert asyncio.run(remaining(configured, [1, 2, 3])) == {1: (0, 2), 2: (0, 0), 3: (1, 2)}


def test_replay_writes_out_the_lines_it_could_not_deliver(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(seed(configured, [1]))
    unknown = to_line(DeadLetter(ArticleDeleted(1), "search", 3, "x"))
    path = parked_file(
        tmp_path,
        "not a dead letter",
        unknown,
        to_line(DeadLetter(ArticleDeleted(1), "likes", 3, "x")),
    )
    assert replay_main([path]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == ["not a dead letter", unknown]
    assert "line 1: MalformedEvent: not JSON" in err
    assert "line 2: LookupError: no consumer is called 'search'" in err
    assert asyncio.run(remaining(configured, [1])) == {1: (1, 0)}  # the good line still ran


def test_replay_without_its_file_or_a_sound_configuration_stops_cleanly(
    configured: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert replay_main([str(tmp_path / "missing.jsonl")]) == 2
    assert "missing.jsonl" in capsys.readouterr().err
    database = tmp_path / "untouched.db"
    command = run_python(
        "-m",
        "events.replay",
        str(tmp_path / "missing.jsonl"),
        env={"CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"},
    )
    assert command.returncode == 2
    assert "missing.jsonl" in command.stderr
    assert not database.exists()  # the file is looked for before any store is opened
    monkeypatch.setenv("CONDUIT_LOG_LEVEL", "LOUD")
    assert replay_main([parked_file(tmp_path)]) == 2
    assert "CONDUIT_LOG_LEVEL" in capsys.readouterr().err
