"""Persisted queries over HTTP: Apollo's Automatic Persisted Queries (a hash alone, the text
with its hash, GET for CDN-cacheable reads), the protocol's bad requests, the limits a persisted
document is held to, and trusted documents (only a manifest's operations run)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql.language.parser import Parser
from starlette.testclient import TestClient

from app import create_app
from config import SHIPPED_OPERATIONS, ConfigError, Settings
from schema import schema
from schema.operations import read_manifest
from tests.conftest import Api, error_codes
from tests.graphql_ops import create_article

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

TAGS = "query Tags { tags }"
NESTED = (
    "query Nested($first: Int!) { articles(first: $first) "
    "{ nodes { comments(first: 100) { nodes { body } } } } }"
)
CREATE = 'mutation { createArticle(input: {title: "T", description: "D", body: "B"}) { slug } }'


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def post(api: Api, body: object, headers: dict[str, str] | None = None) -> Any:
    return api.http.post("/graphql", json=body, headers=headers or {})


def by_hash(api: Api, text: str, variables: dict[str, Any] | None = None) -> Any:
    body = {"extensions": persisted(sha256(text)), "variables": variables or {}}
    return post(api, body)


def with_text(api: Api, text: str, variables: dict[str, Any] | None = None) -> Any:
    body = {"query": text, "extensions": persisted(sha256(text)), "variables": variables or {}}
    return post(api, body)


def only_error(response: Any, status: int = 200) -> tuple[str, str]:
    """The code and message of the one error of an answer with no data."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


# --- Automatic Persisted Queries --------------------------------------------------------------


def test_an_unknown_hash_is_not_found_then_the_text_registers_it(api: Api) -> None:
    """Apollo's flow: the hash alone, PersistedQueryNotFound, the text with the hash, and from
    then on the hash alone."""
    create_article(api, api.register("alice"), tags=["dragons"])
    assert only_error(by_hash(api, TAGS)) == ("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
    registered = with_text(api, TAGS)
    assert registered.status_code == 200
    assert registered.json()["data"] == {"tags": ["dragons"]}
    again = by_hash(api, TAGS)
    assert again.json()["data"] == {"tags": ["dragons"]}
    assert again.json()["extensions"]["cost"]["points"] == 1
    assert "errors" not in again.json()


def test_a_persisted_document_is_neither_parsed_nor_validated_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    validated: list[object] = []
    parse_document, validate_document = Parser.parse_document, strawberry_schema.validate_document

    def parsing(parser: Parser) -> Any:
        parsed.append(parser._lexer.source.body)
        return parse_document(parser)

    def validating(*args: Any) -> Any:
        validated.append(args[1])
        return validate_document(*args)

    monkeypatch.setattr(Parser, "parse_document", parsing)
    monkeypatch.setattr(strawberry_schema, "validate_document", validating)
    with_text(api, TAGS)
    for _ in range(3):
        assert by_hash(api, TAGS).json()["data"] == {"tags": []}
    assert parsed.count(TAGS) == 1
    assert len(validated) == 1


def test_a_persisted_query_runs_over_get(api: Api) -> None:
    """What a CDN can cache: the whole request is in the URL."""
    create_article(api, api.register("alice"), tags=["dragons"])
    params = {"extensions": json.dumps(persisted(sha256(TAGS)))}
    missing = api.http.get("/graphql", params=params)
    assert only_error(missing) == ("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
    registered = api.http.get("/graphql", params={**params, "query": TAGS})
    assert registered.json()["data"] == {"tags": ["dragons"]}
    answer = api.http.get("/graphql", params=params)
    assert answer.status_code == 200
    assert answer.json()["data"] == {"tags": ["dragons"]}
    # No cache header of its own: the answer may depend on the Authorization header.
    assert "cache-control" not in answer.headers


def test_a_persisted_mutation_is_refused_over_get_and_not_run(api: Api) -> None:
    alice = api.register("alice")
    params = {"extensions": json.dumps(persisted(sha256(CREATE)))}
    # Known from a POST first, so that GET finds it by its hash.
    posted = post(api, {"query": CREATE, "extensions": persisted(sha256(CREATE))}, api.auth(alice))
    assert posted.json()["data"] == {"createArticle": {"slug": "t"}}
    response = api.http.get("/graphql", params=params, headers=api.auth(alice))
    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["BAD_REQUEST"]
    assert "mutations are not allowed" in response.json()["errors"][0]["message"]
    count = api.graphql("{ articles { totalCount } }")["data"]["articles"]["totalCount"]
    assert count == 1


def test_persisted_queries_in_a_batch_are_answered_each(api: Api) -> None:
    with_text(api, TAGS)
    unknown = sha256("{ tags }")
    response = post(
        api, [{"extensions": persisted(sha256(TAGS))}, {"extensions": persisted(unknown)}]
    )
    first, second = response.json()
    assert first["data"] == {"tags": []}
    assert error_codes(second) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (persisted(sha256(TAGS), version=2), "Unsupported persisted query version 2"),
        (persisted(sha256(TAGS), version=True), "Unsupported persisted query version True"),
        (persisted(sha256(TAGS), version="1"), "Unsupported persisted query version '1'"),
        ({"persistedQuery": {"sha256Hash": sha256(TAGS)}}, "version None"),
        (persisted(123), "must be the SHA-256"),  # type: ignore[arg-type]
        (persisted("abc"), "must be the SHA-256"),
        (persisted(sha256(TAGS).upper()), "must be the SHA-256"),
        ({"persistedQuery": {"version": 1}}, "must be the SHA-256"),
        ({"persistedQuery": "abc"}, "must be an object"),
    ],
    ids=[
        "version 2",
        "version true",
        "version string",
        "no version",
        "number hash",
        "short hash",
        "uppercase hash",
        "no hash",
        "not an object",
    ],
)
def test_persisted_queries_that_break_the_protocol_are_bad_requests(
    api: Api, extensions: dict[str, Any], message: str
) -> None:
    for body in ({"extensions": extensions}, {"query": TAGS, "extensions": extensions}):
        code, said = only_error(post(api, body), status=400)
        assert code == "BAD_REQUEST"
        assert message in said
    params = {"extensions": json.dumps(extensions), "query": TAGS}
    assert only_error(api.http.get("/graphql", params=params), status=400)[0] == "BAD_REQUEST"


