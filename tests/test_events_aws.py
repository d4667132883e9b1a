"""Domain events on AWS, in moto's in-process AWS: the app publishes to EventBridge, a rule per
consumer (events.subscriptions) fills that consumer's SQS queue, and the consumer (a drain, or
the SQS-triggered Lambda) runs its handlers; what keeps failing ends in the dead-letter queue.
The consumers' stores are SQLite files."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from starlette.testclient import TestClient

from app import create_app
from aws_lambda.consumer import HANDLERS_OF, ContainerConsumer, consumer_from_env
from config import ConfigError, EventBridgeTarget, Settings
from events import ArticleDeleted, Liked, wire
from events.dead_letters import DeadLetter
from events.eventbridge import EventBridgeBus
from events.sqs import Drained, drain
from events.subscriptions import CONSUMERS, queue_name
from resolvers import cascades
from stores.factory import OpenStores
from stores.sql.versioning import SchemaNotCurrent
from tests.aws import FAKE_AWS, in_process_aws
from tests.conftest import Api, run_python, separate_sqlite_files
from tests.rest_support import add_comment, new_article
from tests.test_events import NO_PAUSE, Parked, remaining, seed

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sqs import SQSClient

# slow (AWS on moto): left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.usefixtures("cheap_password_hashing"), pytest.mark.slow]

PREFIX = "conduit-test"
BUS = f"{PREFIX}-events"
MAX_RECEIVES = 2


@dataclass
class Deployment:
    """What infra/terraform provisions for events: the bus, and per consumer a rule, a queue
    and its dead-letter queue; plus a queue that receives every event, to see them all."""

    sqs: SQSClient
    queues: dict[str, str]
    dead_letter_queues: dict[str, str]
    every_event: str

    @classmethod
    def create(cls) -> Deployment:
        events, sqs = boto3.client("events"), boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        queues, dead_letter_queues = {}, {}
        for consumer, types in CONSUMERS.items():
            name = queue_name(PREFIX, consumer)
            dead_letter_queues[consumer] = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
            redrive = {
                "deadLetterTargetArn": _arn(sqs, dead_letter_queues[consumer]),
                "maxReceiveCount": str(MAX_RECEIVES),
            }
            queues[consumer] = sqs.create_queue(
                QueueName=name, Attributes={"RedrivePolicy": json.dumps(redrive)}
            )["QueueUrl"]
            pattern = {
                "source": sorted({wire.source(t) for t in types}),
                "detail-type": [wire.detail_type(t) for t in types],
            }
            _route(events, sqs, consumer, pattern, queues[consumer])
        every_event = sqs.create_queue(QueueName=f"{PREFIX}-all")["QueueUrl"]
        _route(events, sqs, "all", {"source": [{"prefix": "conduit."}]}, every_event)
        return cls(sqs, queues, dead_letter_queues, every_event)

    def bodies(self, queue_url: str) -> list[str]:
        """The body of every message on the queue, taken off it."""
        found: list[str] = []
        while messages := self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(message["Body"])
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return found


def _arn(sqs: SQSClient, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def _route(
    events: EventBridgeClient, sqs: SQSClient, name: str, pattern: object, queue_url: str
) -> None:
    rule = f"{PREFIX}-{name}"
    events.put_rule(Name=rule, EventBusName=BUS, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=rule, EventBusName=BUS, Targets=[{"Id": name, "Arn": _arn(sqs, queue_url)}]
    )


@pytest.fixture
def aws() -> Iterator[Deployment]:
    with in_process_aws():
        yield Deployment.create()


@pytest.fixture
def sqlite_files(tmp_path: Path) -> Settings:
    return separate_sqlite_files(tmp_path / "db")


@pytest.fixture
def api(aws: Deployment, sqlite_files: Settings) -> Iterator[Api]:
    """The app as deployed on AWS: it publishes to EventBridge and handles no event itself."""
    settings = replace(sqlite_files, event_bus=EventBridgeTarget(BUS))
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield Api(http)


async def article_id(settings: Settings, slug: str) -> int:
    open_stores = OpenStores(settings.domain_urls())
    try:
        found = await open_stores.stores.articles.by_slug(slug)
        assert found is not None
        return found.id
    finally:
        await open_stores.close()


async def drain_consumer(
    settings: Settings, aws: Deployment, consumer: str, visibility_timeout: int = 30
) -> Drained:
    open_stores = OpenStores(settings.domain_urls())
    try:
        handlers = cascades.handlers(open_stores.stores)[consumer]
        return await drain(
            aws.sqs, aws.queues[consumer], handlers, visibility_timeout=visibility_timeout
        )
    finally:
        await open_stores.close()


# --- publishing through EventBridge --------------------------------------------------------------


def test_every_use_case_publishes_its_event_to_eventbridge(api: Api, aws: Deployment) -> None:
    ann, bob = api.register("ann"), api.register("bob")
    assert api.http.put("/api/user", json={"user": {"bio": "Hi"}}, headers=api.auth(ann)).is_success
    assert api.http.post("/api/profiles/ann/follow", headers=api.auth(bob)).is_success
    assert api.http.delete("/api/profiles/ann/follow", headers=api.auth(bob)).is_success
    slug = new_article(api, ann, title="Events")["slug"]
    changed = {"article": {"body": "Changed"}}
    assert api.http.put(f"/api/articles/{slug}", json=changed, headers=api.auth(ann)).is_success
    assert api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(bob)).is_success
    assert api.http.delete(f"/api/articles/{slug}/favorite", headers=api.auth(bob)).is_success
    comment = add_comment(api, bob, slug)["id"]
    deleted = api.http.delete(f"/api/articles/{slug}/comments/{comment}", headers=api.auth(bob))
    assert deleted.is_success
    assert api.http.delete(f"/api/articles/{slug}", headers=api.auth(ann)).is_success

    published = [wire.from_json(body) for body in aws.bodies(aws.every_event)]
    assert [type(e).__name__ for e in published] == [
        "UserUpdated",
        "Followed",
        "Unfollowed",
        "ArticleCreated",
        "ArticleUpdated",
        "Liked",
        "Unliked",
        "Commented",
        "CommentDeleted",
        "ArticleDeleted",
    ]
    user, followed, unfollowed, created, updated, liked, unliked, commented, uncommented, gone = (
        published
    )
    ann_id = cast(Any, user).user_id
    assert (cast(Any, followed).followee_id, cast(Any, unfollowed).followee_id) == (ann_id, ann_id)
    bob_id = cast(Any, followed).follower_id
    assert cast(Any, created).author_id == ann_id
    article = cast(Any, created).article_id
    assert {cast(Any, e).article_id for e in (updated, commented, uncommented, gone)} == {article}
    assert (cast(Any, liked).user_id, cast(Any, liked).article_id) == (bob_id, article)
    assert (cast(Any, unliked).user_id, cast(Any, unliked).article_id) == (bob_id, article)
    assert cast(Any, commented).comment_id == cast(Any, uncommented).comment_id == comment
    assert len({e.event_id for e in published}) == len(published)


def test_deleting_an_article_reaches_comments_and_likes_through_their_queues(
    api: Api, aws: Deployment, sqlite_files: Settings
) -> None:
    ann, bob = api.register("ann"), api.register("bob")
    slug = new_article(api, ann, title="Doomed")["slug"]
    kept = new_article(api, ann, title="Kept")["slug"]
    for target in (slug, kept):
        add_comment(api, bob, target)
        assert api.http.post(f"/api/articles/{target}/favorite", headers=api.auth(bob)).is_success
    doomed, survivor = (asyncio.run(article_id(sqlite_files, s)) for s in (slug, kept))
    assert api.http.delete(f"/api/articles/{slug}", headers=api.auth(ann)).status_code == 204

    # Nothing is handled in the app's process: the consumers have yet to take their messages.
    assert asyncio.run(remaining(sqlite_files, [doomed])) == {doomed: (1, 1)}
    # Each queue got the deletion alone: none of the other events match a consumer's rule.
    for consumer in CONSUMERS:
        drained = asyncio.run(drain_consumer(sqlite_files, aws, consumer))
        assert drained == Drained(handled=1, failed=0)
    assert asyncio.run(remaining(sqlite_files, [doomed, survivor])) == {
        doomed: (0, 0),
        survivor: (1, 1),
    }
    for consumer in CONSUMERS:
        assert asyncio.run(drain_consumer(sqlite_files, aws, consumer)) == Drained(0, 0)
        assert aws.bodies(aws.dead_letter_queues[consumer]) == []


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(
    aws: Deployment, sqlite_files: Settings
) -> None:
    asyncio.run(seed(sqlite_files, [1]))
    queue = aws.queues["comments"]
    unhandled = wire.to_json(Liked(2, 1))  # comments have no handler for it
    for body in ("not an event", unhandled, wire.to_json(ArticleDeleted(1))):
        aws.sqs.send_message(QueueUrl=queue, MessageBody=body)

    # Failed messages come back at once (visibility 0) until the redrive policy moves them.
    drained = asyncio.run(drain_consumer(sqlite_files, aws, "comments", visibility_timeout=0))
    assert drained == Drained(handled=1, failed=2 * MAX_RECEIVES)
    parked = aws.bodies(aws.dead_letter_queues["comments"])
    assert sorted(parked) == sorted([unhandled, "not an event"])
    assert asyncio.run(remaining(sqlite_files, [1])) == {1: (0, 2)}


# --- the EventBridge bus: nothing lost ----------------------------------------------------------


class FakeEventBridge:
    """Refuses its first `refusals` events as EventBridge does, in the answer (FailedEntryCount)
    rather than with an error; records what it took and on which thread."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.calls = 0
        self.taken: list[dict[str, Any]] = []
        self.threads: set[int] = set()

    # `Entries`: boto3's keyword.
    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self.calls <= self.refusals:
            failed = {"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}
            return {"FailedEntryCount": 1, "Entries": [failed]}
        self.taken.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"e{self.calls}"}]}


