"""Hostile and broken input, over REST and GraphQL: never a 5xx, the exact 4xx where the contract
names one, and nothing changed by a rejected request. Unexpected failures are masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import DEFAULT_GRAPHQL_MAX_NODES, Settings
from stores.dynamodb.articles import DynamoArticleStore
from stores.dynamodb.users import DynamoUserStore
from stores.sql.articles import SqlArticleStore
from stores.sql.users import SqlUserStore
from tests.conftest import Api, error_codes
from tests.rest_support import BLANK, add_comment, answer, errors, login, not_found

# slow (the hostile-input matrix, some 1,200 cases): left out of `python3 dev.py test --fast`
pytestmark = pytest.mark.slow

MAX_BODY = 1024 * 1024
INVALID_JSON = errors(422, "request", "body must be valid JSON")
NOT_ALLOWED = "contains characters that are not allowed"
NOT_A_STRING = "must be a string"
NOT_A_TAG_LIST = "must be a list of strings"

# The store classes each backend serves a domain with, for tests that make one fail.
ARTICLE_STORES: dict[str, type] = {
    "sqlite": SqlArticleStore,
    "postgresql": SqlArticleStore,
    "dynamodb": DynamoArticleStore,
}
USER_STORES: dict[str, type] = {
    "sqlite": SqlUserStore,
    "postgresql": SqlUserStore,
    "dynamodb": DynamoUserStore,
}


@dataclass
class World:
    """One app shared by a module of read-only attacks: a user, their article and a comment."""

    api: Api
    owner: str
    slug: str
    comment_id: int
    # What `snapshot` read once the world was made: every test must leave it just so.
    baseline: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """Everything a rejected request could have changed."""
        http, me = self.api.http, self.api.auth(self.owner)
        return {
            "articles": http.get("/api/articles?limit=100").json(),
            "me": http.get("/api/user", headers=me).json(),
            "article": http.get(f"/api/articles/{self.slug}").json(),
            "comments": http.get(f"/api/articles/{self.slug}/comments").json(),
            "newcomer": http.get("/api/profiles/newcomer").status_code,
        }


@pytest.fixture(scope="module")
def world(module_settings: Settings) -> Iterator[World]:
    with TestClient(create_app(module_settings), raise_server_exceptions=False) as http:
        api = Api(http)
        owner = api.register("owner")
        slug = api.publish(owner, "Seed", ["seed"])
        comment = add_comment(api, owner, slug, "seed comment")
        world = World(api, owner, slug, comment["id"])
        world.baseline = world.snapshot()
        yield world


@pytest.fixture
def unchanged(world: World) -> Iterator[World]:
    """The shared world, checked to be exactly as it was made after the test's request (read
    once, not before every test: nearly 800 tests share it, on each backend)."""
    yield world
    assert world.snapshot() == world.baseline


# The endpoints that read a JSON body: (method, path, wrapper key, signed in, a valid object).
BODY_ENDPOINTS: dict[str, tuple[str, str, str, bool, dict[str, Any]]] = {
    "register": (
        "POST",
        "/api/users",
        "user",
        False,
        {"username": "newcomer", "email": "newcomer@example.com", "password": "password123"},
    ),
    "login": (
        "POST",
        "/api/users/login",
        "user",
        False,
        {"email": "owner@example.com", "password": "password123"},
    ),
    "settings": ("PUT", "/api/user", "user", True, {"bio": "changed"}),
    "create article": (
        "POST",
        "/api/articles",
        "article",
        True,
        {"title": "New", "description": "D", "body": "B", "tagList": ["new"]},
    ),
    "update article": ("PUT", "/api/articles/{slug}", "article", True, {"title": "Changed"}),
    "add comment": ("POST", "/api/articles/{slug}/comments", "comment", True, {"body": "New"}),
}


def send(
    world: World, endpoint: str, content: bytes, content_type: str | None = "application/json"
) -> tuple[int, Any]:
    method, path, _, signed_in, _ = BODY_ENDPOINTS[endpoint]
    headers = {} if content_type is None else {"Content-Type": content_type}
    if signed_in:
        headers |= world.api.auth(world.owner)
    response = world.api.http.request(
        method, path.format(slug=world.slug), content=content, headers=headers
    )
    assert response.status_code < 500, response.text
    return answer(response)


def json_with_raw(obj: dict[str, Any], field: str, raw_value: str) -> str:
    """`obj` as JSON text with `field` set to raw JSON text (so that lone surrogates and other
    things a JSON encoder would refuse can be sent)."""
    others = {k: v for k, v in obj.items() if k != field}
    return json.dumps(others)[:-1] + (", " if others else "") + f'"{field}": {raw_value}}}'


def with_field(endpoint: str, field: str, raw_value: str) -> bytes:
    """The endpoint's valid body with one field replaced by raw JSON text."""
    _, _, key, _, valid = BODY_ENDPOINTS[endpoint]
    return json_with_raw({}, key, json_with_raw(valid, field, raw_value)).encode()


