"""REST as real browser clients use it: CORS from another origin, the Angular client's habits
(trailing slashes, every settings field sent, "" for an untouched image), and one whole
journey through the API as a single user story."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.rest_support import TIMESTAMP, answer, login, new_article, profile, slugs

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

ORIGIN = "http://localhost:4200"
PREFLIGHTS = [
    ("/api/users", "POST"),
    ("/api/users/login", "POST"),
    ("/api/user", "PUT"),
    ("/api/articles", "POST"),
    ("/api/articles/", "POST"),
    ("/api/articles/some-slug", "PUT"),
    ("/api/articles/some-slug", "DELETE"),
    ("/api/articles/some-slug/comments/1", "DELETE"),
    ("/api/articles/some-slug/favorite", "POST"),
    ("/api/profiles/someone/follow", "DELETE"),
    ("/api/articles/feed", "GET"),
    ("/graphql", "POST"),
]


def header_set(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


# --- CORS ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "method"), PREFLIGHTS)
def test_preflight_from_another_origin_is_allowed(api: Api, path: str, method: str) -> None:
    response = api.http.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert method.lower() in header_set(response.headers["access-control-allow-methods"])
    assert {"authorization", "content-type"} <= header_set(
        response.headers["access-control-allow-headers"]
    )


def test_preflight_allows_every_method_the_api_uses(api: Api) -> None:
    response = api.http.options(
        "/api/articles/x",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"},
    )
    assert response.status_code == 200
    assert {"get", "post", "put", "delete"} <= header_set(
        response.headers["access-control-allow-methods"]
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/tags", 200),
        ("GET", "/api/articles", 200),
        ("GET", "/api/user", 401),
        ("GET", "/api/articles/nope", 404),
        ("POST", "/api/users", 422),
        ("POST", "/api/users/login", 422),
    ],
)
def test_answers_carry_cors_headers_even_errors(
    api: Api, method: str, path: str, status: int
) -> None:
    response = api.http.request(method, path, headers={"Origin": ORIGIN}, json={})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "x-request-id" in header_set(response.headers.get("access-control-expose-headers"))
    assert response.headers["content-type"].startswith("application/json")


def test_signed_in_request_from_another_origin_works(api: Api) -> None:
    ann = api.register("ann")
    response = api.http.get("/api/user", headers={"Origin": ORIGIN, **api.auth(ann)})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert response.json()["user"]["username"] == "ann"


# --- client habits ---------------------------------------------------------------------------


def test_angular_settings_form_sends_every_field_with_an_empty_image(api: Api) -> None:
    ann = api.register("ann")
    response = api.http.put(
        "/api/user",
        json={
            "user": {
                "image": "",
                "username": "ann",
                "bio": "Hello there",
                "email": "ann@example.com",
                "password": "a-new-password",
            }
        },
        headers=api.auth(ann),
    )
    # A new password ends the earlier token: the client keeps the one in the answer.
    token = response.json()["user"]["token"]
    assert token != api.tokens["ann"]
    assert answer(response) == (
        200,
        {
            "user": {
                "email": "ann@example.com",
                "token": token,
                "username": "ann",
                "bio": "Hello there",
                "image": None,
            }
        },
    )
    assert api.http.get("/api/user", headers={"Authorization": f"Token {token}"}).is_success
    assert login(api, "ann@example.com", "a-new-password").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/api/articles/", 201),
        ("GET", "/api/articles/", 200),
        ("GET", "/api/articles/feed/", 200),
        ("GET", "/api/tags/", 200),
        ("GET", "/api/user/", 200),
        ("GET", "/api/profiles/ann/", 200),
        ("POST", "/api/profiles/ann/follow/", 422),  # following yourself, but routed
        ("GET", "/api/articles/a-title/", 200),
        ("GET", "/api/articles/a-title/comments/", 200),
        ("POST", "/api/articles/a-title/favorite/", 200),
    ],
)
def test_trailing_slashes_reach_the_same_endpoints(
    api: Api, method: str, path: str, status: int
) -> None:
    ann = api.register("ann")
    api.publish(ann, "A title")
    body = {"article": {"title": "Slash", "description": "D", "body": "B"}}
    response = api.http.request(
        method, path, json=body if method == "POST" else None, headers=api.auth(ann)
    )
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", 'Application/JSON; Charset="UTF-8"'],
)
def test_the_json_body_is_read_as_json_with_or_without_its_charset(
    api: Api, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = api.http.post(
        "/api/users",
        content=b'{"user": {"username": "ann", "email": "ann@x.io", "password": "12345678"}}',
        headers=headers,
    )
    assert response.status_code == 201


# --- the whole journey -----------------------------------------------------------------------


def test_a_browser_client_journey(api: Api) -> None:
    """Register two users, publish, read, comment, like, follow, read the feed, change the
    settings, sign in again, clean up: each step as the Angular client calls it."""
    http = api.http

    def call(method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        headers = {"Origin": ORIGIN}
        if token is not None:
            headers["Authorization"] = f"Token {token}"
        response = http.request(method, path, json=body, headers=headers)
        assert response.headers["access-control-allow-origin"] in ("*", ORIGIN)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return None if response.status_code == 204 else response.json()

    writer = call(
        "POST",
        "/api/users",
        body={"user": {"username": "writer", "email": "writer@x.io", "password": "writer-pass"}},
    )["user"]
    reader = call(
        "POST",
        "/api/users",
        body={"user": {"username": "reader", "email": "reader@x.io", "password": "reader-pass"}},
    )["user"]
    assert call("GET", "/api/user", writer["token"])["user"] == writer

    article = call(
        "POST",
        "/api/articles/",
        writer["token"],
        {
            "article": {
                "title": "Hello Conduit",
                "description": "First post",
                "body": "# Hi\nThis is **markdown**.",
                "tagList": ["intro", "conduit"],
            }
        },
    )["article"]
    slug = article["slug"]
    assert (slug, article["tagList"]) == ("hello-conduit", ["conduit", "intro"])
    assert call("GET", "/api/tags")["tags"] == ["conduit", "intro"]

    home = call("GET", "/api/articles?limit=10&offset=0", reader["token"])
    assert (slugs(home), home["articlesCount"]) == ([slug], 1)
    assert "body" not in home["articles"][0]
    by_tag = call("GET", "/api/articles?tag=intro&limit=10&offset=0")
    assert slugs(by_tag) == [slug]

    shown = call("GET", f"/api/articles/{slug}", reader["token"])["article"]
    assert shown["body"] == "# Hi\nThis is **markdown**."
    assert call("GET", f"/api/articles/{slug}/comments", reader["token"]) == {"comments": []}

    comment = call(
        "POST", f"/api/articles/{slug}/comments", reader["token"], {"comment": {"body": "Great!"}}
    )["comment"]
    assert TIMESTAMP.match(comment["createdAt"])
    liked = call("POST", f"/api/articles/{slug}/favorite", reader["token"])["article"]
    assert (liked["favorited"], liked["favoritesCount"]) == (True, 1)
    followed = call("POST", "/api/profiles/writer/follow", reader["token"])["profile"]
    assert followed == profile("writer", following=True)

    feed = call("GET", "/api/articles/feed?limit=10&offset=0", reader["token"])
    assert (slugs(feed), feed["articlesCount"]) == ([slug], 1)
    assert feed["articles"][0]["favorited"] is True
    assert feed["articles"][0]["author"]["following"] is True
    favorites = call("GET", "/api/articles?favorited=reader&limit=10&offset=0")
    assert slugs(favorites) == [slug]
    mine = call("GET", "/api/articles?author=writer&limit=10&offset=0", writer["token"])
    assert slugs(mine) == [slug]

    settings = call(
        "PUT",
        "/api/user",
        reader["token"],
        {
            "user": {
                "image": "",
                "username": "avid-reader",
                "bio": "I read things.",
                "email": "reader@x.io",
                "password": "a-better-pass",
            }
        },
    )["user"]
    assert (settings["username"], settings["bio"], settings["image"]) == (
        "avid-reader",
        "I read things.",
        None,
    )
    again = call(
        "POST",
        "/api/users/login",
        body={"user": {"email": "reader@x.io", "password": "a-better-pass"}},
    )["user"]
    comments = call("GET", f"/api/articles/{slug}/comments", writer["token"])["comments"]
    assert [c["author"] for c in comments] == [
        {"username": "avid-reader", "bio": "I read things.", "image": None, "following": False}
    ]
    profile_seen = call("GET", "/api/profiles/avid-reader", writer["token"])["profile"]
    assert profile_seen["bio"] == "I read things."

    call("DELETE", f"/api/articles/{slug}/comments/{comment['id']}", again["token"])
    call("DELETE", f"/api/articles/{slug}/favorite", again["token"])
    call("DELETE", "/api/profiles/writer/follow", again["token"])
    assert call("GET", "/api/articles/feed", again["token"]) == {"articles": [], "articlesCount": 0}
    call("DELETE", f"/api/articles/{slug}", writer["token"])
    assert call("GET", "/api/articles") == {"articles": [], "articlesCount": 0}
    assert call("GET", "/api/tags") == {"tags": []}
    assert new_article(api, api.register(), title="Hello Conduit")["slug"] == slug
