"""Who is asking: HS256 JWTs (pinned algorithm, required expiry) and Argon2id password hashes.

Tokens are built here with PyJWT and the published development secret (the one the test app
signs with), so each rejected token differs from a valid one in exactly one way."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.testclient import TestClient

from app import create_app
from config import DEVELOPMENT_JWT_SECRET, Settings
from models.users import User
from stores.factory import OpenStores
from stores.sql.tables import METADATA_BY_DOMAIN
from tests.conftest import Api

VIEWER = "{ viewer { username email } }"
SECRET = DEVELOPMENT_JWT_SECRET


def sign(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        # HS384/HS512 want longer keys than the development secret; irrelevant here.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(claims, key, algorithm=algorithm)


def claims_for(user_id: int | str, **changes: Any) -> dict[str, Any]:
    issued = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + timedelta(hours=1),
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


def tampered(token: str) -> str:
    """The same signature over a payload that names another user."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def user_id_of(api: Api, username: str) -> int:
    claims = jwt.decode(api.tokens[username], SECRET, algorithms=["HS256"])
    return int(claims["sub"])


def get_user(api: Api, authorization: str | None) -> Any:
    headers = {} if authorization is None else {"Authorization": authorization}
    return api.http.get("/api/user", headers=headers)


def viewer(api: Api, authorization: str | None) -> dict[str, Any]:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.http.post("/graphql", json={"query": VIEWER}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def shared_api(module_settings: Settings) -> Iterator[Api]:
    """One app for the token tests (they write nothing), with alice and bob registered."""
    with TestClient(create_app(module_settings), raise_server_exceptions=False) as http:
        api = Api(http)
        api.register("alice")
        api.register("bob")
        yield api


@pytest.fixture
def alice(shared_api: Api) -> int:
    return user_id_of(shared_api, "alice")


# Each builds an Authorization header from alice's id; each must be refused.
BAD_HEADERS: dict[str, Callable[[int], str]] = {
    "another secret": lambda uid: "Token " + sign(claims_for(uid), key="another-secret-" * 4),
    "alg none": lambda uid: "Token " + sign(claims_for(uid), key="", algorithm="none"),
    "alg none, Bearer": lambda uid: "Bearer " + sign(claims_for(uid), key="", algorithm="none"),
    "HS512": lambda uid: "Token " + sign(claims_for(uid), algorithm="HS512"),
    "HS384": lambda uid: "Token " + sign(claims_for(uid), algorithm="HS384"),
    "expired": lambda uid: (
        "Token " + sign(claims_for(uid, exp=datetime.now(UTC) - timedelta(seconds=5)))
    ),
    "missing exp": lambda uid: "Token " + sign(without(claims_for(uid), "exp")),
    "missing sub": lambda uid: "Token " + sign(without(claims_for(uid), "sub")),
    "non-numeric sub": lambda uid: "Token " + sign(claims_for("alice")),
    "negative sub": lambda uid: "Token " + sign(claims_for(f"-{uid}")),
    "numeric sub of nobody": lambda uid: "Token " + sign(claims_for(uid + 1000)),
    "sub past any database integer": lambda uid: "Token " + sign(claims_for("9" * 20)),
    "tampered payload": lambda uid: "Token " + tampered(sign(claims_for(uid))),
    "garbage": lambda uid: "Token garbage",
    "three garbage parts": lambda uid: "Bearer abc.def.ghi",
    "scheme only": lambda uid: "Token",
    "no scheme": lambda uid: sign(claims_for(uid)),
    "wrong scheme": lambda uid: "Basic " + sign(claims_for(uid)),
    "wrong scheme, JWT": lambda uid: "JWT " + sign(claims_for(uid)),
}


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "token", "bearer"])
def test_a_valid_token_works_with_either_scheme(shared_api: Api, alice: int, scheme: str) -> None:
    header = f"{scheme} {sign(claims_for(alice))}"
    response = get_user(shared_api, header)
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "alice"
    assert viewer(shared_api, header)["data"] == {
        "viewer": {"username": "alice", "email": "alice@example.com"}
    }


