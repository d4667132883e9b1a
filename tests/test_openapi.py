"""/api/openapi.json: the RealWorld contract as this server keeps it. Its operations are exactly
the routes, and each limit it states is the one the server enforces: a value one past it is
refused with 422 naming the field, and a value at it is taken."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest

from rest.routes import TABLE
from tests.conftest import Api

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
_numbers = count(1)
NOT_ROUTED = ({"errors": {"path": ["not found"]}}, {"errors": {"method": ["not allowed"]}})


def contract(api: Api) -> dict[str, Any]:
    response = api.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def test_the_document_is_the_realworld_contract_served_from_here(api: Api) -> None:
    document = contract(api)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "RealWorld Conduit API"
    assert document["servers"] == [{"url": "/api"}]
    for operations in document["paths"].values():
        for operation in operations.values():
            assert {"429", "503"} <= set(operation["responses"])
            assert ("415" in operation["responses"]) == ("requestBody" in operation)


def test_its_operations_are_exactly_the_routes_and_each_is_answered(api: Api) -> None:
    documented = {
        (path, method.upper())
        for path, operations in contract(api)["paths"].items()
        for method in operations
    }
    routed = {(path, method) for path, method, _ in TABLE if path != "/openapi.json"}
    assert documented == routed
    for path, method in sorted(documented):
        concrete = path.format(slug="no-such-article", username="nobody", id=1)
        response = api.http.request(method, f"/api{concrete}", json={})
        assert response.status_code < 500, (method, path, response.text)
        assert response.json() not in NOT_ROUTED, (method, path)


def _fresh() -> str:
    return f"fresh{next(_numbers)}"


def _send(api: Api, schema: str, fields: dict[str, Any]) -> tuple[int, Any]:
    """One request carrying `fields` in a body of `schema`, as the contract's operation for it
    takes them, with every other required field valid."""
    sent: dict[str, Callable[[], Any]] = {
        "LoginUser": lambda: api.http.post(
            "/api/users/login", json={"user": {"email": "a@example.com", "password": "x", **fields}}
        ),
        "NewUser": lambda: api.http.post(
            "/api/users",
            json={
                "user": {
                    "username": _fresh(),
                    "email": f"{_fresh()}@example.com",
                    "password": "password123",
                    **fields,
                }
            },
        ),
        "UpdateUser": lambda: api.http.put(
            "/api/user", json={"user": fields}, headers=api.auth("owner")
        ),
        "NewArticle": lambda: api.http.post(
            "/api/articles",
            json={"article": {"title": _fresh(), "description": "d", "body": "b", **fields}},
            headers=api.auth("owner"),
        ),
        "UpdateArticle": lambda: api.http.put(
            f"/api/articles/{api.publish('owner', title=_fresh())}",
            json={"article": fields},
            headers=api.auth("owner"),
        ),
        "NewComment": lambda: api.http.post(
            f"/api/articles/{api.publish('owner', title=_fresh())}/comments",
            json={"comment": fields},
            headers=api.auth("owner"),
        ),
    }
    response = sent[schema]()
    if schema == "UpdateUser" and response.status_code == 200:
        api.tokens["owner"] = response.json()["user"]["token"]  # a new email ends the old one
    return response.status_code, response.json()


def _of_length(name: str, length: int) -> str:
    if name == "email":  # each one new: an email may be taken only once
        local = (_fresh() + "e" * length)[: length - len("@example.com")]
        return local + "@example.com"
    if name == "image":
        return "https://example.com/" + "i" * (length - len("https://example.com/"))
    return "n" * length


def test_every_stated_length_is_the_one_enforced(api: Api) -> None:
    api.register("owner")
    schemas = contract(api)["components"]["schemas"]
    checked = 0
    for schema in (
        "LoginUser",
        "NewUser",
        "UpdateUser",
        "NewArticle",
        "UpdateArticle",
        "NewComment",
    ):
        for name, rules in schemas[schema]["properties"].items():
            if "maxLength" not in rules:
                continue
            longest = rules["maxLength"]
            status, body = _send(api, schema, {name: _of_length(name, longest + 1)})
            assert status == 422, (schema, name, body)
            assert name in body["errors"], (schema, name, body)
            if schema != "LoginUser" and name not in ("username", "password"):
                status, body = _send(api, schema, {name: _of_length(name, longest)})
                assert status in (200, 201), (schema, name, body)
            checked += 1
    assert checked >= 15


def test_stated_tag_and_page_limits_are_the_ones_enforced(api: Api) -> None:
    api.register("owner")
    document = contract(api)
    tag_list = document["components"]["schemas"]["NewArticle"]["properties"]["tagList"]
    too_many = [f"t{i}" for i in range(tag_list["maxItems"] + 1)]
    assert _send(api, "NewArticle", {"tagList": too_many})[0] == 422
    assert _send(api, "NewArticle", {"tagList": too_many[:-1]})[0] == 201
    too_long = "t" * (tag_list["items"]["maxLength"] + 1)
    assert _send(api, "NewArticle", {"tagList": [too_long]})[0] == 422
    parameters = document["components"]["parameters"]
    for parameter in ("limitParam", "offsetParam"):
        name = parameters[parameter]["name"]
        largest = parameters[parameter]["schema"]["maximum"]
        assert api.http.get(f"/api/articles?{name}={largest}").status_code == 200
        assert api.http.get(f"/api/articles?{name}={largest + 1}").status_code == 422
