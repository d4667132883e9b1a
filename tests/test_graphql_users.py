"""GraphQL: the viewer, registering, signing in, settings, profiles and follows."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from auth.tokens import TokenService
from config import DEVELOPMENT_JWT_SECRET
from tests.conftest import Api
from tests.graphql_ops import (
    BLANK,
    FOLLOW,
    PROFILE,
    TAKEN,
    TOKEN_MISSING,
    UNFOLLOW,
    VIEWER,
    assert_error,
    data,
    follow,
    login,
    only_error,
    post,
    register,
    update_viewer,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

CREDENTIALS_INVALID = {"credentials": ["invalid"]}
SHORT_PASSWORD = "is too short (minimum is 8 characters)"


def _token(secret: str = DEVELOPMENT_JWT_SECRET, ttl: int = 3600, user_id: int = 1) -> str:
    return TokenService(secret, ttl).issue(user_id, 0)


UNSIGNED = jwt.encode({"sub": "1", "iat": 0, "exp": 2**40}, "", algorithm="none")


# Authorization headers that name no signed-in user: each must be refused, never anonymous.
BAD_AUTHORIZATION = {
    "garbage": "Bearer garbage",
    "empty": "Bearer ",
    "unknown scheme": "Basic dXNlcjpwYXNz",
    "no scheme": _token(),
    "expired": f"Bearer {_token(ttl=-60)}",
    "other secret": f"Bearer {_token(secret='another-secret-' * 4)}",
    "alg none": f"Bearer {UNSIGNED}",
    "unknown user": f"Bearer {_token(user_id=987654)}",
}


def _profile(api: Api, username: str, as_user: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = data(api.graphql(PROFILE, {"username": username}, as_user=as_user))[
        "profile"
    ]
    return found


# --- viewer ---------------------------------------------------------------------------------


def test_viewer_is_null_when_anonymous(api: Api) -> None:
    body = api.graphql(VIEWER)
    assert body["data"] == {"viewer": None}
    assert "errors" not in body


def test_viewer_is_the_signed_in_user(api: Api) -> None:
    alice = api.register("alice")
    assert data(api.graphql(VIEWER, as_user=alice)) == {
        "viewer": {"username": "alice", "email": "alice@example.com", "bio": None, "image": None}
    }


def test_viewer_accepts_the_token_scheme_too(api: Api) -> None:
    alice = api.register("alice")
    body = post(api, VIEWER, Authorization=f"Token {api.tokens[alice]}")
    assert data(body)["viewer"]["username"] == "alice"


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION.values(), ids=BAD_AUTHORIZATION.keys())
def test_viewer_with_a_bad_token_is_unauthenticated(api: Api, authorization: str) -> None:
    api.register("alice")  # user 1 exists, so only the token itself can be at fault
    body = post(api, VIEWER, Authorization=authorization)
    assert body["data"] == {"viewer": None}
    assert_error(body, "UNAUTHENTICATED")
    # The wording follows the REST contract (which does not tell missing from invalid).
    assert list(only_error(body)["extensions"]["fields"]) == ["token"]


@pytest.mark.parametrize(
    "operation",
    [
        "{ articles { totalCount } }",
        '{ article(slug: "a-title") { slug } }',
        '{ profile(username: "alice") { username } }',
        "{ feed { totalCount } }",
        "{ tags }",
        'mutation { createArticle(input: {title: "T", description: "D", body: "B"}) { slug } }',
        'mutation { follow(username: "alice") { following } }',
        'mutation { likeArticle(slug: "a-title") { favorited } }',
    ],
)
def test_a_bad_token_is_refused_everywhere_never_anonymous(api: Api, operation: str) -> None:
    api.publish(api.register("alice"))
    body = post(api, operation, Authorization=BAD_AUTHORIZATION["expired"])
    assert_error(body, "UNAUTHENTICATED")


# --- register -------------------------------------------------------------------------------


def test_register_signs_in_the_new_user(api: Api) -> None:
    body = data(register(api, "carol", "Carol@Example.COM", "password123"))["register"]
    assert body["user"] == {
        "username": "carol",
        "email": "carol@example.com",
        "bio": None,
        "image": None,
    }
    viewer = post(api, VIEWER, Authorization=f"Bearer {body['token']}")
    assert data(viewer)["viewer"]["username"] == "carol"


@pytest.mark.parametrize(
    ("username", "email", "password", "fields"),
    [
        ("", "", "", {"username": [BLANK], "email": [BLANK], "password": [BLANK]}),
        ("   ", "  ", "password123", {"username": [BLANK], "email": [BLANK]}),
        ("carol", "not-an-email", "password123", {"email": ["is invalid"]}),
        ("carol", "carol@example.com", "1234567", {"password": [SHORT_PASSWORD]}),
        (
            "bad name",
            "carol@example.com",
            "password123",
            {"username": ["can only contain letters, digits, '.', '_' and '-'"]},
        ),
        (
            "c" * 41,
            "carol@example.com",
            "password123",
            {"username": ["is too long (maximum is 40 characters)"]},
        ),
    ],
    ids=["blank", "whitespace", "bad email", "short password", "bad username", "long username"],
)
def test_register_rejects_invalid_input_per_field(
    api: Api, username: str, email: str, password: str, fields: dict[str, list[str]]
) -> None:
    body = register(api, username, email, password)
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", fields)


def test_register_accepts_a_password_of_exactly_eight_characters(api: Api) -> None:
    body = register(api, "carol", "carol@example.com", "12345678")
    assert data(body)["register"]["user"]["username"] == "carol"


def test_register_with_a_taken_username_or_email_is_a_conflict(api: Api) -> None:
    api.register("alice")
    same_name = register(api, "alice", "other@example.com", "password123")
    assert_error(same_name, "CONFLICT", {"username": [TAKEN]})
    same_email = register(api, "other", "ALICE@example.com", "password123")
    assert_error(same_email, "CONFLICT", {"email": [TAKEN]})
    both = register(api, "alice", "alice@example.com", "password123")
    assert_error(both, "CONFLICT", {"username": [TAKEN], "email": [TAKEN]})


# --- login ----------------------------------------------------------------------------------


def test_login_returns_a_working_token(api: Api) -> None:
    api.register("alice", password="s3cret-pass")
    body = data(login(api, "ALICE@example.com", "s3cret-pass"))["login"]
    assert body["user"]["username"] == "alice"
    viewer = post(api, VIEWER, Authorization=f"Bearer {body['token']}")
    assert data(viewer)["viewer"]["email"] == "alice@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong-password"), ("nobody@example.com", "password123")],
    ids=["wrong password", "unknown email"],
)
def test_login_with_bad_credentials_is_unauthenticated(api: Api, email: str, password: str) -> None:
    api.register("alice")
    body = login(api, email, password)
    assert body["data"] is None
    assert_error(body, "UNAUTHENTICATED", CREDENTIALS_INVALID)


def test_login_with_blank_fields_is_bad_input(api: Api) -> None:
    body = login(api, " ", "")
    assert_error(body, "BAD_USER_INPUT", {"email": [BLANK], "password": [BLANK]})


# --- updateViewer ---------------------------------------------------------------------------


def test_update_viewer_changes_only_the_fields_given(api: Api) -> None:
    alice = api.register("alice")
    body = update_viewer(api, alice, bio="I write", image="https://example.com/a.png")
    expected = {
        "username": "alice",
        "email": "alice@example.com",
        "bio": "I write",
        "image": "https://example.com/a.png",
    }
    assert data(body)["updateViewer"] == expected
    only_bio = update_viewer(api, alice, bio="Still writing")
    assert data(only_bio)["updateViewer"] == {**expected, "bio": "Still writing"}
    nothing = update_viewer(api, alice)
    assert data(nothing)["updateViewer"] == {**expected, "bio": "Still writing"}
    viewer = data(api.graphql(VIEWER, as_user=alice))["viewer"]
    assert viewer == {**expected, "bio": "Still writing"}


@pytest.mark.parametrize("cleared", ["", None], ids=["empty", "null"])
def test_update_viewer_clears_bio_and_image(api: Api, cleared: str | None) -> None:
    alice = api.register("alice")
    data(update_viewer(api, alice, bio="I write", image="https://example.com/a.png"))
    body = update_viewer(api, alice, bio=cleared, image=cleared)
    assert data(body)["updateViewer"] == {
        "username": "alice",
        "email": "alice@example.com",
        "bio": None,
        "image": None,
    }
    assert _profile(api, "alice") == {
        "username": "alice",
        "bio": None,
        "image": None,
        "following": False,
    }


@pytest.mark.parametrize("field", ["username", "email", "password"])
@pytest.mark.parametrize("value", ["", None], ids=["empty", "null"])
def test_update_viewer_cannot_clear_identity_fields(
    api: Api, field: str, value: str | None
) -> None:
    alice = api.register("alice")
    body = update_viewer(api, alice, **{field: value})
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", {field: [BLANK]})
    assert data(login(api, "alice@example.com", "password123"))["login"]["user"]["username"] == (
        "alice"
    )


def test_update_viewer_rejects_invalid_values(api: Api) -> None:
    alice = api.register("alice")
    body = update_viewer(api, alice, email="nope", password="short")
    assert_error(body, "BAD_USER_INPUT", {"email": ["is invalid"], "password": [SHORT_PASSWORD]})


def test_update_viewer_password_change_takes_effect(api: Api) -> None:
    alice = api.register("alice")
    data(update_viewer(api, alice, password="a-new-password"))
    assert_error(login(api, "alice@example.com", "password123"), "UNAUTHENTICATED")
    signed_in = data(login(api, "alice@example.com", "a-new-password"))["login"]
    assert signed_in["user"]["username"] == "alice"


def test_update_viewer_username_and_email_change(api: Api) -> None:
    alice = api.register("alice")
    earlier = api.tokens[alice]
    body = api.graphql(
        "mutation($input: UpdateViewerInput!) "
        "{ updateViewer(input: $input) { username email token } }",
        {"input": {"username": "alicia", "email": "Alicia@Example.com"}},
        as_user=alice,
    )
    assert data(body)["updateViewer"]["username"] == "alicia"
    assert data(body)["updateViewer"]["email"] == "alicia@example.com"
    # A new email ends the earlier tokens; the answer names the one to use instead.
    assert_error(api.graphql(VIEWER, as_user=alice), "UNAUTHENTICATED")
    stale = api.graphql('mutation { updateViewer(input: {bio: "x"}) { token } }', as_user=alice)
    assert_error(stale, "UNAUTHENTICATED")
    api.tokens[alice] = data(body)["updateViewer"]["token"]
    assert api.tokens[alice] != earlier
    assert data(api.graphql(VIEWER, as_user=alice))["viewer"]["username"] == "alicia"
    assert _profile(api, "alicia")["username"] == "alicia"
    assert_error(api.graphql(PROFILE, {"username": "alice"}), "NOT_FOUND")
    assert data(login(api, "alicia@example.com", "password123"))["login"]["user"]["username"] == (
        "alicia"
    )


def test_update_viewer_to_own_current_values_is_no_conflict(api: Api) -> None:
    alice = api.register("alice")
    body = update_viewer(api, alice, username="alice", email="alice@example.com")
    assert data(body)["updateViewer"]["username"] == "alice"


def test_update_viewer_to_a_taken_username_or_email_is_a_conflict(api: Api) -> None:
    alice = api.register("alice")
    api.register("bob")
    assert_error(update_viewer(api, alice, username="bob"), "CONFLICT", {"username": [TAKEN]})
    assert_error(update_viewer(api, alice, email="BOB@example.com"), "CONFLICT", {"email": [TAKEN]})
    assert data(api.graphql(VIEWER, as_user=alice))["viewer"]["username"] == "alice"


def test_update_viewer_needs_a_signed_in_user(api: Api) -> None:
    body = api.graphql(
        'mutation { updateViewer(input: {bio: "x"}) { username } }',
    )
    assert body["data"] is None
    assert_error(body, "UNAUTHENTICATED", TOKEN_MISSING)


# --- profile, follow, unfollow --------------------------------------------------------------


def test_profile_shows_the_user_to_anyone(api: Api) -> None:
    alice = api.register("alice")
    data(update_viewer(api, alice, bio="I write"))
    expected = {"username": "alice", "bio": "I write", "image": None, "following": False}
    assert _profile(api, "alice") == expected
    assert _profile(api, "alice", as_user=alice) == expected


@pytest.mark.parametrize("username", ["nobody", "no body", "x" * 300, "../alice"])
def test_profile_of_an_unknown_user_is_not_found(api: Api, username: str) -> None:
    api.register("alice")
    body = api.graphql(PROFILE, {"username": username})
    assert body["data"] == {"profile": None}
    assert_error(body, "NOT_FOUND", {"profile": ["not found"]})


def test_follow_and_unfollow_are_idempotent(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    for _ in range(2):
        followed = data(api.graphql(FOLLOW, {"username": bob}, as_user=alice))["follow"]
        assert followed == {"username": "bob", "bio": None, "image": None, "following": True}
        assert _profile(api, bob, as_user=alice)["following"] is True
    # Following is one-way, and the anonymous never follow anyone.
    assert _profile(api, alice, as_user=bob)["following"] is False
    assert _profile(api, bob)["following"] is False
    for _ in range(2):
        unfollowed = data(api.graphql(UNFOLLOW, {"username": bob}, as_user=alice))["unfollow"]
        assert unfollowed == {"username": "bob", "bio": None, "image": None, "following": False}
        assert _profile(api, bob, as_user=alice)["following"] is False


@pytest.mark.parametrize("operation", [FOLLOW, UNFOLLOW], ids=["follow", "unfollow"])
def test_follow_errors(api: Api, operation: str) -> None:
    alice = api.register("alice")
    unknown = api.graphql(operation, {"username": "nobody"}, as_user=alice)
    assert unknown["data"] is None
    assert_error(unknown, "NOT_FOUND", {"profile": ["not found"]})
    anonymous = api.graphql(operation, {"username": alice})
    assert_error(anonymous, "UNAUTHENTICATED", TOKEN_MISSING)


def test_follow_yourself_is_bad_input(api: Api) -> None:
    alice = api.register("alice")
    body = api.graphql(FOLLOW, {"username": alice}, as_user=alice)
    assert_error(body, "BAD_USER_INPUT", {"username": ["cannot follow yourself"]})
    assert _profile(api, alice, as_user=alice)["following"] is False


def test_follow_shows_on_authors_of_articles(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = api.publish(bob, "Bob writes")
    follow(api, alice, bob)
    query = "query($slug: String!) { article(slug: $slug) { author { username following } } }"
    seen_by_alice = data(api.graphql(query, {"slug": slug}, as_user=alice))
    assert seen_by_alice["article"]["author"] == {"username": "bob", "following": True}
    seen_by_anyone = data(api.graphql(query, {"slug": slug}))
    assert seen_by_anyone["article"]["author"] == {"username": "bob", "following": False}


def test_usernames_are_one_name_whatever_their_case_or_width(api: Api) -> None:
    api.register("Alice")
    for lookalike in ("alice", "\uff41\uff4c\uff49\uff43\uff45"):
        taken = register(api, lookalike, "other@example.com", "password123")
        assert_error(taken, "CONFLICT", {"username": [TAKEN]})
    mixed = register(api, "\u0430lice", "other@example.com", "password123")
    assert_error(mixed, "BAD_USER_INPUT", {"username": ["mixes letters of different scripts"]})
    assert _profile(api, "ALICE")["username"] == "Alice"
    reader = api.register("reader")
    followed = data(api.graphql(FOLLOW, {"username": "aLiCe"}, as_user=reader))["follow"]
    assert (followed["username"], followed["following"]) == ("Alice", True)