def bus_over(client: FakeEventBridge, parked: Parked) -> EventBridgeBus:
    return EventBridgeBus(BUS, cast("EventBridgeClient", client), NO_PAUSE, parked)


def test_an_event_eventbridge_refuses_once_is_sent_again_off_the_event_loop() -> None:
    client, parked = FakeEventBridge(refusals=1), Parked()
    event = ArticleDeleted(9)
    asyncio.run(bus_over(client, parked).publish(event))
    assert client.calls == 2
    assert parked.letters == []
    [entry] = client.taken
    assert entry["EventBusName"] == BUS
    assert (entry["Source"], entry["DetailType"]) == ("conduit.articles", "ArticleDeleted")
    assert entry["Time"] == event.occurred_at
    assert json.loads(entry["Detail"]) == wire.detail(event)
    assert threading.get_ident() not in client.threads  # boto3 blocks: never on the loop


def test_an_event_eventbridge_keeps_refusing_is_parked_for_every_consumer() -> None:
    client, parked = FakeEventBridge(refusals=99), Parked()
    event = ArticleDeleted(9)
    asyncio.run(bus_over(client, parked).publish(event))
    assert client.calls == 3
    assert parked.letters == [
        DeadLetter(event, None, 3, "PublishRefused: InternalFailure: try later")
    ]


