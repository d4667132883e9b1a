"""`dynamodb://TABLE` store URLs, readable without loading boto3."""

from __future__ import annotations

import re

from config import ConfigError

SCHEME = "dynamodb://"
# DynamoDB's own rule for table names.
_TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def is_dynamodb_url(url: str) -> bool:
    return url.startswith(SCHEME)


def table_name(domain: str, url: str) -> str:
    name = url.removeprefix(SCHEME)
    if not _TABLE_NAME.match(name):
        raise ConfigError(
            f"the {domain} store URL names no valid DynamoDB table: use dynamodb://TABLE, "
            "where TABLE is 3 to 255 letters, digits, '_', '-' or '.'"
        )
    return name