def test_a_hash_that_is_not_the_texts_is_a_bad_request_and_not_kept(api: Api) -> None:
    other = sha256("{ tags }")
    code, message = only_error(post(api, {"query": TAGS, "extensions": persisted(other)}), 400)
    assert code == "BAD_REQUEST"
    assert "is not the SHA-256 of the query text" in message
    # Neither text is known by the hash now.
    assert only_error(by_hash(api, "{ tags }"))[0] == "PERSISTED_QUERY_NOT_FOUND"
    batch = post(api, [{"query": TAGS}, {"query": TAGS, "extensions": persisted(other)}])
    assert only_error(batch, 400)[0] == "BAD_REQUEST"


def test_outside_http_a_bad_persisted_query_is_an_error_too() -> None:
    """Where no view checks the request first (schema.execute in a script, a subscription's
    payload), the extension refuses it itself, without running it."""
    mismatched = asyncio.run(schema.execute(TAGS, operation_extensions=persisted(sha256("{}"))))
    assert mismatched.data is None
    assert [(e.extensions or {})["code"] for e in mismatched.errors or []] == ["BAD_REQUEST"]
    unknown = asyncio.run(schema.execute(None, operation_extensions=persisted(sha256(TAGS))))
    assert [e.message for e in unknown.errors or []] == ["PersistedQueryNotFound"]


def test_an_invalid_document_is_not_kept(api: Api) -> None:
    invalid = "query Nope { nope }"
    assert only_error(with_text(api, invalid))[0] == "GRAPHQL_VALIDATION_FAILED"
    assert only_error(by_hash(api, invalid))[0] == "PERSISTED_QUERY_NOT_FOUND"


def test_the_limits_hold_for_a_persisted_document(api: Api, settings: Settings) -> None:
    """Costed with each request's own variables: 1 + 100 nodes fit, 100 + 100 * 100 do not."""
    assert with_text(api, NESTED, {"first": 1}).json()["extensions"]["cost"]["nodes"] == 101
    code, message = only_error(by_hash(api, NESTED, {"first": 100}))
    assert code == "MAX_NODE_LIMIT_EXCEEDED"
    assert "'Nested' could return 10100 nodes" in message
    deep = "{ articles { edges { node { comments { edges { node { author { username } } } } } } } }"
    with TestClient(create_app(dataclasses.replace(settings, graphql_max_depth=6))) as http:
        small = Api(http)
        assert only_error(with_text(small, deep))[0] == "GRAPHQL_VALIDATION_FAILED"
        assert only_error(by_hash(small, deep))[0] == "PERSISTED_QUERY_NOT_FOUND"