def test_an_event_for_a_bus_that_does_not_exist_is_parked(aws: Deployment) -> None:
    parked = Parked()
    event = ArticleDeleted(9)
    asyncio.run(EventBridgeBus("no-such-bus", None, NO_PAUSE, parked).publish(event))
    [letter] = parked.letters
    assert (letter.event, letter.consumer) == (event, None)
    assert letter.error.startswith("ResourceNotFoundException")


def test_an_unreachable_eventbridge_is_tried_as_often_as_the_bus_says_then_parked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the bus retries: botocore's own retries on top would multiply the time the
    publishing request waits."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    parked = Parked()
    bus = EventBridgeBus("conduit-events", None, NO_PAUSE, parked)
    sent: list[str] = []
    bus._client.meta.events.register("before-send.events.PutEvents", lambda **_: sent.append("x"))
    event = ArticleDeleted(9)
    asyncio.run(bus.publish(event))
    assert len(sent) == NO_PAUSE.attempts
    [letter] = parked.letters
    assert (letter.event, letter.attempts) == (event, NO_PAUSE.attempts)
    assert letter.error.startswith("EndpointConnectionError")


def test_the_eventbridge_bus_without_an_aws_region_refuses_to_start(
    sqlite_files: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    settings = replace(sqlite_files, event_bus=EventBridgeTarget(BUS))
    with pytest.raises(ConfigError, match="needs an AWS region: set AWS_DEFAULT_REGION"):
        create_app(settings)


# --- the SQS-triggered Lambda ---------------------------------------------------------------------


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    """A record as Lambda's SQS event source mapping delivers it."""
    return {
        "messageId": message_id,
        "receiptHandle": f"AQEB{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767225600000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1767225600001",
        },
        "messageAttributes": {},
        "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue_name(PREFIX, 'comments')}",
        "awsRegion": "us-east-1",
    }