# --- REST: bodies that are not the JSON object the endpoint expects -------------------------

NOT_JSON = {
    "empty": b"",
    "spaces": b"   ",
    "open brace": b"{",
    "bare words": b"{not json}",
    "single quotes": b"{'user': {}}",
    "unterminated": b'{"user": {"username": "x"',
    "trailing comma": b'{"user": {"username": "x",}}',
    "invalid utf-8": b'{"user": {"username": "\xff\xfe"}}',
    "latin-1 bytes": b"\xe9\xe9\xe9",
    "nul byte": b"\x00",
    "deep open": b"[" * 100_000,
    "deep closed": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "deep inside wrapper": b'{"user": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "integer too long": b'{"user": {"username": ' + b"9" * 5_000 + b"}}",
    "bad escape": b'{"user": {"username": "\\x41"}}',
    "two documents": b"{} {}",
}
WRONG_SHAPE = {
    "list": b"[]",
    "list of object": b'[{"user": {}}]',
    "number": b"1",
    "huge float": b"1e999",
    "NaN": b"NaN",
    "null": b"null",
    "true": b"true",
    "string": b'"user"',
    "empty object": b"{}",
    "wrong case": b'{"USER": {}, "ARTICLE": {}, "COMMENT": {}}',
    "wrapper null": b'{"user": null, "article": null, "comment": null}',
    "wrapper list": b'{"user": [], "article": [], "comment": []}',
    "wrapper string": b'{"user": "x", "article": "x", "comment": "x"}',
    "wrapper number": b'{"user": 1, "article": 1, "comment": 1}',
    "wrapper true": b'{"user": true, "article": true, "comment": true}',
    "wrapper nested list": b'{"user": [{}], "article": [{}], "comment": [{}]}',
}


@pytest.mark.parametrize("endpoint", list(BODY_ENDPOINTS))
@pytest.mark.parametrize("content", list(NOT_JSON.values()), ids=list(NOT_JSON))
def test_rest_body_that_is_not_json_is_422(unchanged: World, endpoint: str, content: bytes) -> None:
    assert send(unchanged, endpoint, content) == INVALID_JSON


@pytest.mark.parametrize("endpoint", list(BODY_ENDPOINTS))
@pytest.mark.parametrize("content", list(WRONG_SHAPE.values()), ids=list(WRONG_SHAPE))
def test_rest_body_without_its_wrapper_object_is_422(
    unchanged: World, endpoint: str, content: bytes
) -> None:
    key = BODY_ENDPOINTS[endpoint][2]
    assert send(unchanged, endpoint, content) == errors(422, key, BLANK)


NOT_JSON_MEDIA_TYPES = {
    "none": None,
    "text/plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "json look-alike": "application/jsonp",
    "json suffix": "application/vnd.api+json",
    "other charset": "application/json; charset=latin-1",
}
UNSUPPORTED = errors(415, "request", "the body must be sent as application/json in UTF-8")


@pytest.mark.parametrize("endpoint", list(BODY_ENDPOINTS))
@pytest.mark.parametrize(
    "content_type", list(NOT_JSON_MEDIA_TYPES.values()), ids=list(NOT_JSON_MEDIA_TYPES)
)
def test_rest_body_not_sent_as_json_is_415_and_changes_nothing(
    unchanged: World, endpoint: str, content_type: str | None
) -> None:
    """A cross-site form or a no-cors fetch posts text/plain, a form type or no type at all
    without a CORS preflight: a valid JSON body sent so must not be taken."""
    _, _, key, _, valid = BODY_ENDPOINTS[endpoint]
    body = json.dumps({key: valid}).encode()
    assert send(unchanged, endpoint, body, content_type) == UNSUPPORTED


# --- REST: one field of the wrong type, too long, or with characters no store keeps ---------

STRING_FIELDS = [
    ("register", "username"),
    ("register", "email"),
    ("register", "password"),
    ("login", "email"),
    ("login", "password"),
    ("settings", "username"),
    ("settings", "email"),
    ("settings", "password"),
    ("settings", "bio"),
    ("settings", "image"),
    ("create article", "title"),
    ("create article", "description"),
    ("create article", "body"),
    ("update article", "title"),
    ("update article", "description"),
    ("update article", "body"),
    ("add comment", "body"),
]
WRONG_TYPES = {
    "zero": "0",
    "huge integer": "1" + "0" * 40,
    "float": "-1.5",
    "NaN": "NaN",
    "false": "false",
    "list": '["text"]',
    "empty object": "{}",
    "object": '{"text": "text"}',
}


@pytest.mark.parametrize(("endpoint", "field"), STRING_FIELDS)
@pytest.mark.parametrize("raw", list(WRONG_TYPES.values()), ids=list(WRONG_TYPES))
def test_rest_string_field_of_another_type_is_422(
    unchanged: World, endpoint: str, field: str, raw: str
) -> None:
    assert send(unchanged, endpoint, with_field(endpoint, field, raw)) == errors(
        422, field, NOT_A_STRING
    )


@pytest.mark.parametrize("endpoint", ["create article", "update article"])
@pytest.mark.parametrize(
    "raw",
    [
        '"tag"',
        "1",
        "true",
        "{}",
        '{"a": "b"}',
        "[1]",
        "[null]",
        '[["a"]]',
        '[{"a": 1}]',
        '["a", 2]',
    ],
)
def test_rest_tag_list_that_is_not_a_list_of_strings_is_422(
    unchanged: World, endpoint: str, raw: str
) -> None:
    assert send(unchanged, endpoint, with_field(endpoint, "tagList", raw)) == errors(
        422, "tagList", NOT_A_TAG_LIST
    )


def too_long(maximum: int) -> str:
    return f"is too long (maximum is {maximum} characters)"


TOO_LONG = [
    ("register", "username", "u" * 41, too_long(40)),
    ("register", "email", "e" * 250 + "@x.io", too_long(254)),
    ("register", "password", "p" * 257, too_long(256)),
    ("login", "email", "e" * 250 + "@x.io", too_long(254)),
    ("settings", "username", "u" * 41, too_long(40)),
    ("settings", "email", "e" * 250 + "@x.io", too_long(254)),
    ("settings", "password", "p" * 257, too_long(256)),
    ("settings", "bio", "b" * 2_001, too_long(2_000)),
    ("settings", "image", "https://i.test/" + "i" * 2_040, too_long(2_048)),
    ("create article", "title", "t" * 257, too_long(256)),
    ("create article", "description", "d" * 1_025, too_long(1_024)),
    ("create article", "body", "b" * 100_001, too_long(100_000)),
    ("create article", "body", "b" * 1_000_000, too_long(100_000)),
    ("update article", "title", "t" * 257, too_long(256)),
    ("update article", "description", "d" * 1_025, too_long(1_024)),
    ("update article", "body", "b" * 100_001, too_long(100_000)),
    ("add comment", "body", "c" * 20_001, too_long(20_000)),
    ("add comment", "body", "c" * 1_000_000, too_long(20_000)),
]


@pytest.mark.parametrize(
    ("endpoint", "field", "value", "message"),
    TOO_LONG,
    ids=[f"{e}-{f}-{len(v)}" for e, f, v, _ in TOO_LONG],
)
def test_rest_field_over_its_limit_is_422(
    unchanged: World, endpoint: str, field: str, value: str, message: str
) -> None:
    content = with_field(endpoint, field, json.dumps(value))
    assert send(unchanged, endpoint, content) == errors(422, field, message)


@pytest.mark.parametrize("endpoint", ["create article", "update article"])
@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"t{n}" for n in range(21)], "has too many tags (maximum is 20)"),
        (["x" * 65], "has a tag that is too long (maximum is 64 characters)"),
        (["ok", "a\u0000b"], "has a tag with characters that are not allowed"),
        (["\u0007bell"], "has a tag with characters that are not allowed"),
    ],
)
def test_rest_tag_list_over_its_limits_is_422(
    unchanged: World, endpoint: str, tags: list[str], message: str
) -> None:
    content = with_field(endpoint, "tagList", json.dumps(tags))
    assert send(unchanged, endpoint, content) == errors(422, "tagList", message)


