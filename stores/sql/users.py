"""Users and follows in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exc, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from models import clock
from models.errors import Conflict, NotFound
from models.users import Follow, User, UserRow
from models.validation import MISSING
from stores.sql._common import SqlStore
from stores.sql.engine import insert_ignoring_duplicates
from stores.sql.tables import follows, users


class SqlUserStore(SqlStore):
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
            raise await self._conflict(rows, exclude_id=None) from None

    async def update(self, user_id: int, row: UserRow) -> User:
        values = _values(row)
        values["updated_at"] = clock.now()
        try:
            async with self._begin() as conn:
                result = await conn.execute(
                    update(users).where(users.c.id == user_id).values(values).returning(users)
                )
                found = result.mappings().one_or_none()
        except exc.IntegrityError:
            raise await self._conflict([row], exclude_id=user_id) from None
        if found is None:
            raise NotFound("user")
        return _user(found)

    async def by_ids(self, ids: Sequence[int]) -> list[User]:
        if not ids:
            return []
        return await self._select(users.c.id.in_(ids))

    async def by_username(self, username: str) -> User | None:
        found = await self._select(users.c.username == username)
        return found[0] if found else None

    async def by_email(self, email: str) -> User | None:
        found = await self._select(users.c.email == email)
        return found[0] if found else None

    async def follow(self, follower_id: int, followee_id: int) -> None:
        await self.follow_many([Follow(follower_id, followee_id)])

    async def follow_many(self, pairs: Sequence[Follow]) -> None:
        if not pairs:
            return
        async with self._begin() as conn:
            stmt = insert_ignoring_duplicates(follows, conn.dialect.name)
            await conn.execute(
                stmt, [{"follower_id": f.follower_id, "followee_id": f.followee_id} for f in pairs]
            )

    async def unfollow(self, follower_id: int, followee_id: int) -> None:
        async with self._begin() as conn:
            await conn.execute(
                delete(follows).where(
                    follows.c.follower_id == follower_id, follows.c.followee_id == followee_id
                )
            )

    async def followed_among(self, follower_id: int, candidate_ids: Sequence[int]) -> set[int]:
        if not candidate_ids:
            return set()
        stmt = select(follows.c.followee_id).where(
            follows.c.follower_id == follower_id, follows.c.followee_id.in_(candidate_ids)
        )
        async with self._connect() as conn:
            return set((await conn.execute(stmt)).scalars())

    async def followees(self, follower_id: int) -> list[int]:
        stmt = select(follows.c.followee_id).where(follows.c.follower_id == follower_id)
        async with self._connect() as conn:
            return list((await conn.execute(stmt)).scalars())

    async def _select(self, condition: Any) -> list[User]:
        async with self._connect() as conn:
            result = await conn.execute(select(users).where(condition))
            return [_user(m) for m in result.mappings()]

    async def _conflict(self, rows: Sequence[UserRow], exclude_id: int | None) -> Conflict:
        """Which unique fields the failed write collided on, read after the fact so that the
        answer is right on every dialect and under races. (Rows of one batch that collide
        only with each other name the username.)"""
        wanted = {
            name: {v for r in rows if (v := getattr(r, name)) is not MISSING}
            for name in ("username", "email")
        }
        stmt = select(users.c.username, users.c.email).where(
            or_(*(users.c[name].in_(values) for name, values in wanted.items() if values))
        )
        if exclude_id is not None:
            stmt = stmt.where(users.c.id != exclude_id)
        async with self._connect() as conn:
            holders = (await conn.execute(stmt)).mappings().all()
        taken = [n for n, values in wanted.items() if any(h[n] in values for h in holders)]
        return Conflict.taken(*(taken or ["username"]))


def _values(row: UserRow) -> dict[str, Any]:
    names = ("username", "email", "password_hash", "bio", "image")
    return {n: v for n in names if (v := getattr(row, n)) is not MISSING}


def _user(m: RowMapping) -> User:
    return User(
        id=m["id"],
        username=m["username"],
        email=m["email"],
        password_hash=m["password_hash"],
        bio=m["bio"],
        image=m["image"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