def test_the_token_the_app_issues_names_the_user(shared_api: Api, alice: int) -> None:
    response = get_user(shared_api, f"Token {shared_api.tokens['alice']}")
    assert response.status_code == 200
    assert response.json()["user"]["token"] == shared_api.tokens["alice"]
    claims = jwt.get_unverified_header(shared_api.tokens["alice"])
    assert claims["alg"] == "HS256"


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_a_bad_token_is_refused_over_rest(shared_api: Api, alice: int, case: str) -> None:
    response = get_user(shared_api, BAD_HEADERS[case](alice))
    assert response.status_code == 401, response.text
    errors = response.json()["errors"]
    assert list(errors) == ["token"]
    assert errors["token"]
    assert all(isinstance(m, str) and m for m in errors["token"])


@pytest.mark.parametrize("case", sorted(BAD_HEADERS))
def test_a_bad_token_is_refused_over_graphql(shared_api: Api, alice: int, case: str) -> None:
    body = viewer(shared_api, BAD_HEADERS[case](alice))
    assert body.get("data") in (None, {"viewer": None})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "path", ["/api/articles", "/api/tags", "/api/profiles/bob", "/api/articles/no-such-article"]
)
def test_a_bad_token_is_refused_even_where_none_is_needed_over_rest(
    shared_api: Api, alice: int, path: str
) -> None:
    """A token that was sent but is not valid never silently falls back to anonymous."""
    response = shared_api.http.get(path, headers={"Authorization": BAD_HEADERS["expired"](alice)})
    assert response.status_code == 401, response.text
    assert list(response.json()["errors"]) == ["token"]


@pytest.mark.parametrize(
    "query", ["{ articles { totalCount } }", "{ tags }", '{ profile(username: "bob") { bio } }']
)
def test_a_bad_token_is_refused_even_where_none_is_needed_over_graphql(
    shared_api: Api, alice: int, query: str
) -> None:
    header = {"Authorization": BAD_HEADERS["expired"](alice)}
    body = shared_api.http.post("/graphql", json={"query": query}, headers=header).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_no_token_is_anonymous(shared_api: Api, alice: int) -> None:
    response = get_user(shared_api, None)
    assert response.status_code == 401
    assert list(response.json()["errors"]) == ["token"]
    assert viewer(shared_api, None)["data"] == {"viewer": None}
    assert shared_api.http.get("/api/articles").status_code == 200


def stored_user(settings: Settings, username: str) -> User:
    async def read() -> User:
        open_stores = OpenStores(settings.domain_urls())
        try:
            found = await open_stores.stores.users.by_username(username)
        finally:
            await open_stores.close()
        assert found is not None
        return found

    return asyncio.run(read())


def everything_stored(settings: Settings, backend: str, directory: Path) -> bytes:
    """Every byte SQLite's files hold (main files and write-ahead logs alike), on PostgreSQL
    every row of every table, and on DynamoDB every item of every table."""
    if backend == "sqlite":
        return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())
    if backend == "dynamodb":
        client = boto3.client("dynamodb")
        tables = [url.removeprefix("dynamodb://") for url in settings.domain_urls().values()]
        pages = [
            page
            for table in tables
            for page in client.get_paginator("scan").paginate(TableName=table)
        ]
        return "".join(repr(item) for page in pages for item in page["Items"]).encode()

    async def dump(domain: str, url: str) -> bytes:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                tables = METADATA_BY_DOMAIN[domain].sorted_tables
                rows = [row for t in tables for row in (await conn.execute(select(t))).all()]
        finally:
            await engine.dispose()
        return "".join(repr(tuple(row)) for row in rows).encode()

    async def dump_all() -> bytes:
        return b"".join([await dump(d, url) for d, url in settings.domain_urls().items()])

    return asyncio.run(dump_all())


def test_passwords_are_stored_as_argon2id_and_never_in_plain(
    api: Api, settings: Settings, backend: str, tmp_path: Path
) -> None:
    password = "correct horse battery staple"
    api.register("carol", password=password)
    api.register("dave", password=password)
    login = api.http.post(
        "/api/users/login", json={"user": {"email": "carol@example.com", "password": password}}
    )
    assert login.status_code == 200, login.text

    carol = stored_user(settings, "carol")
    dave = stored_user(settings, "dave")
    assert carol.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(carol.password_hash, password)
    assert carol.password_hash != dave.password_hash  # salted
    assert password not in carol.password_hash

    # The password is nowhere, while the rest of the user is (so the scan reads where the data
    # really is).
    stored = everything_stored(settings, backend, tmp_path)
    assert b"carol@example.com" in stored
    assert carol.password_hash.encode() in stored
    assert password.encode() not in stored