# Raw JSON string literals no store can keep as they are.
# Raw JSON string literals no store can keep as they are (long enough to be a password).
UNKEEPABLE = {
    "nul": '"password\\u0000x"',
    "lone high surrogate": '"password\\ud800x"',
    "lone low surrogate": '"password\\udfff"',
    "escape char": '"password\\u001bx"',
    "reversed pair": '"password\\udc00\\ud800"',
}
MULTI_LINE_FIELDS = {"body", "bio"}


@pytest.mark.parametrize(("endpoint", "field"), STRING_FIELDS)
@pytest.mark.parametrize("raw", list(UNKEEPABLE.values()), ids=list(UNKEEPABLE))
def test_rest_text_with_nul_bytes_or_lone_surrogates_is_422(
    unchanged: World, endpoint: str, field: str, raw: str
) -> None:
    status, body = send(unchanged, endpoint, with_field(endpoint, field, raw))
    if endpoint == "login" and field == "password":
        # A password is never echoed or stored by login: any text simply does not match.
        assert (status, body) == errors(401, "credentials", "invalid")
    else:
        assert (status, body) == errors(422, field, NOT_ALLOWED)


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(e, f) for e, f in STRING_FIELDS if f not in MULTI_LINE_FIELDS and f != "password"],
)
def test_rest_single_line_fields_refuse_line_breaks(
    unchanged: World, endpoint: str, field: str
) -> None:
    status, body = send(unchanged, endpoint, with_field(endpoint, field, '"two\\nlines"'))
    assert status == 422
    assert list(body["errors"]) == [field]


