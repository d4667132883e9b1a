"""The DynamoDB side of a deployment: one boto3 client and thread pool, one table per domain
(`CONDUIT_<DOMAIN>_URL=dynamodb://<table-name>`). Endpoint, region and credentials come from
the standard AWS settings (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, ...), so the same code
reaches AWS or a local moto server."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache, partial

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, NoRegionError

from config import ConfigError
from stores.dynamodb._common import DynamoTable, error_code
from stores.dynamodb.tables import TABLES
from stores.dynamodb.urls import table_name

# Calls in flight at once per process: each holds a pool thread and an HTTP connection while
# it waits, so this, not the CPU, bounds how many requests overlap.
MAX_CONCURRENT_CALLS = 64
_CLIENT_CONFIG = Config(
    # botocore checks every request against the service model before sending it: 2-15% of
    # a call's CPU against moto (BENCHMARKS.md, issue 11's fourth round). The stores build
    # every request themselves, in shapes the tests send; a malformed one is still checked
    # and reported, when it fails (DynamoTable.call).
    parameter_validation=False,
    connect_timeout=3,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=MAX_CONCURRENT_CALLS,
)


class TablesNotReady(RuntimeError):
    """Tables missing or shaped unlike the code's design, where starting may not create them."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        where = "; ".join(f"the {domain} table {problem}" for domain, problem in problems.items())
        super().__init__(
            f"{where}: create the tables with Terraform (infra/terraform), or start in "
            "development mode to create them"
        )


class DynamoBackend:
    def __init__(self, urls_by_domain: Mapping[str, str]) -> None:
        names = {domain: table_name(domain, url) for domain, url in urls_by_domain.items()}
        shared = {n for n in names.values() if list(names.values()).count(n) > 1}
        if shared:
            raise ConfigError(
                f"each domain needs a DynamoDB table of its own, but {sorted(shared)[0]!r} is "
                "named for more than one"
            )
        try:
            client = _session().client("dynamodb", config=_CLIENT_CONFIG)
        except NoRegionError:
            raise ConfigError(
                "DynamoDB stores need an AWS region: set AWS_DEFAULT_REGION"
            ) from None
        self._executor = ThreadPoolExecutor(MAX_CONCURRENT_CALLS, thread_name_prefix="dynamodb")
        self._tables = {d: DynamoTable(client, n, self._executor, d) for d, n in names.items()}

    def table(self, domain: str) -> DynamoTable:
        return self._tables[domain]

    async def prepare_tables(self, *, create: bool) -> None:
        """Create each missing table from its design and wait until it is active (development),
        or (`create=False`, production) refuse with TablesNotReady unless every table is
        there with the design's keys and indexes."""
        problems: dict[str, str] = {}
        for domain, table in self._tables.items():
            problem = await _problem_with(domain, table)
            if problem == _MISSING and create:
                await self._create(domain, table)
            elif problem is not None:
                problems[domain] = problem
        if problems:
            raise TablesNotReady(problems)

    async def _create(self, domain: str, table: DynamoTable) -> None:
        try:
            await table.call("create_table", **TABLES[domain].create_table_arguments(table.name))
        except ClientError as error:
            # Another process (a second worker starting alongside) is creating it: wait for it.
            if error_code(error) != "ResourceInUseException":
                raise
        waiter = table.client.get_waiter("table_exists")
        wait = partial(
            waiter.wait, TableName=table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        await asyncio.get_running_loop().run_in_executor(self._executor, wait)

    async def close(self) -> None:
        self._executor.shutdown(wait=False)


_MISSING = "does not exist"


@cache
def _session() -> boto3.session.Session:
    """One session per process: a new one reads botocore's service models from disk again,
    which costs more than the rest of making a client."""
    return boto3.session.Session()


async def _problem_with(domain: str, table: DynamoTable) -> str | None:
    described = await table.describe()
    if described is None:
        return _MISSING
    design = TABLES[domain]
    found_indexes = {
        i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]]
        for i in described.get("GlobalSecondaryIndexes", [])
    }
    wanted_indexes = {i.name: [i.partition_key, i.sort_key] for i in design.indexes}
    keys = [k["AttributeName"] for k in described["KeySchema"]]
    if keys != ["pk", "sk"] or found_indexes != wanted_indexes:
        return f"{table.name!r} has keys or indexes unlike its design in stores/dynamodb/tables.py"
    return None
