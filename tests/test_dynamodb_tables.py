"""DynamoDB tables at start: created from their design in development (also by several workers
starting at once), only checked in production, and refused when missing or shaped unlike the
design; the configuration errors a `dynamodb://` URL can make; and a malformed request,
reported naming its bad parameters though the client does not check requests on the way out."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from config import ConfigError
from stores.dynamodb.backend import DynamoBackend, TablesNotReady
from stores.dynamodb.tables import TABLES
from tests import aws
from tests.conftest import TEST_BACKENDS

pytestmark = pytest.mark.skipif(
    "dynamodb" not in TEST_BACKENDS, reason="CONDUIT_TEST_BACKENDS leaves out dynamodb"
)


@pytest.fixture
def in_process_aws() -> Iterator[None]:
    with aws.in_process_aws():
        yield


async def _prepared(urls: dict[str, str], *, create: bool) -> None:
    backend = DynamoBackend(urls)
    try:
        await backend.prepare_tables(create=create)
    finally:
        await backend.close()


@pytest.mark.usefixtures("in_process_aws")
def test_workers_starting_together_create_each_table_once() -> None:
    urls = aws.fresh_table_urls()

    async def start_four_workers() -> None:
        await asyncio.gather(*(_prepared(urls, create=True) for _ in range(4)))

    asyncio.run(start_four_workers())
    names = boto3.client("dynamodb").list_tables()["TableNames"]
    assert sorted(names) == sorted(u.removeprefix("dynamodb://") for u in urls.values())
    asyncio.run(_prepared(urls, create=False))  # production finds them as designed


@pytest.mark.usefixtures("in_process_aws")
@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"Key": {"pk": "untyped", "sk": "untyped"}}, "Key.pk"),
        ({"Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}, "Consistent": True}, "Consistent"),
    ],
)
def test_a_malformed_request_is_reported_naming_its_parameter(
    arguments: dict[str, object], named: str
) -> None:
    async def send() -> None:
        backend = DynamoBackend(aws.fresh_table_urls())
        try:
            await backend.prepare_tables(create=True)
            table = backend.table("articles")
            await table.call("get_item", TableName=table.name, **arguments)
        finally:
            await backend.close()

    # A bug in the request, not the service out of reach (StoreUnavailable).
    with pytest.raises(ParamValidationError, match=named):
        asyncio.run(send())


@pytest.mark.usefixtures("in_process_aws")
def test_a_request_the_service_refuses_as_malformed_is_checked_and_named() -> None:
    # Past the serialiser (a number where the model has a string), refused by the service as
    # malformed: SerializationException, as the stub answers.
    async def send() -> None:
        backend = DynamoBackend(aws.fresh_table_urls())
        try:
            await backend.prepare_tables(create=True)
            table = backend.table("articles")
            with Stubber(table.client) as stub:
                stub.add_client_error("get_item", service_error_code="SerializationException")
                key = {"pk": {"S": 5}, "sk": {"S": "b"}}
                await table.call("get_item", TableName=table.name, Key=key)
        finally:
            await backend.close()

    with pytest.raises(ParamValidationError, match=r"Key\.pk\.S"):
        asyncio.run(send())


@pytest.mark.usefixtures("in_process_aws")
def test_production_refuses_missing_tables_and_names_them() -> None:
    urls = aws.fresh_table_urls()
    with pytest.raises(TablesNotReady) as refused:
        asyncio.run(_prepared(urls, create=False))
    message = str(refused.value)
    assert all(f"the {domain} table does not exist" in message for domain in urls)
    assert "Terraform" in message
    assert not boto3.client("dynamodb").list_tables()["TableNames"]  # nothing created


@pytest.mark.usefixtures("in_process_aws")
def test_a_table_unlike_its_design_is_refused_even_in_development() -> None:
    urls = aws.fresh_table_urls()
    likes = urls["likes"].removeprefix("dynamodb://")
    wrong = TABLES["comments"].create_table_arguments(likes)  # no `by_user` index
    boto3.client("dynamodb").create_table(**wrong)
    with pytest.raises(
        TablesNotReady, match=r"the likes table 'conduit-test\d+-likes' has keys or"
    ):
        asyncio.run(_prepared(urls, create=True))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("dynamodb://", "names no valid DynamoDB table"),
        ("dynamodb://ab", "names no valid DynamoDB table"),
        ("dynamodb://has space", "names no valid DynamoDB table"),
        ("dynamodb://a/b", "names no valid DynamoDB table"),
    ],
)
def test_a_bad_table_name_is_a_config_error(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DynamoBackend({"users": url})


def test_two_domains_in_one_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="each domain needs a DynamoDB table of its own"):
        DynamoBackend({"users": "dynamodb://shared", "likes": "dynamodb://shared"})


def test_a_missing_region_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    with (
        mock.patch("stores.dynamodb.backend._session", return_value=boto3.session.Session()),
        pytest.raises(ConfigError, match="set AWS_DEFAULT_REGION"),
    ):
        DynamoBackend({"users": "dynamodb://conduit-users"})