# --- REST: unknown fields are ignored, never assigned -----------------------------------------


@pytest.mark.usefixtures("cheap_password_hashing")
def test_rest_unknown_fields_are_ignored(api: Api) -> None:
    response = api.http.post(
        "/api/users",
        json={
            "user": {
                "username": "mallory",
                "email": "mallory@example.com",
                "password": "password123",
                "id": 1,
                "admin": True,
                "bio": "sneaky",
                "token": "forged",
            },
            "extra": {"anything": [1, 2, 3]},
        },
    )
    assert response.status_code == 201
    user = response.json()["user"]
    assert (user["bio"], user["token"] != "forged") == (None, True)
    headers = api.auth(None) | {"Authorization": f"Token {user['token']}"}
    created = api.http.post(
        "/api/articles",
        json={
            "article": {
                "title": "Mine",
                "description": "D",
                "body": "B",
                "slug": "chosen-slug",
                "favoritesCount": 1000,
                "favorited": True,
                "author": {"username": "someone-else"},
                "createdAt": "2000-01-01T00:00:00.000Z",
            }
        },
        headers=headers,
    ).json()["article"]
    assert created["slug"] == "mine"
    assert (created["favoritesCount"], created["favorited"]) == (0, False)
    assert created["author"]["username"] == "mallory"
    assert not created["createdAt"].startswith("2000")
    updated = api.http.put(
        "/api/articles/mine",
        json={"article": {"slug": "hijacked", "favoritesCount": 5, "body": "B2"}},
        headers=headers,
    ).json()["article"]
    assert (updated["slug"], updated["favoritesCount"], updated["body"]) == ("mine", 0, "B2")
    comment = api.http.post(
        "/api/articles/mine/comments",
        json={"comment": {"body": "hi", "id": 999, "author": {"username": "x"}}},
        headers=headers,
    ).json()["comment"]
    assert comment["id"] != 999
    assert comment["author"]["username"] == "mallory"


# --- REST: path parameters and query strings ------------------------------------------------

PATH_VALUES = {
    "nul": "%00",
    "nul inside": "a%00b",
    "emoji": "%F0%9F%98%80",
    "accents": "%C3%A9t%C3%A9",
    "invalid utf-8": "%ff%fe",
    "encoded surrogate": "%ED%A0%80",
    "control": "%1b%5b2J",
    "spaces": "%20%20",
    "plus": "+",
    "quote": "%27%20OR%201%3D1--",
    "percent": "%25",
    "backslash": "%5C",
    "null word": "null",
    "undefined word": "undefined",
    "number": "-1",
    "huge number": "9" * 400,
    "very long": "a" * 20_000,
    "very long words": "a-" * 5_000 + "a",
}


@pytest.mark.parametrize("value", list(PATH_VALUES.values()), ids=list(PATH_VALUES))
def test_rest_path_parameters_that_name_nothing_are_404(unchanged: World, value: str) -> None:
    api, me = unchanged.api, unchanged.api.auth(unchanged.owner)
    http = api.http
    assert answer(http.get(f"/api/profiles/{value}")) == not_found("profile")
    for method in ("POST", "DELETE"):
        response = http.request(method, f"/api/profiles/{value}/follow", headers=me)
        assert answer(response) == not_found("profile")
    assert answer(http.get(f"/api/articles/{value}")) == not_found("article")
    assert answer(http.get(f"/api/articles/{value}/comments")) == not_found("article")
    for method, path, body in [
        ("PUT", f"/api/articles/{value}", {"article": {"title": "x"}}),
        ("DELETE", f"/api/articles/{value}", None),
        ("POST", f"/api/articles/{value}/comments", {"comment": {"body": "x"}}),
        ("POST", f"/api/articles/{value}/favorite", None),
        ("DELETE", f"/api/articles/{value}/favorite", None),
        ("DELETE", f"/api/articles/{value}/comments/1", None),
    ]:
        response = http.request(method, path, json=body, headers=me)
        assert answer(response) == not_found("article"), (method, path)
    comment = f"/api/articles/{unchanged.slug}/comments/{value}"
    assert answer(http.delete(comment, headers=me)) == not_found("comment")


