"""The outbox relay on AWS, in moto's in-process AWS: the stream-triggered Lambda
(aws_lambda.outbox) given the stream records of what the stores' writes put in their tables
publishes each outbox item's event to EventBridge and deletes the item; it skips records of
anything else, and names the first record that failed so that Lambda sends it again. (moto's
DynamoDB streams answer this botocore's endpoint with "not yet implemented": the records are
built from the items written, as a stream with NEW_IMAGE shows them.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import boto3
import pytest

from aws_lambda.outbox import ContainerRelay
from config import ConfigError, EventBridgeTarget, Settings
from events import ArticleDeleted, DomainEvent, Liked, wire
from stores.dynamodb.likes import DynamoLikeStore
from stores.dynamodb.outbox import OUTBOX_PARTITION
from stores.errors import StoreUnavailable
from stores.factory import OpenStores
from tests.aws import fresh_table_urls, in_process_aws
from tests.conftest import settings_for
from tests.store_contract.test_articles import new
from tests.test_events_aws import BUS, Deployment

# slow (AWS on moto): left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.usefixtures("cheap_password_hashing"), pytest.mark.slow]


@pytest.fixture
def aws() -> Iterator[Deployment]:
    with in_process_aws():
        yield Deployment.create()


@pytest.fixture
def settings(aws: Deployment) -> Settings:
    """Every domain in a table of its own, events to the deployment's bus."""
    tables = fresh_table_urls()
    return replace(settings_for(tables, tables["users"]), event_bus=EventBridgeTarget(BUS))


@pytest.fixture
def relay(settings: Settings) -> Iterator[ContainerRelay]:
    container = ContainerRelay(settings)
    try:
        yield container
    finally:
        container.close()


def table_name(settings: Settings, domain: str) -> str:
    return settings.domain_urls()[domain].removeprefix("dynamodb://")


def stream_records(settings: Settings, *domains: str) -> list[dict[str, Any]]:
    """An INSERT record per item of the domains' outbox partitions, oldest first, and one of
    an item that is not an outbox item, in between."""
    client = boto3.client("dynamodb")
    records: list[dict[str, Any]] = []
    for domain in domains:
        items = client.query(
            TableName=table_name(settings, domain),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": OUTBOX_PARTITION}},
        )["Items"]
        records += [_inserted(item) for item in items]
        records.append(_inserted({"pk": {"S": "COUNTER"}, "sk": {"S": "COUNTER"}}))
    for number, record in enumerate(records, start=1):
        record["dynamodb"]["SequenceNumber"] = f"{number:021d}"
    return records


def _inserted(item: dict[str, Any]) -> dict[str, Any]:
    keys = {"pk": item["pk"], "sk": item["sk"]}
    return {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": keys, "NewImage": item, "StreamViewType": "NEW_IMAGE"},
    }


async def write(settings: Settings) -> list[DomainEvent]:
    """An article deleted and a like, with their events (the stores record them)."""
    opened = OpenStores(settings.domain_urls())
    stores = opened.stores
    try:
        article = await stores.articles.create(new("doomed"))
        deleted, liked = ArticleDeleted(article.id), Liked(2, article.id)
        await stores.articles.delete(article.id, events=[deleted])
        await stores.likes.like(2, article.id, events=[liked])
        return [deleted, liked]
    finally:
        await opened.close()


def outbox_left(settings: Settings, domains: Sequence[str]) -> int:
    client = boto3.client("dynamodb")
    return sum(
        client.query(
            TableName=table_name(settings, d),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": OUTBOX_PARTITION}},
        )["Count"]
        for d in domains
    )


def test_the_stream_handler_publishes_each_recorded_event_and_deletes_its_item(
    aws: Deployment, settings: Settings, relay: ContainerRelay
) -> None:
    written = asyncio.run(write(settings))
    records = stream_records(settings, "articles", "likes")
    assert len(records) == 4

    assert relay({"Records": records}) == {"batchItemFailures": []}

    assert [wire.from_json(body) for body in aws.bodies(aws.every_event)] == written
    assert outbox_left(settings, ["articles", "likes"]) == 0


def test_the_stream_handler_names_the_first_record_that_failed(
    aws: Deployment, settings: Settings, relay: ContainerRelay, monkeypatch: pytest.MonkeyPatch
) -> None:
    deleted, liked = asyncio.run(write(settings))
    records = stream_records(settings, "articles", "likes")

    async def unavailable(_store: DynamoLikeStore, _events: Sequence[DomainEvent]) -> None:
        raise StoreUnavailable("DynamoDB throttled")

    monkeypatch.setattr(DynamoLikeStore, "forget_events", unavailable)
    failed = records[2]["dynamodb"]["SequenceNumber"]
    assert relay({"Records": records}) == {"batchItemFailures": [{"itemIdentifier": failed}]}
    # The deletion went and its item with it; the like was published but stays recorded, so
    # the batch sent again from it publishes it again: at least once.
    assert [wire.from_json(body) for body in aws.bodies(aws.every_event)] == [deleted, liked]
    assert outbox_left(settings, ["articles"]) == 0
    assert outbox_left(settings, ["likes"]) == 1

    monkeypatch.undo()
    assert relay({"Records": records[2:]}) == {"batchItemFailures": []}
    assert [wire.from_json(body) for body in aws.bodies(aws.every_event)] == [liked]
    assert outbox_left(settings, ["likes"]) == 0


def test_the_stream_handler_needs_the_bus_to_relay_to(aws: Deployment, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="CONDUIT_EVENT_BUS"):
        ContainerRelay(replace(settings, event_bus=None))
