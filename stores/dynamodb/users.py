"""Users and follows in DynamoDB, laid out as in tables.py: the user item; a claim item per
username and per email, which is what makes each unique (only a conditional transaction can
enforce that, an index cannot); and a follow item per pair in the follower's partition,
indexed by followee.

Every write that moves a claim reads the user first and commits only if the user item still
carries the `version` it read, so two changes of one user cannot both win."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from events import DomainEvent
from models import clock
from models.errors import Conflict, NotFound
from models.users import Follow, FollowCounts, User, UserRecord, UserRow, username_key
from models.validation import MISSING
from stores.dynamodb._common import (
    CONDITION_FAILED,
    DynamoTable,
    count_all,
    delete_action,
    from_millis,
    get_one,
    items_by_dense_ids,
    key,
    millis,
    put_action,
    query_all,
    raise_counter,
    to_item,
    transact,
    write_batches,
)
from stores.dynamodb.outbox import DynamoOutbox, record_actions
from stores.dynamodb.tables import TABLES
from stores.errors import StoreUnavailable

UNIQUE_FIELDS = ("username", "email")
# The item attribute whose value each unique field claims: a username is claimed by its key
# (models.users.username_key), and kept as spelled in `username`.
_CLAIMED = {"username": "username_key", "email": "email"}
_EDITABLE = ("username", "email", "password_hash", "bio", "image")
# A user's item and its two claims: TransactWriteItems takes 100 actions.
USERS_PER_TRANSACTION = 33
# Read-then-write attempts when a concurrent write changed the user in between.
_ATTEMPTS = 5
_FOLLOWERS = TABLES["users"].index("followers")
_ABSENT = "attribute_not_exists(pk)"
_ABSENT_OR_MINE = "attribute_not_exists(pk) OR user_id = :id"

# A transaction action and the unique field whose claim its condition protects (None: the
# condition guards against a concurrent write instead).
Guarded = tuple[dict[str, Any], str | None]


class DynamoUserStore(DynamoOutbox):
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    async def ping(self) -> None:
        await self._table.ping()

    async def create(self, row: UserRow) -> User:
        [user] = await self.create_many([row])
        return user

    async def create_many(self, rows: Sequence[UserRow]) -> list[User]:
        """All or none for up to USERS_PER_TRANSACTION rows (one transaction). A larger batch
        is checked against the claims first, then written one transaction of
        USERS_PER_TRANSACTION users at a time: each of those is atomic, and only a
        registration racing the batch can leave it written in part."""
        if not rows:
            return []
        values = [_new_user_values(row) for row in rows]
        _refuse_repeated_names(values)
        ids = await self._table.allocate_ids(len(rows))
        now = millis(clock.now())
        items = [_new_user_item(i, v, now) for i, v in zip(ids, values, strict=True)]
        chunks = [
            items[start : start + USERS_PER_TRANSACTION]
            for start in range(0, len(items), USERS_PER_TRANSACTION)
        ]
        if len(chunks) > 1:
            await self._refuse_taken_names(items)
        for chunk in chunks:
            guarded = [g for item in chunk for g in self._registration(item)]
            reasons = await transact(self._table, [action for action, _ in guarded])
            if reasons is not None:
                # Fresh ids cannot collide: only a claim's condition can have failed.
                raise _taken(_failed_fields(reasons, guarded))
        return [_user(item) for item in items]

    async def update(
        self, user_id: int, row: UserRow, *, events: Sequence[DomainEvent] = ()
    ) -> User:
        for _ in range(_ATTEMPTS):
            current = await get_one(self._table, _user_key(user_id))
            if current is None:
                raise NotFound("user")
            changed = {
                **current,
                **_values(row),
                "updated_at": millis(clock.now()),
                "version": current["version"] + 1,
            }
            if row.new_credentials:
                changed["credential_version"] = current.get("credential_version", 0) + 1
            # The outbox items have no condition to fail.
            guarded = self._replacement(current, changed) + [
                (action, None) for action in record_actions(self._table, events)
            ]
            reasons = await transact(self._table, [action for action, _ in guarded])
            if reasons is None:
                return _user(changed)
            fields = _failed_fields(reasons, guarded)
            if None not in fields:
                raise _taken(fields)
        raise StoreUnavailable(f"DynamoDB: user {user_id} kept changing while being updated")

    async def by_ids(self, ids: Sequence[int]) -> list[User]:
        wanted = list(dict.fromkeys(ids))
        found = {
            item["id"]: _user(item)
            for item in await self._table.get_many([_user_key(i) for i in wanted])
        }
        return [found[i] for i in wanted if i in found]

    async def by_username(self, username: str) -> User | None:
        return await self._by_claim("username", username_key(username))

    async def by_email(self, email: str) -> User | None:
        return await self._by_claim("email", email)

    async def follow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        follow = put_action(self._table, _follow_item(Follow(follower_id, followee_id)), _ABSENT)
        await self._change_follow(follow, events)

    async def follow_many(self, pairs: Sequence[Follow]) -> None:
        """Idempotent puts, BatchWriteItem 25 a call; not atomic (seeding re-runs it)."""
        await write_batches(self._table, puts=[_follow_item(f) for f in dict.fromkeys(pairs)])

    async def unfollow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        key_ = _follow_key(Follow(follower_id, followee_id))
        await self._change_follow(delete_action(self._table, key_, "attribute_exists(pk)"), events)

    async def _change_follow(self, action: dict[str, Any], events: Sequence[DomainEvent]) -> None:
        """Write or delete a follow with its events; when it is there or gone already (the
        condition fails: the idempotent no-op), record the events alone."""
        reasons = await transact(self._table, [action, *record_actions(self._table, events)])
        if reasons is not None and reasons[0] != CONDITION_FAILED:
            raise RuntimeError(f"DynamoDB cancelled a follow: {reasons}")
        if reasons is not None:
            await self.record_alone(events)

    async def followed_among(self, follower_id: int, candidate_ids: Sequence[int]) -> set[int]:
        keys = [_follow_key(Follow(follower_id, c)) for c in dict.fromkeys(candidate_ids)]
        return {item["followee_id"] for item in await self._table.get_many(keys)}

    async def followees(self, follower_id: int) -> list[int]:
        items = await query_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :follows)",
            ExpressionAttributeValues=to_item(
                {":pk": f"USER#{follower_id}", ":follows": "FOLLOWS#"}
            ),
            ProjectionExpression="followee_id",
            ConsistentRead=True,
        )
        return [item["followee_id"] for item in items]

    async def follow_counts(self, user_ids: Sequence[int]) -> Mapping[int, FollowCounts]:
        """Two COUNT Queries per user, all sent at once: a user's followers on the
        `followers` index, their follows in their own partition."""
        wanted = list(dict.fromkeys(user_ids))
        counted = await asyncio.gather(
            *(self._count_followers(u) for u in wanted), *(self._count_follows(u) for u in wanted)
        )
        followers, following = counted[: len(wanted)], counted[len(wanted) :]
        return {
            u: FollowCounts(followers=followers[i], following=following[i])
            for i, u in enumerate(wanted)
        }

    async def _count_followers(self, user_id: int) -> int:
        return await count_all(
            self._table,
            IndexName=_FOLLOWERS.name,
            KeyConditionExpression="#followee = :user",
            ExpressionAttributeNames={"#followee": _FOLLOWERS.partition_key},
            ExpressionAttributeValues=to_item({":user": f"USER#{user_id}"}),
        )

    async def _count_follows(self, user_id: int) -> int:
        return await count_all(
            self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :follows)",
            ExpressionAttributeValues=to_item({":pk": f"USER#{user_id}", ":follows": "FOLLOWS#"}),
            ConsistentRead=True,
        )

    async def dump(self, after: int | None, limit: int) -> list[UserRecord]:
        """Probes ids upward from `after` (see `items_by_dense_ids`), then reads each found
        user's follows with one Query apiece: an offline copy, not a request path."""
        items = await items_by_dense_ids(self._table, after, limit, _user_key)
        followees = await asyncio.gather(*(self.followees(item["id"]) for item in items))
        return [
            UserRecord(_user(item), tuple(sorted(ids)))
            for item, ids in zip(items, followees, strict=True)
        ]

    async def restore(self, records: Sequence[UserRecord]) -> None:
        """Each user with its claims in a transaction of its own, moving claims the user held
        under other names; Conflict if another user holds a name. Then the follows are made
        exactly the given ones, and the id counter raised past every restored id."""
        latest = list({r.user.id: r for r in records}.values())
        if not latest:
            return
        await asyncio.gather(*(self._restore_user(r.user) for r in latest))
        await self._restore_follows(latest)
        await raise_counter(self._table, max(r.user.id for r in latest))

    async def _restore_user(self, user: User) -> None:
        for _ in range(_ATTEMPTS):
            current = await get_one(self._table, _user_key(user.id))
            version = 1 if current is None else current["version"] + 1
            guarded = self._replacement(current, {**_stored(user), "version": version})
            reasons = await transact(self._table, [action for action, _ in guarded])
            if reasons is None:
                return
            fields = _failed_fields(reasons, guarded)
            if None not in fields:
                raise _taken(fields)
        raise StoreUnavailable(f"DynamoDB: user {user.id} kept changing while being restored")

    async def _restore_follows(self, records: Sequence[UserRecord]) -> None:
        present = await asyncio.gather(*(self.followees(r.user.id) for r in records))
        puts: list[dict[str, Any]] = []
        deletes: list[dict[str, str]] = []
        for record, followed in zip(records, present, strict=True):
            wanted = set(record.followee_ids)
            puts += [_follow_item(Follow(record.user.id, f)) for f in wanted - set(followed)]
            deletes += [_follow_key(Follow(record.user.id, f)) for f in set(followed) - wanted]
        await write_batches(self._table, puts=puts, deletes=deletes)

    def _registration(self, item: dict[str, Any]) -> list[Guarded]:
        return [
            (put_action(self._table, item, _ABSENT), None),
            *((put_action(self._table, _claim(f, item), _ABSENT), f) for f in UNIQUE_FIELDS),
        ]

    def _replacement(
        self, current: dict[str, Any] | None, changed: dict[str, Any]
    ) -> list[Guarded]:
        """The user item written over `current` (unless it changed since it was read), and its
        claims moved to the names it now has."""
        if current is None:
            user = put_action(self._table, changed, _ABSENT)
        else:
            user = put_action(self._table, changed, "version = :v", {":v": current["version"]})
        guarded: list[Guarded] = [(user, None)]
        mine = {":id": changed["id"]}
        for name in UNIQUE_FIELDS:
            if current is not None and _claimed(current, name) == _claimed(changed, name):
                continue
            if current is not None:
                old = _claim_key(name, _claimed(current, name))
                guarded.append((delete_action(self._table, old, _ABSENT_OR_MINE, mine), None))
            claim = put_action(self._table, _claim(name, changed), _ABSENT_OR_MINE, mine)
            guarded.append((claim, name))
        return guarded

    async def _refuse_taken_names(self, items: Sequence[dict[str, Any]]) -> None:
        keys = [_claim_key(name, _claimed(item, name)) for item in items for name in UNIQUE_FIELDS]
        taken = {claim["pk"].partition("#")[0] for claim in await self._table.get_many(keys)}
        fields = [name for name in UNIQUE_FIELDS if name.upper() in taken]
        if fields:
            raise Conflict.taken(*fields)

    async def _by_claim(self, name: str, value: str) -> User | None:
        claim = await get_one(self._table, _claim_key(name, value))
        if claim is None:
            return None
        item = await get_one(self._table, _user_key(claim["user_id"]))
        # The user may have let the name go between the two reads.
        return _user(item) if item is not None and _claimed(item, name) == value else None


