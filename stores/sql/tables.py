"""Tables per domain. Each domain has its own MetaData because it may live in its own database:
nothing here references another domain's table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY. Tables with such
# ids are declared `sqlite_autoincrement`, so that SQLite never hands out an id again once its
# row is deleted (without it, it takes the largest id left plus one): a comment or like left on
# a deleted article would otherwise land on the next article, and a deleted article's
# tombstone would refuse comments on it. PostgreSQL's sequences never go back anyway.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Constraints get names, the same on every database, so that a later migration can drop or
# change them by name (SQLite would otherwise leave them nameless).
NAMING = {"pk": "pk_%(table_name)s", "uq": "uq_%(table_name)s_%(column_0_name)s"}

users_metadata = MetaData(naming_convention=NAMING)
users = Table(
    "users",
    users_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # As the user spelled it; `username_key` (models.users.username_key) is what is unique.
    Column("username", String(40), nullable=False),
    Column("username_key", String(160), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("bio", Text),
    Column("image", String(2048)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("credential_version", Integer, nullable=False, server_default="0"),
    sqlite_autoincrement=True,
)
follows = Table(
    "follows",
    users_metadata,
    Column("follower_id", BigInteger, primary_key=True),
    Column("followee_id", BigInteger, primary_key=True),
    Index("ix_follows_followee", "followee_id"),
)

articles_metadata = MetaData(naming_convention=NAMING)
articles = Table(
    "articles",
    articles_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(300), nullable=False, unique=True),
    Column("title", String(256), nullable=False),
    Column("description", String(1024), nullable=False),
    Column("body", Text, nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_articles_newest", "created_at", "id"),
    Index("ix_articles_author_newest", "author_id", "created_at", "id"),
    sqlite_autoincrement=True,
)
article_tags = Table(
    "article_tags",
    articles_metadata,
    Column("article_id", BigInteger, primary_key=True),
    Column("tag", String(64), primary_key=True),
    # The article's creation time (which never changes), copied so that a tag's articles come
    # newest first straight from the index, a page at a time however deep or rare the tag.
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_article_tags_tag_newest", "tag", "created_at", "article_id"),
)
# Exact counts kept beside the rows they count, changed in the transaction of every article
# write, so that a list's count reads one row (or one per followed author) instead of counting
# index entries, which grows with the data. Keys: "all", "tag:<tag>", "author:<id>".
article_counts = Table(
    "article_counts",
    articles_metadata,
    Column("key", String(80), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

likes_metadata = MetaData(naming_convention=NAMING)
likes = Table(
    "likes",
    likes_metadata,
    Column("article_id", BigInteger, primary_key=True),
    Column("user_id", BigInteger, primary_key=True),
    Index("ix_likes_user", "user_id", "article_id"),
)
# The articles whose likes were forgotten (the article was deleted): a like of one is refused,
# so that a like racing the deletion cannot outlive it (see stores/sql/tombstones.py).
like_tombstones = Table(
    "like_tombstones",
    likes_metadata,
    Column("article_id", BigInteger, primary_key=True),
)

comments_metadata = MetaData(naming_convention=NAMING)
comments = Table(
    "comments",
    comments_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("article_id", BigInteger, nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_comments_article_newest", "article_id", "created_at", "id"),
    sqlite_autoincrement=True,
)
# The articles whose comments were forgotten, as like_tombstones is for likes.
comment_tombstones = Table(
    "comment_tombstones",
    comments_metadata,
    Column("article_id", BigInteger, primary_key=True),
)


def _outbox(domain: str, metadata: MetaData) -> Table:
    """The domain's transactional outbox: each event its writes raised, in its wire form
    (events/wire.py), recorded in the write's transaction and deleted once sent; `claimed_at`
    is when the writing request, or the relay pass sending it, claimed it (events/relay.py).
    Named after its domain, since domains may share a database."""
    name = f"{domain}_outbox"
    return Table(
        name,
        metadata,
        Column("event_id", String(32), primary_key=True),
        Column("event", Text, nullable=False),
        Column("claimed_at", UtcDateTime, nullable=False),
        Index(f"ix_{name}_claimed", "claimed_at"),
    )


users_outbox = _outbox("users", users_metadata)
articles_outbox = _outbox("articles", articles_metadata)
likes_outbox = _outbox("likes", likes_metadata)
comments_outbox = _outbox("comments", comments_metadata)

METADATA_BY_DOMAIN = {
    "users": users_metadata,
    "articles": articles_metadata,
    "likes": likes_metadata,
    "comments": comments_metadata,
}
