"""Users and follows in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    bindparam,
    delete,
    exc,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from events import DomainEvent
from models import clock
from models.errors import Conflict, NotFound
from models.users import Follow, FollowCounts, User, UserRecord, UserRow, username_key
from models.validation import MISSING
from stores.sql.engine import insert_ignoring_duplicates
from stores.sql.outbox import SqlOutboxStore, record
from stores.sql.reads import Reads, among
from stores.sql.restoring import advance_ids, hold_ids, replacing
from stores.sql.tables import follows, users, users_outbox


class SqlUserStore(SqlOutboxStore):
    outbox = users_outbox

    async def create(self, row: UserRow) -> User:
        [user] = await self.create_many([row])
        return user

    async def create_many(self, rows: Sequence[UserRow]) -> list[User]:
        if not rows:
            return []
        now = clock.now()
        stmt = insert(users).returning(users, sort_by_parameter_order=True)
        try:
            async with self._begin() as conn:
                # Every row names every column: one statement serves the whole batch.
                result = await conn.execute(
                    stmt,
                    [
                        {
                            "bio": None,
                            "image": None,
                            **_values(r),
                            "created_at": now,
                            "updated_at": now,
                        }
                        for r in rows
                    ],
                )
                return [_user(m) for m in result.mappings()]
        except exc.IntegrityError:
            raise await self._conflict(rows, exclude_ids=()) from None

    async def update(
        self, user_id: int, row: UserRow, *, events: Sequence[DomainEvent] = ()
    ) -> User:
        values: dict[str, Any] = _values(row)
        values["updated_at"] = clock.now()
        if row.new_credentials:
            values["credential_version"] = users.c.credential_version + 1
        try:
            async with self._begin() as conn:
                result = await conn.execute(
                    update(users).where(users.c.id == user_id).values(values).returning(users)
                )
                found = result.mappings().one_or_none()
                if found is None:
                    raise NotFound("user")
                await record(conn, self.outbox, events)
        except exc.IntegrityError:
            raise await self._conflict([row], exclude_ids=[user_id]) from None
        return _user(found)

    async def by_ids(self, ids: Sequence[int]) -> list[User]:
        if not ids:
            return []
        return [_user(m) for m in await self._read(_BY_IDS, None, {"ids": list(ids)})]

    async def by_username(self, username: str) -> User | None:
        found = await self._read(_BY_USERNAME, None, {"key": username_key(username)})
        return _user(found[0]) if found else None

    async def by_email(self, email: str) -> User | None:
        found = await self._read(_BY_EMAIL, None, {"email": email})
        return _user(found[0]) if found else None

    async def follow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        await self._follow([Follow(follower_id, followee_id)], events)

    async def follow_many(self, pairs: Sequence[Follow]) -> None:
        await self._follow(pairs, ())

    async def _follow(self, pairs: Sequence[Follow], events: Sequence[DomainEvent]) -> None:
        if not pairs:
            return
        async with self._begin() as conn:
            stmt = insert_ignoring_duplicates(follows, conn.dialect.name)
            await conn.execute(
                stmt, [{"follower_id": f.follower_id, "followee_id": f.followee_id} for f in pairs]
            )
            await record(conn, self.outbox, events)

    async def unfollow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        async with self._begin() as conn:
            await conn.execute(
                delete(follows).where(
                    follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
                )
            )
            await record(conn, self.outbox, events)

    async def followed_among(self, follower_id: int, candidate_ids: Sequence[int]) -> set[int]:
        if not candidate_ids:
            return set()
        params = {"follower_id": follower_id, "ids": list(candidate_ids)}
        return {r["followee_id"] for r in await self._read(_FOLLOWED_AMONG, None, params)}

    async def followees(self, follower_id: int) -> list[int]:
        params = {"follower_id": follower_id}
        return [r["followee_id"] for r in await self._read(_FOLLOWEES, None, params)]

    async def follow_counts(self, user_ids: Sequence[int]) -> Mapping[int, FollowCounts]:
        if not user_ids:
            return {}
        counts: dict[int, dict[str, int]] = {}
        for row in await self._read(_FOLLOW_COUNTS, None, {"ids": list(set(user_ids))}):
            counts.setdefault(row["user_id"], {})[row["kind"]] = row["n"]
        return {user_id: FollowCounts(**kinds) for user_id, kinds in counts.items()}

    async def dump(self, after: int | None, limit: int) -> list[UserRecord]:
        stmt = select(users).order_by(users.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(users.c.id > after)
        async with self._connect() as conn:
            found = [_user(m) for m in (await conn.execute(stmt)).mappings()]
            followees = await _followees_of(conn, [u.id for u in found])
        return [UserRecord(u, tuple(sorted(followees.get(u.id, [])))) for u in found]

    async def restore(self, records: Sequence[UserRecord]) -> None:
        if not records:
            return
        ids = [r.user.id for r in records]
        pairs = [
            {"follower_id": r.user.id, "followee_id": f} for r in records for f in r.followee_ids
        ]
        try:
            async with self._begin() as conn:
                await hold_ids(conn, users)
                await conn.execute(
                    replacing(users, conn.dialect.name), [_columns(r.user) for r in records]
                )
                await conn.execute(delete(follows).where(follows.c.follower_id.in_(ids)))
                if pairs:
                    await conn.execute(insert(follows), pairs)
                await advance_ids(conn, users, max(ids))
        except exc.IntegrityError:
            rows = [UserRow(username=r.user.username, email=r.user.email) for r in records]
            raise await self._conflict(rows, exclude_ids=ids) from None

    async def _conflict(self, rows: Sequence[UserRow], exclude_ids: Sequence[int]) -> Conflict:
        """Which unique fields the failed write collided on, read after the fact so that the
        answer is right on every dialect and under races. (Rows of one batch that collide
        only with each other name the username.)"""
        values = [_values(r) for r in rows]
        wanted = {
            name: {v[column] for v in values if column in v}
            for name, column in (("username", "username_key"), ("email", "email"))
        }
        columns = {"username": users.c.username_key, "email": users.c.email}
        stmt = select(*columns.values()).where(
            or_(*(columns[name].in_(taken) for name, taken in wanted.items() if taken))
        )
        if exclude_ids:
            stmt = stmt.where(users.c.id.not_in(exclude_ids))
        async with self._connect() as conn:
            holders = (await conn.execute(stmt)).mappings().all()
        taken = [
            name
            for name, held in wanted.items()
            if any(h[columns[name].name] in held for h in holders)
        ]
        return Conflict.taken(*(taken or ["username"]))


def _values(row: UserRow) -> dict[str, Any]:
    names = ("username", "email", "password_hash", "bio", "image")
    values = {n: v for n in names if (v := getattr(row, n)) is not MISSING}
    if "username" in values:
        values["username_key"] = username_key(values["username"])
    return values


async def _followees_of(conn: AsyncConnection, follower_ids: Sequence[int]) -> dict[int, list[int]]:
    if not follower_ids:
        return {}
    stmt = select(follows.c.follower_id, follows.c.followee_id).where(
        follows.c.follower_id.in_(follower_ids)
    )
    found: dict[int, list[int]] = {}
    for follower_id, followee_id in await conn.execute(stmt):
        found.setdefault(follower_id, []).append(followee_id)
    return found


def _columns(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "username_key": username_key(user.username),
        "email": user.email,
        "password_hash": user.password_hash,
        "bio": user.bio,
        "image": user.image,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "credential_version": user.credential_version,
    }


_BY_IDS = Reads(lambda dialect, _: select(users).where(among(users.c.id, "ids", dialect)))
_BY_USERNAME = Reads(lambda _, __: select(users).where(users.c.username_key == bindparam("key")))
_BY_EMAIL = Reads(lambda _, __: select(users).where(users.c.email == bindparam("email")))
_FOLLOWEES = Reads(
    lambda _, __: select(follows.c.followee_id).where(
        follows.c.follower_id == bindparam("follower_id", type_=BigInteger)
    )
)
_FOLLOWED_AMONG = Reads(
    lambda dialect, _: select(follows.c.followee_id).where(
        follows.c.follower_id == bindparam("follower_id", type_=BigInteger),
        among(follows.c.followee_id, "ids", dialect),
    )
)


def _follow_counts_statement(dialect: str, _shape: None) -> Select[Any]:
    """Both counts of every user in one statement: the followers through the index on
    followee_id, the followees through the primary key's leading follower_id."""
    counted = [
        select(column.label("user_id"), literal(kind).label("kind"), func.count().label("n"))
        .where(among(column, "ids", dialect))
        .group_by(column)
        for column, kind in (
            (follows.c.followee_id, "followers"),
            (follows.c.follower_id, "following"),
        )
    ]
    return select(union_all(*counted).subquery())


_FOLLOW_COUNTS = Reads(_follow_counts_statement)


def _user(m: Mapping[Any, Any]) -> User:
    return User(
        id=m["id"],
        username=m["username"],
        email=m["email"],
        password_hash=m["password_hash"],
        bio=m["bio"],
        image=m["image"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        credential_version=m["credential_version"],
    )