def _failed_fields(reasons: Sequence[str], guarded: Sequence[Guarded]) -> list[str | None]:
    """What each action whose condition failed protected; raises if none did (a cancellation
    these writes never expect, such as a validation error)."""
    failed = [
        field
        for reason, (_, field) in zip(reasons, guarded, strict=True)
        if reason == CONDITION_FAILED
    ]
    if not failed:
        raise RuntimeError(f"DynamoDB cancelled a user write: {reasons}")
    return list(dict.fromkeys(failed))


def _taken(fields: Sequence[str | None]) -> Conflict:
    return Conflict.taken(*(f for f in fields if f is not None))


def _refuse_repeated_names(items: Sequence[dict[str, Any]]) -> None:
    """One transaction cannot claim a name twice (DynamoDB rejects the request), so a batch
    naming one twice conflicts with itself before anything is sent."""
    repeated = [
        name for name in UNIQUE_FIELDS if len({_claimed(i, name) for i in items}) < len(items)
    ]
    if repeated:
        raise Conflict.taken(*repeated)


def _values(row: UserRow) -> dict[str, Any]:
    values = {name: value for name in _EDITABLE if (value := getattr(row, name)) is not MISSING}
    if "username" in values:
        values["username_key"] = username_key(values["username"])
    return values


def _claimed(item: dict[str, Any], name: str) -> str:
    """The value `item` claims for the unique field `name`. Items written before usernames
    had keys claim the name as spelled."""
    claimed: str = item.get(_CLAIMED[name], item[name])
    return claimed


