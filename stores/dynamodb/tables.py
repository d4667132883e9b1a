"""The one definition of each domain's DynamoDB table: its keys and its global secondary
indexes. The stores create tables from it in development, and the Terraform in
infra/terraform is checked against it by a test, so AWS and the code cannot drift apart.

Every table has the generic keys `pk` and `sk` (strings); an item's kind is in its key prefix.
Sort keys that order by time are `time_key`s, so one Query reads a newest-first page.
Every table also holds its domain's transactional outbox (stores/dynamodb/outbox.py), and has
a stream of new item images, which on AWS carries each outbox item to aws_lambda.outbox:

every table
  OUTBOX                / <ms>#<event_id>     an event recorded with its write, until sent

users
  USER#<id>             / USER                the user
  USERNAME#<key>        / USERNAME            uniqueness claim of a username by its key
                                              (models.users.username_key), holds the id
  EMAIL#<email>         / EMAIL               uniqueness claim, holds the user's id
  USER#<follower>       / FOLLOWS#<followee>  a follow;
                                              gsi1 = USER#<followee> / FOLLOWER#<follower>
  COUNTER               / COUNTER             the last id handed out
articles
  ARTICLE#<id>          / ARTICLE             the article with its tags;
                                              gsi1 = ARTICLES / time_key (all, newest first)
                                              gsi2 = AUTHOR#<author_id> / time_key
  SLUG#<slug>           / SLUG                uniqueness claim, holds the article's id
  TAG#<tag>             / time_key            an article carrying the tag
  TAGS                  / <tag>               the tag's article count (the tag list)
  COUNT                 / ALL | AUTHOR#<id>   article counts
  COUNTER               / COUNTER             the last id handed out
likes
  ARTICLE#<article_id>  / USER#<user_id>      a like; gsi1 = USER#<user_id> / ARTICLE#<article_id>
  ARTICLE#<article_id>  / COUNT               the article's like count
  ARTICLE#<article_id>  / DELETED             tombstone: the article was deleted, no more likes
comments
  ARTICLE#<article_id>  / COMMENT#<time_key>  a comment
  COMMENT#<id>          / COMMENT             the same comment, to find it by id
  ARTICLE#<article_id>  / COUNT               the article's comment count
  ARTICLE#<article_id>  / DELETED             tombstone: the article was deleted, no more comments
  COUNTER               / COUNTER             the last id handed out
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
# What each table's stream carries of a written item: the item as written.
STREAM_VIEW_TYPE = "NEW_IMAGE"


@dataclass(frozen=True)
class Index:
    """A global secondary index projecting whole items."""

    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableDesign:
    indexes: tuple[Index, ...] = ()

    def key_attributes(self) -> list[str]:
        """Every attribute some key or index is built on (all of them strings)."""
        names = [PARTITION_KEY, SORT_KEY]
        for index in self.indexes:
            names += [index.partition_key, index.sort_key]
        return names

    def index(self, name: str) -> Index:
        return next(i for i in self.indexes if i.name == name)

    def create_table_arguments(self, table_name: str) -> dict[str, Any]:
        """The arguments of DynamoDB's CreateTable for this design, billed on demand."""
        arguments: dict[str, Any] = {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": _key_schema(PARTITION_KEY, SORT_KEY),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"} for name in self.key_attributes()
            ],
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        }
        if self.indexes:
            arguments["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": i.name,
                    "KeySchema": _key_schema(i.partition_key, i.sort_key),
                    "Projection": {"ProjectionType": "ALL"},
                }
                for i in self.indexes
            ]
        return arguments


TABLES: dict[str, TableDesign] = {
    "users": TableDesign(indexes=(Index("followers", "gsi1pk", "gsi1sk"),)),
    "articles": TableDesign(
        indexes=(Index("newest", "gsi1pk", "gsi1sk"), Index("by_author", "gsi2pk", "gsi2sk"))
    ),
    "likes": TableDesign(indexes=(Index("by_user", "gsi1pk", "gsi1sk"),)),
    "comments": TableDesign(),
}


def time_key(created_at: datetime, ident: int) -> str:
    """A sort key that orders by creation time, ties broken by id, as text: fixed-width
    milliseconds and id, so string order is time order."""
    return f"{round(created_at.timestamp() * 1000):015d}#{ident:019d}"


def _key_schema(partition_key: str, sort_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": partition_key, "KeyType": "HASH"},
        {"AttributeName": sort_key, "KeyType": "RANGE"},
    ]