def delivered_by_eventbridge(event: ArticleDeleted | Liked) -> str:
    """The message body EventBridge writes to an SQS target: the whole envelope."""
    envelope = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        **wire.to_envelope(event),
    }
    return json.dumps(envelope)


def test_the_lambda_consumer_reports_only_the_failed_messages(sqlite_files: Settings) -> None:
    asyncio.run(seed(sqlite_files, [1, 2]))
    consumer = ContainerConsumer(sqlite_files, "comments")
    try:
        batch = {
            "Records": [
                sqs_record("m1", delivered_by_eventbridge(ArticleDeleted(1))),
                sqs_record("m2", "{truncated"),
                sqs_record("m3", delivered_by_eventbridge(Liked(2, 2))),
                sqs_record("m4", delivered_by_eventbridge(ArticleDeleted(1))),  # redelivered
            ]
        }
        assert consumer(batch) == {
            "batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]
        }
        assert consumer({"Records": []}) == {"batchItemFailures": []}
    finally:
        consumer.close()
    # The comments consumer forgot article 1's comments, not its likes (the likes consumer's).
    assert asyncio.run(remaining(sqlite_files, [1, 2])) == {1: (0, 2), 2: (1, 2)}


LAMBDA_INVOCATION = """
import json, sys
from aws_lambda.consumer import handler
print(json.dumps(handler(json.loads(sys.argv[1]), None)))
"""


def test_the_lambda_handler_builds_its_consumer_from_its_deployed_environment(
    sqlite_files: Settings,
) -> None:
    """As infra/terraform configures it: production, the consumer's own store alone, and no
    JWT secret (it handles no token)."""
    asyncio.run(seed(sqlite_files, [1]))
    env = {
        "CONDUIT_ENV": "production",
        "CONDUIT_CONSUMER": "likes",
        "CONDUIT_LIKES_URL": sqlite_files.domain_urls()["likes"],
    }
    batch = json.dumps({"Records": [sqs_record("m1", delivered_by_eventbridge(ArticleDeleted(1)))]})
    result = run_python("-c", LAMBDA_INVOCATION, batch, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"batchItemFailures": []}
    assert asyncio.run(remaining(sqlite_files, [1])) == {1: (1, 0)}

    unnamed = run_python("-c", LAMBDA_INVOCATION, batch, env={**env, "CONDUIT_CONSUMER": ""})
    assert unnamed.returncode != 0
    assert "CONDUIT_CONSUMER='': name the consumer domain" in unnamed.stderr


def test_a_lambda_consumer_in_production_refuses_a_store_that_is_not_ready(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.db"
    production = Settings.from_env(
        {"CONDUIT_ENV": "production", "CONDUIT_COMMENTS_URL": f"sqlite+aiosqlite:///{empty}"},
        signs_tokens=False,
    )
    with pytest.raises(SchemaNotCurrent, match="the comments database"):
        ContainerConsumer(production, "comments")


def test_every_consumer_has_handlers_for_exactly_its_subscribed_events(tmp_path: Path) -> None:
    assert set(HANDLERS_OF) == set(CONSUMERS)
    opened = OpenStores(dict.fromkeys(CONSUMERS, f"sqlite+aiosqlite:///{tmp_path}/x.db"))
    for consumer, build in HANDLERS_OF.items():
        assert build(opened).event_types == set(CONSUMERS[consumer])


@pytest.mark.parametrize("value", ["", "users", "Comments", "comments,likes"])
def test_a_lambda_consumer_must_name_a_consumer_domain(value: str) -> None:
    with pytest.raises(ConfigError, match="one of comments, likes"):
        consumer_from_env({"CONDUIT_CONSUMER": value})


def test_a_lambda_consumer_name_may_be_padded() -> None:
    assert consumer_from_env({"CONDUIT_CONSUMER": " likes "}) == "likes"