@pytest.mark.parametrize(
    "path",
    [
        "/api/profiles/%2F",
        "/api/profiles/..",
        "/api/articles/%2e%2e/comments",
        "/api/articles/a%2Fb/favorite",
        "/api/articles//comments",
        "/api//articles",
        "/api/nothing-here",
        "/api/" + "x/" * 2_000,
    ],
)
def test_rest_odd_paths_are_client_errors(unchanged: World, path: str) -> None:
    me = unchanged.api.auth(unchanged.owner)
    for method in ("GET", "POST", "PUT", "DELETE"):
        response = unchanged.api.http.request(method, path, headers=me)
        assert 400 <= response.status_code < 500, (method, path, response.status_code)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=%00", errors(422, "tag", "is not a valid tag")),
        ("tag=" + "t" * 65, errors(422, "tag", "is not a valid tag")),
        ("tag=%1b", errors(422, "tag", "is not a valid tag")),
        ("tag=%ED%A0%80", (200, {"articles": [], "articlesCount": 0})),
        ("tag=%ff", (200, {"articles": [], "articlesCount": 0})),
        ("author=%00", (200, {"articles": [], "articlesCount": 0})),
        ("author=" + "a" * 10_000, (200, {"articles": [], "articlesCount": 0})),
        ("favorited=%F0%9F%98%80", (200, {"articles": [], "articlesCount": 0})),
        ("favorited=owner%00", (200, {"articles": [], "articlesCount": 0})),
        ("limit=" + "9" * 5_000, errors(422, "limit", "must be a whole number from 1 to 100")),
        ("offset=1" + "0" * 30, errors(422, "offset", "must be a whole number from 0 to 10000000")),
        ("offset=%00", errors(422, "offset", "must be a whole number from 0 to 10000000")),
        ("limit=%EF%BC%95", errors(422, "limit", "must be a whole number from 1 to 100")),
        ("limit=5&limit=abc", errors(422, "limit", "must be a whole number from 1 to 100")),
    ],
)
def test_rest_query_strings_are_checked(
    unchanged: World, query: str, expected: tuple[int, Any]
) -> None:
    assert answer(unchanged.api.http.get(f"/api/articles?{query}")) == expected


def test_rest_unknown_query_parameters_are_ignored(unchanged: World) -> None:
    plain = unchanged.api.http.get("/api/articles").json()
    noisy = unchanged.api.http.get("/api/articles?foo=bar&page=9&tag[]=x&%00=%00&&=&")
    assert answer(noisy) == (200, plain)


# --- REST: wrong methods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/users", {"POST"}),
        ("DELETE", "/api/users", {"POST"}),
        ("GET", "/api/users/login", {"POST"}),
        ("PATCH", "/api/user", {"GET", "HEAD", "PUT"}),
        ("POST", "/api/user", {"GET", "HEAD", "PUT"}),
        ("DELETE", "/api/user/", {"GET", "HEAD", "PUT"}),
        ("PUT", "/api/profiles/owner", {"GET", "HEAD"}),
        ("GET", "/api/profiles/owner/follow", {"POST", "DELETE"}),
        ("PATCH", "/api/articles", {"GET", "HEAD", "POST"}),
        ("DELETE", "/api/articles", {"GET", "HEAD", "POST"}),
        ("POST", "/api/articles/feed", {"GET", "HEAD"}),
        ("PATCH", "/api/articles/seed", {"GET", "HEAD", "PUT", "DELETE"}),
        ("POST", "/api/articles/seed", {"GET", "HEAD", "PUT", "DELETE"}),
        ("PUT", "/api/articles/seed/comments", {"GET", "HEAD", "POST"}),
        ("GET", "/api/articles/seed/comments/1", {"DELETE"}),
        ("PUT", "/api/articles/seed/comments/1", {"DELETE"}),
        ("GET", "/api/articles/seed/favorite", {"POST", "DELETE"}),
        ("POST", "/api/tags", {"GET", "HEAD"}),
        ("DELETE", "/api/tags/", {"GET", "HEAD"}),
    ],
)
def test_rest_wrong_method_is_405_naming_the_allowed_ones(
    unchanged: World, method: str, path: str, allowed: set[str]
) -> None:
    response = unchanged.api.http.request(
        method, path, json={"user": {}}, headers=unchanged.api.auth(unchanged.owner)
    )
    assert answer(response) == errors(405, "method", "not allowed")
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed


@pytest.mark.parametrize(
    "path", ["/api", "/api/", "/api/nope", "/api/articles/seed/nope", "/api/users/login/x"]
)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_rest_unknown_path_is_404_in_the_json_error_body(
    unchanged: World, method: str, path: str
) -> None:
    response = unchanged.api.http.request(method, path, follow_redirects=True)
    assert answer(response) == errors(404, "path", "not found")


# --- oversized bodies -------------------------------------------------------------------------

TOO_LARGE = (413, {"errors": {"request": [f"body is larger than {MAX_BODY} bytes"]}})


