"""GraphQL over HTTP: GET and POST, GraphiQL, batches, bad requests, document limits, and the
error codes and masking every failure gets. No request may end in a 500."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import DEFAULT_GRAPHQL_MAX_NODES, Environment, Settings
from resolvers import articles as article_use_cases
from schema.documents import DocumentCache
from tests.conftest import Api, error_codes
from tests.graphql_ops import ARTICLES, assert_error, create_article, data, only_error

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

CREATE = 'mutation { createArticle(input: {title: "T", description: "D", body: "B"}) { slug } }'


def _article_count(api: Api) -> int:
    count: int = data(api.graphql("{ articles { totalCount } }"))["articles"]["totalCount"]
    return count


def _post_raw(api: Api, content: bytes, content_type: str = "application/json") -> Any:
    return api.http.post("/graphql", content=content, headers={"Content-Type": content_type})


def _bad_request(response: Any, status: int = 400) -> str:
    """The message of a request the endpoint refused before running any operation."""
    assert response.status_code == status, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], body
    message: str = body["errors"][0]["message"]
    return message


# --- GET, POST and GraphiQL -----------------------------------------------------------------


def test_queries_work_over_get(api: Api) -> None:
    create_article(api, api.register("alice"), tags=["b", "a"])
    response = api.http.get("/graphql", params={"query": "{ tags }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"tags": ["a", "b"]}
    with_variables = api.http.get(
        "/graphql",
        params={
            "query": "query($first: Int!) { articles(first: $first) { totalCount } }",
            "variables": '{"first": 1}',
        },
    )
    assert with_variables.json()["data"] == {"articles": {"totalCount": 1}}
    assert with_variables.json()["extensions"]["cost"]["nodes"] == 1


@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        (CREATE, None),
        (f"query Q {{ tags }} {CREATE.replace('mutation', 'mutation M')}", "M"),
        (f"{CREATE.replace('mutation', 'mutation M')} query Q {{ tags }}", None),
    ],
    ids=["mutation", "named mutation", "mutation first"],
)
def test_mutations_over_get_are_refused_and_not_run(
    api: Api, query: str, operation_name: str | None
) -> None:
    alice = api.register("alice")
    params = {"query": query} | ({"operationName": operation_name} if operation_name else {})
    response = api.http.get("/graphql", params=params, headers=api.auth(alice))
    assert response.status_code in (400, 405), response.text
    assert "mutations are not allowed" in _bad_request(response, response.status_code)
    assert _article_count(api) == 0


def test_get_of_a_query_beside_a_mutation_runs_only_the_query(api: Api) -> None:
    alice = api.register("alice")
    query = f"query Q {{ tags }} {CREATE.replace('mutation', 'mutation M')}"
    response = api.http.get("/graphql", params={"query": query}, headers=api.auth(alice))
    assert response.json()["data"] == {"tags": []}
    assert "errors" not in response.json()
    assert _article_count(api) == 0


def test_graphiql_is_served_to_browsers(api: Api) -> None:
    response = api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_get_without_a_query_is_a_bad_request(api: Api) -> None:
    response = api.http.get("/graphql", headers={"Accept": "application/json"})
    assert _bad_request(response) == "No GraphQL query found in the request"


def test_other_methods_are_refused(api: Api) -> None:
    response = api.http.put("/graphql", json={"query": "{ tags }"})
    assert response.status_code == 405
    _bad_request(response, 405)


# --- request bodies the endpoint cannot run -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"query": "{ tags }"', "application/json"),
        (b"", "application/json"),
        (b"query { tags }", "text/plain"),
        (b"query=%7Btags%7D", "application/x-www-form-urlencoded"),
        (b'{"query": "{ tags }"}', "application/xml"),
        (b'"{ tags }"', "application/json"),
        (b"42", "application/json"),
        (b"null", "application/json"),
        (b'["{ tags }"]', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'[{"query": "{ tags }"}, null]', "application/json"),
        (b'[{"query": 5}]', "application/json"),
        (b'[{"query": "{ tags }", "variables": "x"}]', "application/json"),
        (b'[{"query": "{ tags }", "operationName": []}]', "application/json"),
        (b'[{"query": "{ tags }", "extensions": 3}]', "application/json"),
        (b"[{}]", "application/json"),
        (b'{"query": 5}', "application/json"),
        (b'{"query": "{ tags }", "variables": [1]}', "application/json"),
        (b'{"query": "{ tags }", "extensions": "x"}', "application/json"),
        (b'{"variables": {}}', "application/json"),
        (b'{"query": "{ tags }", "operationName": "Missing"}', "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"query": "{ tags }", "x": "\xff\xfe"}', "application/json"),
        (b'{"query": "{ tags }", "variables": {"n": ' + b"1" * 5000 + b"}}", "application/json"),
    ],
    ids=[
        "malformed json",
        "truncated json",
        "empty body",
        "plain text",
        "form",
        "xml",
        "json string",
        "json number",
        "json null",
        "batch of strings",
        "batch of numbers",
        "batch with null",
        "batched query not a string",
        "batched variables not an object",
        "batched operationName not a string",
        "batched extensions not an object",
        "batched operation without query",
        "query not a string",
        "variables not an object",
        "extensions not an object",
        "no query",
        "unknown operation name",
        "deeply nested json",
        "not utf-8",
        "integer too long to convert",
    ],
)
def test_unrunnable_requests_are_bad_requests(api: Api, content: bytes, content_type: str) -> None:
    _bad_request(_post_raw(api, content, content_type))


def test_an_oversized_body_is_refused_before_parsing(api: Api) -> None:
    padding = " " * (1024 * 1024)
    response = api.http.post("/graphql", json={"query": "{ tags }" + padding})
    assert response.status_code == 413


# --- batches --------------------------------------------------------------------------------


def test_a_batch_answers_each_operation_in_order(api: Api) -> None:
    alice = api.register("alice")
    create_article(api, alice, tags=["t"])
    batch = [
        {"query": "{ tags }"},
        {"query": "{ nope }"},
        {"query": "query($n: Int!) { articles(first: $n) { totalCount } }", "variables": {"n": 0}},
        {"query": "{ viewer { username } }"},
    ]
    response = api.http.post("/graphql", json=batch, headers=api.auth(alice))
    assert response.status_code == 200
    answers = response.json()
    assert [error_codes(a) for a in answers] == [
        [],
        ["GRAPHQL_VALIDATION_FAILED"],
        ["BAD_USER_INPUT"],
        [],
    ]
    assert answers[0]["data"] == {"tags": ["t"]}
    assert answers[3]["data"] == {"viewer": {"username": "alice"}}


def test_a_batch_of_ten_is_allowed(api: Api) -> None:
    response = api.http.post("/graphql", json=[{"query": "{ tags }"}] * 10)
    assert [answer["data"] for answer in response.json()] == [{"tags": []}] * 10


def test_a_batch_over_ten_operations_is_refused_and_not_run(api: Api) -> None:
    alice = api.register("alice")
    response = api.http.post("/graphql", json=[{"query": CREATE}] * 11, headers=api.auth(alice))
    assert _bad_request(response) == "Too many operations"
    assert _article_count(api) == 0


# --- documents that do not parse, do not validate, or exceed a limit ------------------------


@pytest.mark.parametrize("query", ["{ tags", "query {", "}", "mutation", "{ tags(first: ) }", "?"])
def test_syntax_errors_are_parse_failures(api: Api, query: str) -> None:
    body = api.graphql(query)
    assert body["data"] is None
    assert_error(body, "GRAPHQL_PARSE_FAILED")
    assert only_error(body)["message"].startswith("Syntax Error")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ nope }", "Cannot query field 'nope' on type 'Query'."),
        ("{ viewer { password } }", "Cannot query field 'password' on type 'User'."),
        ("{ articles }", "Field 'articles' of type 'ArticleConnection!' must have a selection"),
        ('{ articles(first: "x") { totalCount } }', 'Int cannot represent non-integer value: "x"'),
        ("{ articles(sort: NEWEST) { totalCount } }", "Unknown argument 'sort'"),
        ("{ article { slug } }", "of type 'String!' is required, but it was not provided"),
        ("query($x: Int) { tags }", "Variable '$x' is never used."),
        (
            "query($s: String) { article(slug: $s) { slug } }",
            "Variable '$s' of type 'String' used in position expecting type 'String!'.",
        ),
        ("{ article(slug: $s) { slug } }", "Variable '$s' is not defined."),
    ],
)
def test_documents_that_do_not_fit_the_schema_fail_validation(
    api: Api, query: str, message: str
) -> None:
    body = api.graphql(query)
    assert body["data"] is None
    assert_error(body, "GRAPHQL_VALIDATION_FAILED")
    assert message in only_error(body)["message"]


@pytest.mark.parametrize(
    "variables",
    [{"first": "x"}, {"first": 1.5}, {"first": None}, {}, {"first": 2**31}, {"first": [1]}],
    ids=["string", "float", "null", "missing", "too big for Int", "list"],
)
def test_variables_of_the_wrong_type_are_bad_input(api: Api, variables: dict[str, Any]) -> None:
    body = api.graphql("query($first: Int!) { articles(first: $first) { totalCount } }", variables)
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT")
    assert only_error(body)["message"].startswith("Variable '$first'")


def test_input_objects_with_unknown_or_missing_fields_are_bad_input(api: Api) -> None:
    alice = api.register("alice")
    mutation = "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }"
    unknown = {"input": {"title": "T", "description": "D", "body": "B", "author": "bob"}}
    missing = {"input": {"title": "T"}}
    for variables in (unknown, missing):
        body = api.graphql(mutation, variables, as_user=alice)
        assert body["data"] is None
        assert set(error_codes(body)) == {"BAD_USER_INPUT"}, body
    assert _article_count(api) == 0


def test_query_depth_over_the_limit_fails_validation(settings: Settings) -> None:
    # The schema has no cycles yet, so its deepest queries (7) fit under the default of 10.
    with TestClient(create_app(dataclasses.replace(settings, graphql_max_depth=6))) as http:
        deepest = (
            "{ articles { edges { node { comments { edges { node { author { username } } } } } } }"
            " }"
        )
        body = Api(http).graphql(deepest)
    assert body["data"] is None
    messages = [e["message"] for e in body["errors"]]
    assert messages == ["'anonymous' exceeds maximum operation depth of 6"]
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_the_deepest_real_query_is_within_the_depth_limit(api: Api) -> None:
    alice = api.register("alice")
    create_article(api, alice)
    query = (
        "{ articles { edges { node { comments { edges { node { author { username } } } } } } } }"
    )
    assert data(api.graphql(query)) == {
        "articles": {"edges": [{"node": {"comments": {"edges": []}}}]}
    }


def test_aliases_over_the_limit_fail_validation(api: Api) -> None:
    allowed = "{ " + " ".join(f"t{i}: tags" for i in range(30)) + " }"
    assert data(api.graphql(allowed)) == {f"t{i}": [] for i in range(30)}
    too_many = "{ " + " ".join(f"t{i}: tags" for i in range(31)) + " }"
    body = api.graphql(too_many)
    assert body["data"] is None
    assert_error(body, "GRAPHQL_VALIDATION_FAILED")
    assert only_error(body)["message"] == "31 aliases found. Allowed: 30"


def test_documents_over_the_token_limit_fail_to_parse(api: Api) -> None:
    body = api.graphql("{ " + "tags " * 2100 + "}")
    assert body["data"] is None
    assert_error(body, "GRAPHQL_PARSE_FAILED")
    assert "more than 2000 tokens" in only_error(body)["message"]


def test_deeply_nested_documents_fail_to_parse(api: Api) -> None:
    body = api.graphql("{" + "a {" * 600 + "}" * 601)
    assert body["data"] is None
    assert_error(body, "GRAPHQL_PARSE_FAILED")


# --- errors in execution: partial data, masking, request ids --------------------------------


def test_errors_of_one_field_leave_the_others(api: Api) -> None:
    body = api.graphql('{ tags article(slug: "nope") { slug } }')
    assert body["data"] == {"tags": [], "article": None}
    assert_error(body, "NOT_FOUND", {"article": ["not found"]})
    assert only_error(body)["path"] == ["article"]


def test_mutations_in_one_request_run_in_order(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    mutation = """mutation($slug: String!) {
      liked: likeArticle(slug: $slug) { favorited favoritesCount }
      again: likeArticle(slug: $slug) { favoritesCount }
      unliked: unlikeArticle(slug: $slug) { favorited favoritesCount }
    }"""
    assert data(api.graphql(mutation, {"slug": slug}, as_user=alice)) == {
        "liked": {"favorited": True, "favoritesCount": 1},
        "again": {"favoritesCount": 1},
        "unliked": {"favorited": False, "favoritesCount": 0},
    }


def test_unexpected_errors_are_masked_with_the_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> list[str]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(article_use_cases, "all_tags", broken)
    response = api.http.post(
        "/graphql", json={"query": "{ tags }"}, headers={"X-Request-ID": "trace-me-123"}
    )
    assert response.status_code == 200
    assert "secret internals" not in response.text
    assert response.json() == {
        "extensions": {"cost": {"points": 1, "nodes": 0, "maxNodes": DEFAULT_GRAPHQL_MAX_NODES}},
        "data": None,
        "errors": [
            {
                "message": "Internal server error (request id trace-me-123)",
                "locations": [{"line": 1, "column": 3}],
                "path": ["tags"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "trace-me-123"},
            }
        ],
    }
    assert response.headers["x-request-id"] == "trace-me-123"


def test_errors_raised_around_the_operation_are_masked_too(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_parse(self: object) -> Iterator[None]:
        raise RuntimeError("secret internals")
        yield  # a generator, as extension hooks are

    monkeypatch.setattr(DocumentCache, "on_parse", broken_parse)
    response = api.http.post("/graphql", json={"query": "{ tags }"})
    assert response.status_code == 200
    assert "secret internals" not in response.text
    error = only_error(response.json())
    request_id = response.headers["x-request-id"]
    assert error["message"] == f"Internal server error (request id {request_id})"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}


def test_field_suggestions_are_off_in_production(settings: Settings) -> None:
    """Suggestions would let anyone map a production schema field by field."""
    development = settings
    production = dataclasses.replace(
        settings,
        environment=Environment.PRODUCTION,
        jwt_secret="a-production-secret-that-is-long-enough",
    )
    messages = {}
    for name, settings in (("development", development), ("production", production)):
        with TestClient(create_app(settings)) as http:
            body = http.post("/graphql", json={"query": "{ tag }"}).json()
            assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
            messages[name] = body["errors"][0]["message"]
    assert messages == {
        "development": "Cannot query field 'tag' on type 'Query'. Did you mean 'tags'?",
        "production": "Cannot query field 'tag' on type 'Query'.",
    }


def test_bad_arguments_never_reach_the_stores_as_errors(api: Api) -> None:
    """Odd but well-typed arguments are ordinary answers, not server errors."""
    alice = api.register("alice")
    odd = ["\u0000", "é" * 500, "'; DROP TABLE articles; --", "%", "_", "\ud7ff", " "]
    for value in odd:
        for variables in ({"tag": value}, {"author": value}, {"likedBy": value}):
            body = api.graphql(ARTICLES, {"first": 5, **variables}, as_user=alice)
            assert set(error_codes(body)) <= {"BAD_USER_INPUT"}, body
        body = api.graphql("query($s: String!) { article(slug: $s) { slug } }", {"s": value})
        assert error_codes(body) == ["NOT_FOUND"], body
        body = api.graphql(
            "query($u: String!) { profile(username: $u) { username } }", {"u": value}
        )
        assert error_codes(body) == ["NOT_FOUND"], body
