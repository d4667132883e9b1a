"""UserStore: users with unique usernames and emails, and follows."""

from __future__ import annotations

from datetime import UTC

import pytest

from models.errors import Conflict, Invalid, NotFound
from models.users import User, UserRow
from stores.protocols import Stores

pytestmark = pytest.mark.anyio

TAKEN = ["has already been taken"]


def row(name: str, **changes: str | None) -> UserRow:
    fields: dict[str, str | None] = {
        "username": name,
        "email": f"{name}@example.com",
        "password_hash": f"hash-of-{name}",
    }
    fields.update(changes)
    return UserRow(**fields)  # type: ignore[arg-type]  # every key is a UserRow field


async def test_create_returns_the_stored_user(stores: Stores) -> None:
    created = await stores.users.create(row("alice", bio="Hi", image=None))
    assert created.id > 0
    assert (created.username, created.email, created.password_hash) == (
        "alice",
        "alice@example.com",
        "hash-of-alice",
    )
    assert (created.bio, created.image) == ("Hi", None)
    assert created.created_at.tzinfo is not None
    assert created.created_at.utcoffset() == UTC.utcoffset(None)
    assert created.updated_at == created.created_at
    assert await stores.users.by_ids([created.id]) == [created]


async def test_create_gives_each_user_its_own_id(stores: Stores) -> None:
    a = await stores.users.create(row("alice"))
    b = await stores.users.create(row("bob"))
    assert a.id != b.id


@pytest.mark.parametrize(
    ("username", "email", "taken"),
    [
        ("alice", "new@example.com", {"username"}),
        ("newname", "alice@example.com", {"email"}),
        ("alice", "alice@example.com", {"username", "email"}),
        ("alice", "bob@example.com", {"username", "email"}),  # taken by two different users
    ],
)
async def test_create_conflict_names_exactly_the_taken_fields(
    stores: Stores, username: str, email: str, taken: set[str]
) -> None:
    alice = await stores.users.create(row("alice"))
    bob = await stores.users.create(row("bob"))
    with pytest.raises(Conflict) as raised:
        await stores.users.create(row(username, email=email))
    assert raised.value.fields == dict.fromkeys(taken, TAKEN)
    # Nothing was written: each name still belongs to its old holder or to nobody.
    holders = {await stores.users.by_username(username), await stores.users.by_email(email)}
    assert holders - {None} <= {alice, bob}
    assert await stores.users.by_ids([alice.id, bob.id]) in ([alice, bob], [bob, alice])


async def test_update_changes_only_the_given_fields(stores: Stores) -> None:
    alice = await stores.users.create(row("alice", bio="old bio", image="http://img/a.png"))
    updated = await stores.users.update(alice.id, UserRow(bio="new bio", image=None))
    assert updated.id == alice.id
    assert (updated.username, updated.email, updated.password_hash) == (
        alice.username,
        alice.email,
        alice.password_hash,
    )
    assert (updated.bio, updated.image) == ("new bio", None)
    assert updated.created_at == alice.created_at
    assert updated.updated_at >= alice.updated_at
    assert await stores.users.by_ids([alice.id]) == [updated]


async def test_update_to_own_username_and_email_is_no_conflict(stores: Stores) -> None:
    alice = await stores.users.create(row("alice"))
    await stores.users.create(row("bob"))
    same = await stores.users.update(
        alice.id, UserRow(username="alice", email="alice@example.com", password_hash="new-hash")
    )
    assert (same.username, same.email, same.password_hash) == (
        "alice",
        "alice@example.com",
        "new-hash",
    )


async def test_update_renames_and_frees_the_old_names(stores: Stores) -> None:
    alice = await stores.users.create(row("alice"))
    await stores.users.update(alice.id, UserRow(username="alicia", email="alicia@example.com"))
    assert await stores.users.by_username("alice") is None
    assert await stores.users.by_email("alice@example.com") is None
    found = await stores.users.by_username("alicia")
    assert found is not None
    assert found.id == alice.id
    newcomer = await stores.users.create(row("alice"))
    assert newcomer.id != alice.id


@pytest.mark.parametrize(
    ("changes", "taken"),
    [
        (UserRow(username="bob"), {"username"}),
        (UserRow(email="bob@example.com"), {"email"}),
        (UserRow(username="bob", email="bob@example.com"), {"username", "email"}),
        (UserRow(username="bob", email="carol@example.com"), {"username", "email"}),
        # Its own username with another user's email: only the email is taken.
        (UserRow(username="alice", email="bob@example.com"), {"email"}),
        (UserRow(username="bob", email="alice@example.com"), {"username"}),
    ],
)
async def test_update_conflict_names_exactly_the_fields_taken_by_others(
    stores: Stores, changes: UserRow, taken: set[str]
) -> None:
    alice = await stores.users.create(row("alice"))
    await stores.users.create(row("bob"))
    await stores.users.create(row("carol"))
    with pytest.raises(Conflict) as raised:
        await stores.users.update(alice.id, changes)
    assert raised.value.fields == dict.fromkeys(taken, TAKEN)
    assert await stores.users.by_ids([alice.id]) == [alice]


async def test_update_of_a_missing_user_is_not_found(stores: Stores) -> None:
    alice = await stores.users.create(row("alice"))
    with pytest.raises(NotFound) as raised:
        await stores.users.update(alice.id + 1000, UserRow(bio="x"))
    assert raised.value.fields == {"user": ["not found"]}
    with pytest.raises(NotFound):
        # Even when the new username is taken: there is no user to conflict.
        await stores.users.update(alice.id + 1000, UserRow(username="alice"))


