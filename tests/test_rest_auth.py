"""REST: every auth-only endpoint answers 401 `token: ["is missing"]` without a valid token,
before it looks anything up or reads the query or the body; optional-auth endpoints work
anonymously."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.rest_support import BAD_AUTHORIZATION, TOKEN_MISSING, add_comment, answer, new_article

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

# (method, path, a valid body) of every auth-only endpoint, on things that do not exist.
AUTH_ONLY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/user", None),
    ("PUT", "/api/user", {"user": {"bio": "x"}}),
    ("POST", "/api/profiles/ghost/follow", None),
    ("DELETE", "/api/profiles/ghost/follow", None),
    ("GET", "/api/articles/feed", None),
    ("POST", "/api/articles", {"article": {"title": "T", "description": "D", "body": "B"}}),
    ("PUT", "/api/articles/no-such-slug", {"article": {"title": "T"}}),
    ("DELETE", "/api/articles/no-such-slug", None),
    ("POST", "/api/articles/no-such-slug/comments", {"comment": {"body": "hi"}}),
    ("DELETE", "/api/articles/no-such-slug/comments/1", None),
    ("DELETE", "/api/articles/no-such-slug/comments/not-a-number", None),
    ("POST", "/api/articles/no-such-slug/favorite", None),
    ("DELETE", "/api/articles/no-such-slug/favorite", None),
]
ENDPOINT_IDS = [f"{method} {path}" for method, path, _ in AUTH_ONLY]


@pytest.mark.parametrize(("method", "path", "body"), AUTH_ONLY, ids=ENDPOINT_IDS)
def test_auth_only_endpoints_need_a_valid_token_before_any_lookup_or_body(
    api: Api, method: str, path: str, body: dict[str, Any] | None
) -> None:
    assert answer(api.http.request(method, path, json=body)) == (401, TOKEN_MISSING)
    unreadable = api.http.request(
        method, f"{path}?limit=0&offset=-1", content=b"{not json", headers={"Content-Type": "x/y"}
    )
    assert answer(unreadable) == (401, TOKEN_MISSING)
    for name, authorization in BAD_AUTHORIZATION.items():
        response = api.http.request(
            method, path, json=body, headers={"Authorization": authorization}
        )
        assert answer(response) == (401, TOKEN_MISSING), name


def test_a_bad_token_cannot_act_on_things_that_exist(api: Api) -> None:
    ann = api.register("ann")
    slug = new_article(api, ann, title="Real")["slug"]
    comment = add_comment(api, ann, slug)
    forged = {"Authorization": BAD_AUTHORIZATION["other secret"]}
    for method, path in [
        ("DELETE", f"/api/articles/{slug}/comments/{comment['id']}"),
        ("DELETE", f"/api/articles/{slug}"),
        ("POST", f"/api/articles/{slug}/favorite"),
        ("POST", "/api/profiles/ann/follow"),
    ]:
        assert answer(api.http.request(method, path, headers=forged)) == (401, TOKEN_MISSING)
    article = api.http.get(f"/api/articles/{slug}").json()["article"]
    assert article["favoritesCount"] == 0
    comments = api.http.get(f"/api/articles/{slug}/comments").json()["comments"]
    assert [c["id"] for c in comments] == [comment["id"]]


@pytest.mark.parametrize(
    "path",
    ["/api/articles", "/api/articles/a-slug", "/api/articles/a-slug/comments", "/api/profiles/ann"],
)
def test_optional_auth_endpoints_reject_a_bad_token_but_not_a_missing_one(
    api: Api, path: str
) -> None:
    ann = api.register("ann")
    new_article(api, ann, title="A slug")
    assert api.http.get(path).status_code == 200
    assert api.http.get(path, headers=api.auth(ann)).status_code == 200
    # Among them a validly signed token of a user who does not exist.
    for name, authorization in BAD_AUTHORIZATION.items():
        response = api.http.get(path, headers={"Authorization": authorization})
        assert answer(response) == (401, TOKEN_MISSING), name


def test_anonymous_reads_never_need_a_token(api: Api) -> None:
    for path in ["/api/articles", "/api/tags", "/api/articles?tag=x&author=y&favorited=z"]:
        assert api.http.get(path).status_code == 200
