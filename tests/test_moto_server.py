"""The moto server the API suites run against keeps the DynamoDB promise their retries rely on:
a TransactWriteItems sent again with its ClientRequestToken (as botocore does when an answer
was lost) is applied once."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from stores.dynamodb.tables import TABLES
from tests import aws
from tests.conftest import TEST_BACKENDS

pytestmark = pytest.mark.skipif(
    "dynamodb" not in TEST_BACKENDS, reason="CONDUIT_TEST_BACKENDS leaves out dynamodb"
)


def test_a_transaction_sent_again_with_its_token_is_applied_once(aws_endpoint: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=aws_endpoint, region_name=aws.REGION)
    name = aws.fresh_table_urls()["comments"].removeprefix("dynamodb://")
    client.create_table(**TABLES["comments"].create_table_arguments(name))
    counter = {"pk": {"S": "COUNTER"}, "sk": {"S": "COUNTER"}}

    def add_one(token: str) -> None:
        update: Any = {
            "TableName": name,
            "Key": counter,
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
        client.transact_write_items(TransactItems=[{"Update": update}], ClientRequestToken=token)

    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    add_one(first)
    add_one(first)
    assert client.get_item(TableName=name, Key=counter)["Item"]["n"] == {"N": "1"}
    add_one(second)
    assert client.get_item(TableName=name, Key=counter)["Item"]["n"] == {"N": "2"}
