"""Helpers shared by the REST tests: exact RealWorld error bodies, bad credentials of every
kind, and short ways to write articles and comments through the REST API."""

from __future__ import annotations

import re
from typing import Any

import jwt
from httpx2 import Response

from auth.tokens import TokenService
from config import DEVELOPMENT_JWT_SECRET
from tests.conftest import Api

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TOKEN_MISSING = {"errors": {"token": ["is missing"]}}
BLANK = "can't be blank"
TAKEN = "has already been taken"

# Every "Authorization" header that must count as no valid token on an auth-only endpoint.
BAD_AUTHORIZATION = {
    "garbage token": "Token garbage",
    "garbage bearer": "Bearer garbage",
    "empty token": "Token ",
    "scheme only": "Token",
    "unknown scheme": "Basic dXNlcjpwYXNz",
    "jwt without scheme": TokenService(DEVELOPMENT_JWT_SECRET, 3600).issue(1, 0),
    "other secret": "Token " + TokenService("another-secret-" * 4, 3600).issue(1, 0),
    "expired": "Token " + TokenService(DEVELOPMENT_JWT_SECRET, -60).issue(1, 0),
    "expired bearer": "Bearer " + TokenService(DEVELOPMENT_JWT_SECRET, -60).issue(1, 0),
    "alg none": "Token " + jwt.encode({"sub": "1", "iat": 0, "exp": 2**40}, "", algorithm="none"),
    "unknown user": "Token " + TokenService(DEVELOPMENT_JWT_SECRET, 3600).issue(987654, 0),
}


def errors(status: int, key: str, message: str) -> tuple[int, dict[str, Any]]:
    """The (status, body) pair of a one-field RealWorld error."""
    return status, {"errors": {key: [message]}}


def answer(response: Response) -> tuple[int, Any]:
    """(status, JSON body) of a response, for comparing both in one assert."""
    return response.status_code, response.json()


def not_found(resource: str) -> tuple[int, dict[str, Any]]:
    return errors(404, resource, "not found")


def forbidden(resource: str) -> tuple[int, dict[str, Any]]:
    return errors(403, resource, "forbidden")


def token_missing() -> tuple[int, dict[str, Any]]:
    return 401, TOKEN_MISSING


def new_article(
    api: Api,
    author: str,
    *,
    title: str = "A title",
    description: str = "About it",
    body: str = "The body",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """Create an article through REST; returns the `article` object of the 201 answer."""
    fields: dict[str, Any] = {"title": title, "description": description, "body": body}
    if tags is not None:
        fields["tagList"] = tags
    response = api.http.post("/api/articles", json={"article": fields}, headers=api.auth(author))
    assert response.status_code == 201, response.text
    article: dict[str, Any] = response.json()["article"]
    return article


def add_comment(api: Api, author: str, slug: str, body: str = "Nice!") -> dict[str, Any]:
    """Comment through REST; returns the `comment` object of the 201 answer."""
    response = api.http.post(
        f"/api/articles/{slug}/comments",
        json={"comment": {"body": body}},
        headers=api.auth(author),
    )
    assert response.status_code == 201, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


def list_articles(api: Api, query: str = "", viewer: str | None = None) -> dict[str, Any]:
    """GET /api/articles?query; asserts 200 and returns the whole body."""
    response = api.http.get(f"/api/articles?{query}", headers=api.auth(viewer))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def slugs(body: dict[str, Any]) -> list[str]:
    return [a["slug"] for a in body["articles"]]


def login(api: Api, email: str, password: str) -> Response:
    return api.http.post("/api/users/login", json={"user": {"email": email, "password": password}})


def profile(username: str, *, following: bool = False) -> dict[str, Any]:
    """The profile object of a user who has no bio or image."""
    return {"username": username, "bio": None, "image": None, "following": following}