@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [
        ("POST", "/api/users", False),
        ("POST", "/api/users/login", False),
        ("PUT", "/api/user", True),
        ("POST", "/api/articles", True),
        ("PUT", "/api/articles/seed", True),
        ("POST", "/api/articles/seed/comments", True),
        ("POST", "/graphql", False),
        ("GET", "/api/tags", False),
    ],
)
def test_body_over_one_mib_is_413(
    unchanged: World, method: str, path: str, signed_in: bool
) -> None:
    headers = unchanged.api.auth(unchanged.owner if signed_in else None)
    big = b'{"user": {"bio": "' + b"x" * MAX_BODY + b'"}}'
    response = unchanged.api.http.request(method, path, content=big, headers=headers)
    assert answer(response) == TOO_LARGE

    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65_536  # 17 x 64 KiB: over the limit with no Content-Length to warn

    streamed = unchanged.api.http.request(method, path, content=chunks(), headers=headers)
    assert "content-length" not in streamed.request.headers
    assert answer(streamed) == TOO_LARGE


@pytest.mark.usefixtures("cheap_password_hashing")
def test_body_of_exactly_one_mib_is_read(api: Api) -> None:
    body = json.dumps(
        {"user": {"username": "padded", "email": "padded@example.com", "password": "password123"}}
    ).encode()
    padded = body + b" " * (MAX_BODY - len(body))
    assert len(padded) == MAX_BODY
    as_json = {"Content-Type": "application/json"}
    assert api.http.post("/api/users", content=padded, headers=as_json).status_code == 201
    assert api.http.post("/api/users", content=padded + b" ", headers=as_json).status_code == 413
    assert api.http.get("/api/profiles/padded").status_code == 200


# --- GraphQL: the same attacks --------------------------------------------------------------


def graphql_raw(world: World, content: bytes, signed_in: bool = False) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if signed_in:
        headers |= world.api.auth(world.owner)
    response = world.api.http.post("/graphql", content=content, headers=headers)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert "INTERNAL_SERVER_ERROR" not in error_codes(body), body
    return response.status_code, body


GRAPHQL_NOT_OPERATIONS = {**NOT_JSON, **{k: v for k, v in WRONG_SHAPE.items() if v != b"[]"}}


@pytest.mark.parametrize(
    "content", list(GRAPHQL_NOT_OPERATIONS.values()), ids=list(GRAPHQL_NOT_OPERATIONS)
)
def test_graphql_body_that_is_not_an_operation_is_a_client_error(
    unchanged: World, content: bytes
) -> None:
    status, body = graphql_raw(unchanged, content)
    assert status == 400
    assert body.get("data") is None


def test_graphql_empty_batch_is_an_empty_answer(unchanged: World) -> None:
    assert answer(unchanged.api.http.post("/graphql", json=[])) == (200, [])


@pytest.mark.parametrize(
    "payload",
    [
        {"query": 1},
        {"query": None},
        {"query": ["{ tags }"]},
        {"query": {"q": "{ tags }"}},
        {"query": "{ tags }", "variables": "x"},
        {"query": "{ tags }", "variables": []},
        {"query": "{ tags }", "variables": 1},
        {"query": "{ tags }", "operationName": 1},
        {"query": "{ tags }", "extensions": "x"},
        {"variables": {}},
        [1],
        [None],
        [{"query": 1}],
        ["{ tags }"],
        [{"query": "{ tags }"}] * 11,
    ],
    ids=lambda p: json.dumps(p)[:40],
)
def test_graphql_operation_of_the_wrong_shape_is_400(unchanged: World, payload: Any) -> None:
    status, _ = graphql_raw(unchanged, json.dumps(payload).encode())
    assert status == 400


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "BAD_REQUEST"),
        ("{", "GRAPHQL_PARSE_FAILED"),
        ("{" * 100_000, "GRAPHQL_PARSE_FAILED"),
        ("{ tags " + "}" * 10_000, "GRAPHQL_PARSE_FAILED"),
        ("{ a" + "{ a" * 50_000 + "}" * 50_000, "GRAPHQL_PARSE_FAILED"),
        ("query { " + "x " * 10_000 + "}", "GRAPHQL_PARSE_FAILED"),
        ("{ \u0000 }", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ " + " ".join(f"a{n}: tags" for n in range(40)) + " }", "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_graphql_documents_that_cannot_run_get_a_code(
    unchanged: World, query: str, code: str
) -> None:
    status, body = graphql_raw(unchanged, json.dumps({"query": query}).encode())
    assert status in (200, 400)
    assert error_codes(body)
    assert set(error_codes(body)) == {code}, body


REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { token } }"
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { token } }"
UPDATE_VIEWER = "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { username } }"
CREATE_ARTICLE = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }"
UPDATE_ARTICLE = (
    "mutation($slug: String!, $input: UpdateArticleInput!) "
    "{ updateArticle(slug: $slug, input: $input) { slug } }"
)
ADD_COMMENT = (
    "mutation($slug: String!, $body: String!) { addComment(slug: $slug, body: $body) { id } }"
)
GRAPHQL_INPUTS: dict[str, tuple[str, bool, dict[str, Any], str | None]] = {
    # name: (document, signed in, valid variables, the input object holding the fields)
    "register": (
        REGISTER,
        False,
        {
            "input": {
                "username": "newcomer",
                "email": "newcomer@example.com",
                "password": "pw123456",
            }
        },
        "input",
    ),
    "login": (
        LOGIN,
        False,
        {"input": {"email": "owner@example.com", "password": "password123"}},
        "input",
    ),
    "updateViewer": (UPDATE_VIEWER, True, {"input": {"bio": "x"}}, "input"),
    "createArticle": (
        CREATE_ARTICLE,
        True,
        {"input": {"title": "T", "description": "D", "body": "B", "tagList": []}},
        "input",
    ),
    "updateArticle": (UPDATE_ARTICLE, True, {"slug": "seed", "input": {"title": "T"}}, "input"),
    "addComment": (ADD_COMMENT, True, {"slug": "seed", "body": "x"}, None),
}
GRAPHQL_FIELDS = [
    ("register", "username"),
    ("register", "email"),
    ("register", "password"),
    ("login", "email"),
    ("login", "password"),
    ("updateViewer", "username"),
    ("updateViewer", "password"),
    ("updateViewer", "bio"),
    ("createArticle", "title"),
    ("createArticle", "body"),
    ("createArticle", "tagList"),
    ("updateArticle", "title"),
    ("updateArticle", "tagList"),
    ("addComment", "slug"),
    ("addComment", "body"),
]


def graphql_with(world: World, operation: str, field: str, raw_value: str) -> tuple[int, Any]:
    document, signed_in, variables, holder = GRAPHQL_INPUTS[operation]
    if holder is None:
        raw_variables = json_with_raw(variables, field, raw_value)
    else:
        raw_variables = json_with_raw(
            variables, holder, json_with_raw(variables[holder], field, raw_value)
        )
    content = json_with_raw({"query": document}, "variables", raw_variables)
    return graphql_raw(world, content.encode(), signed_in)


GRAPHQL_BAD_VALUES = {
    **{k: v for k, v in WRONG_TYPES.items() if k not in ("list", "NaN")},
    "null": "null",
    "nul": UNKEEPABLE["nul"],
    "lone surrogate": UNKEEPABLE["lone high surrogate"],
    "huge": json.dumps("x" * 200_000),
    "deep list": "[" * 50_000 + "]" * 50_000,
}


GRAPHQL_BAD_CASES = [
    pytest.param(operation, field, raw, id=f"{name}-{operation}-{field}")
    for operation, field in GRAPHQL_FIELDS
    for name, raw in GRAPHQL_BAD_VALUES.items()
    if not (name == "null" and field == "bio")  # a null bio clears it: not an error
]


@pytest.mark.parametrize(("operation", "field", "raw"), GRAPHQL_BAD_CASES)
def test_graphql_bad_values_are_client_errors(
    unchanged: World, operation: str, field: str, raw: str
) -> None:
    status, body = graphql_with(unchanged, operation, field, raw)
    codes = set(error_codes(body))
    assert codes, body
    assert codes <= {"BAD_USER_INPUT", "BAD_REQUEST", "UNAUTHENTICATED", "NOT_FOUND"}, body
    assert status in (200, 400)


def test_graphql_mutation_over_get_and_other_methods_are_refused(unchanged: World) -> None:
    http = unchanged.api.http
    mutation = '?query=mutation{follow(username:"owner"){following}}'
    assert http.get(f"/graphql{mutation}", headers={"Accept": "application/json"}).status_code in (
        400,
        405,
    )
    for method in ("PUT", "DELETE", "PATCH"):
        assert http.request(method, "/graphql", json={"query": "{ tags }"}).status_code == 405
    huge = http.get("/graphql?query=" + "%7B" * 20_000, headers={"Accept": "application/json"})
    assert 400 <= huge.status_code < 500 or "errors" in huge.json()


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("query($n: Int!) { articles(first: $n) { totalCount } }", {"n": 10**30}, "BAD_USER_INPUT"),
        ("query($n: Int!) { articles(first: $n) { totalCount } }", {"n": -1}, "BAD_USER_INPUT"),
        ("query($n: Int!) { articles(first: $n) { totalCount } }", {"n": 1.5}, "BAD_USER_INPUT"),
        (
            "query($a: String) { articles(after: $a) { totalCount } }",
            {"a": "junk"},
            "BAD_USER_INPUT",
        ),
        (
            "query($a: String) { articles(after: $a) { totalCount } }",
            {"a": "\x00"},
            "BAD_USER_INPUT",
        ),
        ('{ article(slug: "\\u0000") { slug } }', {}, "NOT_FOUND"),
        ("query($s: String!) { article(slug: $s) { slug } }", {"s": "x" * 100_000}, "NOT_FOUND"),
        ("query($u: String!) { profile(username: $u) { username } }", {"u": "a\x00"}, "NOT_FOUND"),
        ('{ articles(tag: "\\u0000") { totalCount } }', {}, "BAD_USER_INPUT"),
        ("{ articles(first: 99999999999) { totalCount } }", {}, "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_graphql_arguments_are_checked(
    unchanged: World, query: str, variables: dict[str, Any], code: str
) -> None:
    _, body = graphql_raw(unchanged, json.dumps({"query": query, "variables": variables}).encode())
    assert set(error_codes(body)) == {code}, body