async def test_by_ids_skips_missing_ids_and_returns_each_user_once(stores: Stores) -> None:
    alice = await stores.users.create(row("alice"))
    bob = await stores.users.create(row("bob"))
    await stores.users.create(row("carol"))
    missing = alice.id + bob.id + 1000
    found = await stores.users.by_ids([bob.id, missing, alice.id, bob.id, alice.id])
    assert sorted(found, key=_id) == [alice, bob]
    assert await stores.users.by_ids([missing]) == []
    assert await stores.users.by_ids([]) == []


async def test_by_username_and_by_email(stores: Stores) -> None:
    alice = await stores.users.create(row("alice"))
    await stores.users.create(row("bob"))
    assert await stores.users.by_username("alice") == alice
    assert await stores.users.by_email("alice@example.com") == alice
    assert await stores.users.by_username("nobody") is None
    assert await stores.users.by_email("nobody@example.com") is None
    # A username is not an email and the other way round.
    assert await stores.users.by_email("alice") is None
    assert await stores.users.by_username("alice@example.com") is None


async def test_follow_and_unfollow_are_idempotent_and_directed(stores: Stores) -> None:
    alice, bob, carol = [await stores.users.create(row(n)) for n in ("alice", "bob", "carol")]
    await stores.users.follow(alice.id, bob.id)
    await stores.users.follow(alice.id, bob.id)
    await stores.users.follow(alice.id, carol.id)
    assert sorted(await stores.users.followees(alice.id)) == sorted([bob.id, carol.id])
    assert await stores.users.followees(bob.id) == []

    await stores.users.unfollow(alice.id, bob.id)
    await stores.users.unfollow(alice.id, bob.id)
    await stores.users.unfollow(bob.id, alice.id)  # never followed: still fine
    assert await stores.users.followees(alice.id) == [carol.id]

    await stores.users.follow(alice.id, bob.id)  # following again after unfollowing
    assert sorted(await stores.users.followees(alice.id)) == sorted([bob.id, carol.id])


async def test_followed_among(stores: Stores) -> None:
    alice, bob, carol, dave = [
        await stores.users.create(row(n)) for n in ("alice", "bob", "carol", "dave")
    ]
    await stores.users.follow(alice.id, bob.id)
    await stores.users.follow(alice.id, dave.id)
    await stores.users.follow(carol.id, alice.id)
    missing = dave.id + 1000
    assert await stores.users.followed_among(
        alice.id, [bob.id, carol.id, missing, bob.id, alice.id]
    ) == {bob.id}
    assert await stores.users.followed_among(alice.id, [dave.id, bob.id]) == {bob.id, dave.id}
    assert await stores.users.followed_among(alice.id, []) == set()
    assert await stores.users.followed_among(bob.id, [alice.id, carol.id, dave.id]) == set()
    assert await stores.users.followed_among(carol.id, [alice.id]) == {alice.id}


def _id(user: User) -> int:
    return user.id


async def test_a_value_too_long_to_store_is_refused_as_invalid_or_kept_whole(
    stores: Stores,
) -> None:
    """Validation keeps values within every store's limits; past them (PostgreSQL's column
    lengths, DynamoDB's key sizes) a store refuses with Invalid, never a server error. SQLite
    keeps any length."""
    email = "n" * 3000 + "@example.com"
    created: User | Invalid
    try:
        created = await stores.users.create(row("long", email=email))
    except Invalid as refused:
        created = refused
    if isinstance(created, Invalid):
        assert created.fields == {"body": ["holds a value too long to store"]}
        assert await stores.users.by_username("long") is None
    else:
        assert created.email == email


async def test_new_credentials_move_the_credential_version_on_and_nothing_else_does(
    stores: Stores,
) -> None:
    created = await stores.users.create(row("alice"))
    assert created.credential_version == 0
    bio = await stores.users.update(created.id, UserRow(bio="Hi"))
    assert bio.credential_version == 0
    renamed = await stores.users.update(created.id, UserRow(username="alicia"))
    assert renamed.credential_version == 0
    rotated = await stores.users.update(
        created.id, UserRow(password_hash="hash-2", new_credentials=True)
    )
    again = await stores.users.update(
        created.id, UserRow(email="new@example.com", new_credentials=True)
    )
    assert (rotated.credential_version, again.credential_version) == (1, 2)
    assert await stores.users.by_ids([created.id]) == [again]
    assert await stores.users.by_username("alicia") == again


async def test_usernames_are_one_name_by_their_key_and_kept_as_spelled(stores: Stores) -> None:
    """Case and Unicode width do not make another name (models.users.username_key); lookups
    go by the key, and the name comes back as its user spelled it."""
    alice = await stores.users.create(row("Alice"))
    for lookalike in ("alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45"):
        with pytest.raises(Conflict) as taken:
            await stores.users.create(row(lookalike, email=f"{len(lookalike)}@x.test"))
        assert taken.value.fields == {"username": TAKEN}
        assert await stores.users.by_username(lookalike) == alice
    bob = await stores.users.create(row("bob"))
    with pytest.raises(Conflict):
        await stores.users.update(bob.id, UserRow(username="ALICE"))
    respelled = await stores.users.update(alice.id, UserRow(username="ALICE"))
    assert respelled.username == "ALICE"
    assert await stores.users.by_username("alice") == respelled
    moved = await stores.users.update(alice.id, UserRow(username="Alicia"))
    assert await stores.users.by_username("alice") is None
    assert await stores.users.by_username("ALICIA") == moved
    assert (await stores.users.create(row("alice", email="new@x.test"))).username == "alice"