def _new_user_values(row: UserRow) -> dict[str, Any]:
    values = _values(row)
    for required in ("username", "email", "password_hash"):
        if required not in values:
            raise ValueError(f"a new user needs a {required}")
    return values


def _new_user_item(user_id: int, values: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        **_user_key(user_id),
        "id": user_id,
        "bio": None,
        "image": None,
        **values,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "credential_version": 0,
    }


def _stored(user: User) -> dict[str, Any]:
    return {
        **_user_key(user.id),
        "id": user.id,
        "username": user.username,
        "username_key": username_key(user.username),
        "email": user.email,
        "password_hash": user.password_hash,
        "bio": user.bio,
        "image": user.image,
        "created_at": millis(user.created_at),
        "updated_at": millis(user.updated_at),
        "credential_version": user.credential_version,
    }


def _user(item: dict[str, Any]) -> User:
    return User(
        id=item["id"],
        username=item["username"],
        email=item["email"],
        password_hash=item["password_hash"],
        bio=item.get("bio"),
        image=item.get("image"),
        created_at=from_millis(item["created_at"]),
        updated_at=from_millis(item["updated_at"]),
        # Items written before credentials had versions hold none: version 0, as then.
        credential_version=item.get("credential_version", 0),
    )


def _user_key(user_id: int) -> dict[str, str]:
    return key(f"USER#{user_id}", "USER")


def _claim_key(name: str, value: str) -> dict[str, str]:
    kind = name.upper()
    return key(f"{kind}#{value}", kind)


def _claim(name: str, user: dict[str, Any]) -> dict[str, Any]:
    return {**_claim_key(name, _claimed(user, name)), "user_id": user["id"]}


def _follow_key(follow: Follow) -> dict[str, str]:
    return key(f"USER#{follow.follower_id}", f"FOLLOWS#{follow.followee_id}")


def _follow_item(follow: Follow) -> dict[str, Any]:
    return {
        **_follow_key(follow),
        _FOLLOWERS.partition_key: f"USER#{follow.followee_id}",
        _FOLLOWERS.sort_key: f"FOLLOWER#{follow.follower_id}",
        "follower_id": follow.follower_id,
        "followee_id": follow.followee_id,
    }