def test_graphql_delete_comment_with_garbage_ids_is_not_found(unchanged: World) -> None:
    document = "mutation($id: ID!) { deleteComment(id: $id) { id } }"
    for comment_id in ["0", "-1", "abc", "9" * 400, "\x00", 2**70, str(2**53)]:
        content = json.dumps({"query": document, "variables": {"id": comment_id}}).encode()
        _, body = graphql_raw(unchanged, content, signed_in=True)
        assert error_codes(body) in (["NOT_FOUND"], ["BAD_USER_INPUT"]), (comment_id, body)


# --- unexpected failures are masked -----------------------------------------------------------

SECRET = "postgresql://admin:hunter2@db.internal/conduit"


def boom(*args: object, **kwargs: object) -> Any:
    raise RuntimeError(f"connection to {SECRET} failed")


def test_rest_unexpected_error_is_a_masked_500_with_the_request_id(
    api: Api, backend: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(ARTICLE_STORES[backend], "all_tags", boom)
    with caplog.at_level(logging.ERROR, logger="conduit.rest"):
        response = api.http.get("/api/tags")
    request_id = response.headers["x-request-id"]
    assert request_id
    assert answer(response) == (
        500,
        {"errors": {"server": [f"unexpected error (request id {request_id})"]}},
    )
    for leak in ("hunter2", "RuntimeError", "Traceback", "connection", "sql"):
        assert leak not in response.text
    logged = [r for r in caplog.records if r.name == "conduit.rest"]
    assert logged, "the failure must be logged"
    assert request_id in logged[0].getMessage()
    assert logged[0].exc_info is not None


def test_rest_masked_500_echoes_a_client_request_id(
    api: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(USER_STORES[backend], "create", boom)
    response = api.http.post(
        "/api/users",
        json={"user": {"username": "zed", "email": "zed@example.com", "password": "password123"}},
        headers={"X-Request-ID": "trace-me-12345", "Origin": "http://localhost:4200"},
    )
    assert response.headers["x-request-id"] == "trace-me-12345"
    assert response.headers["access-control-allow-origin"] in ("*", "http://localhost:4200")
    assert answer(response) == (
        500,
        {"errors": {"server": ["unexpected error (request id trace-me-12345)"]}},
    )
    assert "hunter2" not in response.text


def test_a_harmful_client_request_id_is_replaced(api: Api) -> None:
    for sent in ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>", "a;b=c,d"]:
        response = api.http.get("/api/tags", headers={"X-Request-ID": sent})
        assert response.headers["x-request-id"] != sent
        assert len(response.headers["x-request-id"]) >= 8


def test_graphql_unexpected_error_is_masked_with_the_request_id(
    api: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ARTICLE_STORES[backend], "all_tags", boom)
    response = api.http.post("/graphql", json={"query": "{ tags }"})
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    body = response.json()
    assert body == {
        "extensions": {"cost": {"points": 1, "nodes": 0, "maxNodes": DEFAULT_GRAPHQL_MAX_NODES}},
        "data": None,
        "errors": [
            {
                "message": f"Internal server error (request id {request_id})",
                "locations": [{"line": 1, "column": 3}],
                "path": ["tags"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ],
    }
    assert "hunter2" not in response.text


def test_graphql_unexpected_error_in_a_mutation_is_masked(
    api: Api, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(USER_STORES[backend], "create", boom)
    variables = {"input": {"username": "zed", "email": "zed@example.com", "password": "pw123456"}}
    response = api.http.post(
        "/graphql",
        json={"query": REGISTER, "variables": variables},
        headers={"X-Request-ID": "trace-me-67890"},
    )
    assert response.headers["x-request-id"] == "trace-me-67890"
    body = response.json()
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["extensions"]["requestId"] == "trace-me-67890"
    assert "hunter2" not in response.text
    assert login(api, "zed@example.com", "pw123456").status_code == 401