# --- trusted documents ----------------------------------------------------------------------


@pytest.fixture
def trusted(settings: Settings) -> Iterator[Api]:
    """The app with the operations the project ships as its trusted documents."""
    only_shipped = dataclasses.replace(settings, graphql_trusted_documents=SHIPPED_OPERATIONS)
    with TestClient(create_app(only_shipped), raise_server_exceptions=False) as http:
        yield Api(http)


def _shipped(name: str) -> str:
    [body] = [
        operation["body"]
        for operation in json.loads(SHIPPED_OPERATIONS.read_text())["operations"]
        if operation["name"] == name
    ]
    text: str = body
    return text


def test_trusted_documents_run_by_hash_or_by_their_text(trusted: Api) -> None:
    register = _shipped("Register")
    user = {"username": "jake", "email": "jake@example.com", "password": "jakejake"}
    signed_up = by_hash(trusted, register, {"input": user}).json()
    assert signed_up["data"]["register"]["user"] == {
        "username": "jake",
        "email": "jake@example.com",
    }
    home = trusted.http.post("/graphql", json={"query": _shipped("Home")}).json()
    assert home["data"]["tags"] == []
    assert home["extensions"]["cost"]["nodes"] == 20


@pytest.mark.parametrize(
    "body",
    [
        {"query": TAGS},
        {"query": TAGS, "extensions": persisted(sha256(TAGS))},
        {"extensions": persisted(sha256(TAGS))},
        {"query": "{ __schema { queryType { name } } }"},
        # A shipped operation as written in its file, not as the manifest prints it.
        {"query": (SHIPPED_OPERATIONS.parent / "Login.graphql").read_text()},
    ],
    ids=["text", "text and hash", "unknown hash", "introspection", "unprinted text"],
)
def test_anything_else_is_not_allowed(trusted: Api, body: dict[str, Any]) -> None:
    code, message = only_error(post(trusted, body))
    assert code == "PERSISTED_QUERY_NOT_ALLOWED"
    assert "trusted documents" in message


def test_trusted_documents_learn_nothing_from_requests(trusted: Api) -> None:
    post(trusted, {"query": TAGS, "extensions": persisted(sha256(TAGS))})
    assert only_error(by_hash(trusted, TAGS))[0] == "PERSISTED_QUERY_NOT_ALLOWED"


def test_trusted_mode_still_refuses_bad_persisted_queries(trusted: Api) -> None:
    home = _shipped("Home")
    body = {"query": home, "extensions": persisted(sha256(home), version=2)}
    assert only_error(post(trusted, body), 400)[0] == "BAD_REQUEST"
    code, message = only_error(post(trusted, {"variables": {}}), 400)
    assert (code, message) == ("BAD_REQUEST", "No GraphQL query found in the request")


def test_trusted_documents_on_means_the_shipped_manifest() -> None:
    env = {"CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS": "on"}
    assert Settings.from_env(env).graphql_trusted_documents == SHIPPED_OPERATIONS
    assert Settings.from_env({}).graphql_trusted_documents is None
    off = {"CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS": "off"}
    assert Settings.from_env(off).graphql_trusted_documents is None
    with pytest.raises(ConfigError, match="no such file"):
        Settings.from_env({"CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS": "/nowhere/manifest.json"})


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("not json", "trusted documents"),
        ('{"operations": []}', "not a apollo-persisted-query-manifest"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": '
            '[{"id": "abc", "body": "{ tags }"}]}',
            "the body's SHA-256",
        ),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": '
            f'[{{"id": "{sha256("{ nope }")}", "body": "{{ nope }}"}}]}}',
            "Cannot query field 'nope'",
        ),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": '
            f'[{{"id": "{sha256("{ tags")}", "body": "{{ tags"}}]}}',
            "Syntax Error",
        ),
    ],
    ids=["not json", "not a manifest", "wrong id", "invalid document", "syntax error"],
)
def test_a_broken_manifest_stops_the_start(
    settings: Settings, tmp_path: Path, manifest: str, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(manifest)
    with pytest.raises(ConfigError, match=message):
        create_app(dataclasses.replace(settings, graphql_trusted_documents=path))


def test_the_shipped_manifest_reads() -> None:
    assert len(read_manifest(SHIPPED_OPERATIONS)) == len(
        list(SHIPPED_OPERATIONS.parent.glob("*.graphql"))
    )
