"""REST: registration, login, the current user and their settings, profiles and follows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.rest_support import (
    BLANK,
    TAKEN,
    TOKEN_MISSING,
    answer,
    errors,
    login,
    not_found,
    profile,
    token_missing,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def register_raw(api: Api, user: Any) -> tuple[int, Any]:
    return answer(api.http.post("/api/users", json={"user": user}))


def update_raw(api: Api, username: str, user: Any) -> tuple[int, Any]:
    return answer(api.http.put("/api/user", json={"user": user}, headers=api.auth(username)))


def current(api: Api, username: str) -> dict[str, Any]:
    response = api.http.get("/api/user", headers=api.auth(username))
    assert response.status_code == 200, response.text
    user: dict[str, Any] = response.json()["user"]
    return user


# --- POST /api/users -------------------------------------------------------------------------


def test_register_answers_201_with_the_user_and_a_working_token(api: Api) -> None:
    response = api.http.post(
        "/api/users",
        json={"user": {"username": "alice", "email": "alice@example.com", "password": "secret123"}},
    )
    assert response.status_code == 201
    body = response.json()
    token = body["user"]["token"]
    assert isinstance(token, str)
    assert token
    assert body == {
        "user": {
            "email": "alice@example.com",
            "token": token,
            "username": "alice",
            "bio": None,
            "image": None,
        }
    }
    me = api.http.get("/api/user", headers={"Authorization": f"Token {token}"})
    assert me.json()["user"]["username"] == "alice"


@pytest.mark.parametrize("missing", ["username", "email", "password"])
@pytest.mark.parametrize("how", ["absent", "empty", "null", "blank"])
def test_register_requires_every_field(api: Api, missing: str, how: str) -> None:
    user: dict[str, Any] = {"username": "bob", "email": "bob@example.com", "password": "secret123"}
    if how == "absent":
        del user[missing]
    else:
        user[missing] = {"empty": "", "null": None, "blank": "   "}[how]
    if (missing, how) == ("password", "blank"):
        # Spaces are a legal (if poor) password, but three are too short.
        expected = errors(422, "password", "is too short (minimum is 8 characters)")
    else:
        expected = errors(422, missing, BLANK)
    assert register_raw(api, user) == expected
    assert api.http.get("/api/profiles/bob").status_code == 404


def test_register_names_every_blank_field_at_once(api: Api) -> None:
    assert register_raw(api, {}) == (
        422,
        {"errors": {"username": [BLANK], "email": [BLANK], "password": [BLANK]}},
    )


def test_register_without_the_user_wrapper_is_422(api: Api) -> None:
    response = api.http.post(
        "/api/users", json={"username": "bob", "email": "bob@example.com", "password": "secret123"}
    )
    assert answer(response) == errors(422, "user", BLANK)


def test_register_rejects_a_short_password(api: Api) -> None:
    user = {"username": "bob", "email": "bob@example.com", "password": "1234567"}
    assert register_raw(api, user) == errors(
        422, "password", "is too short (minimum is 8 characters)"
    )
    assert register_raw(api, {**user, "password": "12345678"})[0] == 201


def test_register_rejects_an_invalid_email(api: Api) -> None:
    user = {"username": "bob", "email": "not-an-email", "password": "secret123"}
    assert register_raw(api, user) == errors(422, "email", "is invalid")


def test_an_email_is_checked_as_stored_after_lower_casing(api: Api) -> None:
    """212 characters as sent; lower-cased ("İ" becomes "i" and a combining dot) 412, past
    the 254 an email may have: refused as too long, never a store error."""
    grows = "İ" * 200 + "@example.com"
    too_long = errors(422, "email", "is too long (maximum is 254 characters)")
    user = {"username": "bob", "email": grows, "password": "secret123"}
    assert register_raw(api, user) == too_long
    assert api.http.get("/api/profiles/bob").status_code == 404
    api.register("carol")
    assert update_raw(api, "carol", {"email": grows}) == too_long
    assert current(api, "carol")["email"] == "carol@example.com"
    just_over = "İ" * 122 + "@example.com"  # 256 once lower-cased
    assert update_raw(api, "carol", {"email": just_over}) == too_long
    status, body = update_raw(api, "carol", {"email": "İ" * 121 + "@example.com"})  # 254
    assert status == 200
    assert body["user"]["email"] == "i̇" * 121 + "@example.com"


@pytest.mark.parametrize("username", ["has space", "slash/name", "x" * 41, "émoji😀"])
def test_register_rejects_a_username_that_cannot_be_a_url_segment(api: Api, username: str) -> None:
    status, body = register_raw(
        api, {"username": username, "email": "bob@example.com", "password": "secret123"}
    )
    assert status == 422
    assert list(body["errors"]) == ["username"]


def test_usernames_differ_by_more_than_case_and_width_and_keep_their_spelling(api: Api) -> None:
    """ "Alice" is taken by "alice" and a fullwidth "alice" too; a name mixing Cyrillic and
    Latin letters is refused; profiles, follows and the author and favorited filters find
    the user whatever the case, and show the name as its user spelled it."""
    api.register("Alice")
    slug = api.publish("Alice", title="By Alice")
    api.register("reader")
    for lookalike in ("alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45"):
        user = {"username": lookalike, "email": "other@example.com", "password": "secret123"}
        assert register_raw(api, user) == errors(409, "username", TAKEN), lookalike
    mixed = {"username": "\u0430lice", "email": "other@example.com", "password": "secret123"}
    assert register_raw(api, mixed) == errors(422, "username", "mixes letters of different scripts")
    assert update_raw(api, "reader", {"username": "aLiCe"}) == errors(409, "username", TAKEN)
    assert api.http.get("/api/profiles/ALICE").json()["profile"]["username"] == "Alice"
    followed = api.http.post("/api/profiles/alice/follow", headers=api.auth("reader"))
    assert followed.json()["profile"] == {**profile("Alice"), "following": True}
    liked = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth("reader"))
    assert liked.status_code == 200
    by_author = api.http.get("/api/articles?author=aLICE").json()
    assert [a["slug"] for a in by_author["articles"]] == [slug]
    assert by_author["articles"][0]["author"]["username"] == "Alice"
    favorited = api.http.get("/api/articles?favorited=READER").json()
    assert [a["slug"] for a in favorited["articles"]] == [slug]
    status, body = update_raw(api, "Alice", {"username": "ALICE"})  # her own name, respelled
    assert (status, body["user"]["username"]) == (200, "ALICE")
    assert api.http.get("/api/profiles/alice").json()["profile"]["username"] == "ALICE"


def test_register_with_a_taken_username_is_409(api: Api) -> None:
    api.register("carol")
    user = {"username": "carol", "email": "other@example.com", "password": "secret123"}
    assert register_raw(api, user) == errors(409, "username", TAKEN)


def test_register_with_a_taken_email_is_409_whatever_its_case(api: Api) -> None:
    api.register("carol")
    user = {"username": "other", "email": "CAROL@Example.com", "password": "secret123"}
    assert register_raw(api, user) == errors(409, "email", TAKEN)


def test_register_with_both_taken_names_both(api: Api) -> None:
    api.register("carol")
    user = {"username": "carol", "email": "carol@example.com", "password": "secret123"}
    assert register_raw(api, user) == (409, {"errors": {"username": [TAKEN], "email": [TAKEN]}})


# --- POST /api/users/login -------------------------------------------------------------------


def test_login_answers_200_with_the_user(api: Api) -> None:
    api.register("dave")
    response = login(api, "dave@example.com", "password123")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "user": {
            "email": "dave@example.com",
            "token": body["user"]["token"],
            "username": "dave",
            "bio": None,
            "image": None,
        }
    }
    me = api.http.get("/api/user", headers={"Authorization": f"Token {body['user']['token']}"})
    assert me.json()["user"]["email"] == "dave@example.com"


def test_login_email_is_case_insensitive(api: Api) -> None:
    api.register("dave")
    assert login(api, "  Dave@EXAMPLE.com ", "password123").status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("dave@example.com", "wrong-password"),
        ("dave@example.com", "PASSWORD123"),
        ("nobody@example.com", "password123"),
        ("dave@example.com", "password123 "),
    ],
)
def test_login_with_wrong_credentials_is_401(api: Api, email: str, password: str) -> None:
    api.register("dave")
    assert answer(login(api, email, password)) == errors(401, "credentials", "invalid")


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"password": "password123"}, {"email": [BLANK]}),
        ({"email": "dave@example.com"}, {"password": [BLANK]}),
        ({"email": "", "password": ""}, {"email": [BLANK], "password": [BLANK]}),
        ({"email": None, "password": None}, {"email": [BLANK], "password": [BLANK]}),
        ({}, {"email": [BLANK], "password": [BLANK]}),
    ],
)
def test_login_requires_email_and_password(
    api: Api, user: dict[str, Any], expected: dict[str, Any]
) -> None:
    response = api.http.post("/api/users/login", json={"user": user})
    assert answer(response) == (422, {"errors": expected})


def test_login_without_the_user_wrapper_is_422(api: Api) -> None:
    response = api.http.post(
        "/api/users/login", json={"email": "dave@example.com", "password": "password123"}
    )
    assert answer(response) == errors(422, "user", BLANK)


# --- GET /api/user ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_current_user_accepts_token_and_bearer(api: Api, scheme: str) -> None:
    api.register("erin")
    token = api.tokens["erin"]
    response = api.http.get("/api/user", headers={"Authorization": f"{scheme} {token}"})
    assert answer(response) == (
        200,
        {
            "user": {
                "email": "erin@example.com",
                "token": token,
                "username": "erin",
                "bio": None,
                "image": None,
            }
        },
    )


def test_current_user_without_a_token_is_401(api: Api) -> None:
    assert answer(api.http.get("/api/user")) == token_missing()


# --- PUT /api/user ---------------------------------------------------------------------------


def test_update_bio_and_image_is_kept_and_shown_everywhere(api: Api) -> None:
    api.register("fran")
    status, body = update_raw(api, "fran", {"bio": "I write.", "image": "https://i.test/f.png"})
    assert status == 200
    assert body == {
        "user": {
            "email": "fran@example.com",
            "token": api.tokens["fran"],
            "username": "fran",
            "bio": "I write.",
            "image": "https://i.test/f.png",
        }
    }
    assert current(api, "fran") == body["user"]
    shown = api.http.get("/api/profiles/fran").json()
    assert shown == {
        "profile": {
            "username": "fran",
            "bio": "I write.",
            "image": "https://i.test/f.png",
            "following": False,
        }
    }


@pytest.mark.parametrize("cleared", ["", None, "   "])
def test_update_clears_bio_and_image_with_empty_or_null(api: Api, cleared: str | None) -> None:
    api.register("fran")
    update_raw(api, "fran", {"bio": "I write.", "image": "https://i.test/f.png"})
    status, body = update_raw(api, "fran", {"bio": cleared, "image": cleared})
    assert status == 200
    assert (body["user"]["bio"], body["user"]["image"]) == (None, None)
    assert (current(api, "fran")["bio"], current(api, "fran")["image"]) == (None, None)


def test_update_leaves_fields_that_are_not_sent(api: Api) -> None:
    api.register("fran")
    update_raw(api, "fran", {"bio": "I write.", "image": "https://i.test/f.png"})
    status, body = update_raw(api, "fran", {"bio": "Still writing."})
    assert status == 200
    assert body["user"] == {
        "email": "fran@example.com",
        "token": api.tokens["fran"],
        "username": "fran",
        "bio": "Still writing.",
        "image": "https://i.test/f.png",
    }


def test_update_with_an_empty_object_changes_nothing(api: Api) -> None:
    api.register("fran")
    before = current(api, "fran")
    assert update_raw(api, "fran", {}) == (200, {"user": before})


@pytest.mark.parametrize("name", ["username", "email", "password"])
@pytest.mark.parametrize("value", ["", None])
def test_update_cannot_clear_username_email_or_password(
    api: Api, name: str, value: str | None
) -> None:
    api.register("gus")
    assert update_raw(api, "gus", {name: value}) == errors(422, name, BLANK)
    assert current(api, "gus")["username"] == "gus"
    assert login(api, "gus@example.com", "password123").status_code == 200


def test_update_rejects_a_short_password_and_keeps_the_old_one(api: Api) -> None:
    api.register("gus")
    expected = errors(422, "password", "is too short (minimum is 8 characters)")
    assert update_raw(api, "gus", {"password": "short"}) == expected
    assert login(api, "gus@example.com", "password123").status_code == 200


def test_update_one_invalid_field_changes_nothing_at_all(api: Api) -> None:
    api.register("gus")
    assert update_raw(api, "gus", {"bio": "new bio", "email": "broken"}) == errors(
        422, "email", "is invalid"
    )
    assert current(api, "gus")["bio"] is None


def test_update_password_changes_what_login_accepts(api: Api) -> None:
    api.register("hal")
    assert update_raw(api, "hal", {"password": "a-new-password"})[0] == 200
    assert login(api, "hal@example.com", "password123").status_code == 401
    assert login(api, "hal@example.com", "a-new-password").status_code == 200


def test_update_username_and_email_moves_the_profile_and_replaces_the_token(api: Api) -> None:
    api.register("hal")
    earlier = api.tokens["hal"]
    status, body = update_raw(api, "hal", {"username": "hal2", "email": "Hal2@Example.com"})
    assert status == 200
    assert (body["user"]["username"], body["user"]["email"]) == ("hal2", "hal2@example.com")
    assert answer(api.http.get("/api/profiles/hal")) == not_found("profile")
    assert api.http.get("/api/profiles/hal2").json() == {"profile": profile("hal2")}
    assert body["user"]["token"] != earlier
    api.tokens["hal"] = body["user"]["token"]
    assert current(api, "hal")["username"] == "hal2"
    assert login(api, "hal2@example.com", "password123").status_code == 200
    assert login(api, "hal@example.com", "password123").status_code == 401


def test_a_token_ends_when_the_password_or_email_changes_and_not_otherwise(api: Api) -> None:
    """Tokens issued before a change of password or email are refused everywhere: on the
    current user, on writes, on reads that take a token. The answer to the change carries a
    token that works; other settings leave every token as it was."""
    api.register("ivy")
    slug = api.publish("ivy", title="Before")
    first = api.tokens["ivy"]
    status, body = update_raw(api, "ivy", {"bio": "hello", "image": "https://x.test/i.png"})
    assert (status, body["user"]["token"]) == (200, first)
    second_login = login(api, "ivy@example.com", "password123").json()["user"]["token"]
    status, body = update_raw(api, "ivy", {"password": "another-password"})
    assert status == 200
    after_password = body["user"]["token"]
    for stale in (first, second_login):
        headers = {"Authorization": f"Token {stale}"}
        for method, path, payload in [
            ("GET", "/api/user", None),
            ("GET", "/api/articles", None),
            ("GET", f"/api/articles/{slug}", None),
            ("GET", "/api/articles/feed", None),
            ("POST", f"/api/articles/{slug}/favorite", None),
            ("POST", f"/api/articles/{slug}/comments", {"comment": {"body": "late"}}),
            ("PUT", "/api/user", {"user": {"password": "taken-over!"}}),
        ]:
            response = api.http.request(method, path, json=payload, headers=headers)
            assert answer(response) == (401, TOKEN_MISSING), (method, path)
    article = api.http.get(f"/api/articles/{slug}").json()["article"]
    assert (article["favoritesCount"], api.http.get(f"/api/articles/{slug}/comments").json()) == (
        0,
        {"comments": []},
    )
    assert login(api, "ivy@example.com", "another-password").status_code == 200
    api.tokens["ivy"] = after_password
    assert current(api, "ivy")["username"] == "ivy"
    status, body = update_raw(api, "ivy", {"email": "ivy@example.com"})  # the same email
    assert (status, body["user"]["token"]) == (200, after_password)
    status, body = update_raw(api, "ivy", {"email": "ivy.new@example.com"})
    assert status == 200
    assert answer(api.http.get("/api/user", headers=api.auth("ivy"))) == (401, TOKEN_MISSING)
    api.tokens["ivy"] = body["user"]["token"]
    assert current(api, "ivy")["email"] == "ivy.new@example.com"


def test_update_to_the_same_username_and_email_is_not_a_conflict(api: Api) -> None:
    api.register("hal")
    status, _ = update_raw(api, "hal", {"username": "hal", "email": "hal@example.com"})
    assert status == 200


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"username": "ivy"}, errors(409, "username", TAKEN)),
        ({"email": "ivy@example.com"}, errors(409, "email", TAKEN)),
        (
            {"username": "ivy", "email": "IVY@example.com"},
            (409, {"errors": {"username": [TAKEN], "email": [TAKEN]}}),
        ),
    ],
)
def test_update_to_a_taken_username_or_email_is_409(
    api: Api, user: dict[str, str], expected: tuple[int, Any]
) -> None:
    api.register("ivy")
    api.register("jay")
    assert update_raw(api, "jay", user) == expected
    assert current(api, "jay")["email"] == "jay@example.com"


def test_update_without_the_user_wrapper_is_422(api: Api) -> None:
    api.register("jay")
    response = api.http.put("/api/user", json={"bio": "x"}, headers=api.auth("jay"))
    assert answer(response) == errors(422, "user", BLANK)


# --- profiles and follows --------------------------------------------------------------------


def test_get_profile_anonymously_and_signed_in(api: Api) -> None:
    api.register("kim")
    api.register("lee")
    assert answer(api.http.get("/api/profiles/kim")) == (200, {"profile": profile("kim")})
    response = api.http.get("/api/profiles/kim", headers=api.auth("lee"))
    assert answer(response) == (200, {"profile": profile("kim")})
    own = api.http.get("/api/profiles/kim", headers=api.auth("kim"))
    assert answer(own) == (200, {"profile": profile("kim")})


@pytest.mark.parametrize("username", ["nobody", "kimi", "kim%20", "a.b-c_d", "x" * 300])
def test_get_unknown_profile_is_404(api: Api, username: str) -> None:
    api.register("kim")
    assert answer(api.http.get(f"/api/profiles/{username}")) == not_found("profile")


def test_follow_and_unfollow_answer_with_the_following_flag(api: Api) -> None:
    api.register("kim")
    api.register("lee")
    followed = api.http.post("/api/profiles/kim/follow", headers=api.auth("lee"))
    assert answer(followed) == (200, {"profile": profile("kim", following=True)})
    again = api.http.post("/api/profiles/kim/follow", headers=api.auth("lee"))
    assert answer(again) == (200, {"profile": profile("kim", following=True)})

    seen_by_lee = api.http.get("/api/profiles/kim", headers=api.auth("lee"))
    assert seen_by_lee.json() == {"profile": profile("kim", following=True)}
    assert api.http.get("/api/profiles/kim").json() == {"profile": profile("kim")}
    seen_by_kim = api.http.get("/api/profiles/lee", headers=api.auth("kim"))
    assert seen_by_kim.json() == {"profile": profile("lee")}  # following is one-way

    unfollowed = api.http.delete("/api/profiles/kim/follow", headers=api.auth("lee"))
    assert answer(unfollowed) == (200, {"profile": profile("kim")})
    again = api.http.delete("/api/profiles/kim/follow", headers=api.auth("lee"))
    assert answer(again) == (200, {"profile": profile("kim")})
    assert api.http.get("/api/profiles/kim", headers=api.auth("lee")).json() == {
        "profile": profile("kim")
    }


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_follow_or_unfollow_an_unknown_user_is_404(api: Api, method: str) -> None:
    api.register("lee")
    response = api.http.request(method, "/api/profiles/ghost/follow", headers=api.auth("lee"))
    assert answer(response) == not_found("profile")


def test_following_yourself_is_422(api: Api) -> None:
    api.register("lee")
    response = api.http.post("/api/profiles/lee/follow", headers=api.auth("lee"))
    assert answer(response) == errors(422, "username", "cannot follow yourself")
