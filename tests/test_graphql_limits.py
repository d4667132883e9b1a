"""GraphQL operations over the limits are refused before any store is read: too deep, too many
aliases, or too many nodes (nested connections multiply, a batch counts as the sum of its
operations); and what an operation may cost is reported in `extensions.cost`.

The limits are checked on the document before any store is read, so these tests run on SQLite
only: the backend cannot change what they show."""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql.language.parser import Parser
from starlette.testclient import TestClient

from app import create_app
from config import DEFAULT_GRAPHQL_MAX_NODES, Settings
from tests.conftest import Api, error_codes, separate_sqlite_files
from tests.graphql_ops import AMPLIFICATION, fragment_bomb

ROUND_TRIPS = "X-Store-Round-Trips"


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return separate_sqlite_files(tmp_path)


@pytest.fixture
def api(sqlite_settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(sqlite_settings), raise_server_exceptions=False) as http:
        yield Api(http)


def post(api: Api, body: object) -> tuple[Any, int]:
    response = api.http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers[ROUND_TRIPS])


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body["data"] is None, body
    [error] = body["errors"]
    found: dict[str, Any] = error
    return found


def test_fragments_spread_twice_over_are_analysed_once_each(api: Api) -> None:
    body, _ = post(api, {"query": fragment_bomb(19, "tags")})
    assert body["data"] == {"tags": []}
    assert body["extensions"]["cost"] == {
        "points": 1,
        "nodes": 0,
        "maxNodes": DEFAULT_GRAPHQL_MAX_NODES,
    }


def test_aliases_multiplied_by_fragments_are_refused(api: Api) -> None:
    body, trips = post(api, {"query": fragment_bomb(19, "t: tags")})
    error = only_error(body)
    assert error["message"] == f"{2**19} aliases found. Allowed: 30"
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert trips == 0


def test_connections_multiplied_by_fragments_are_refused_before_any_store_call(
    api: Api,
) -> None:
    body, trips = post(api, {"query": fragment_bomb(19, "articles(first: 1) { nodes { slug } }")})
    error = only_error(body)
    assert error["extensions"] == {
        "code": "MAX_NODE_LIMIT_EXCEEDED",
        "nodes": 2**19,
        "requestNodes": 2**19,
        "maxNodes": DEFAULT_GRAPHQL_MAX_NODES,
        "points": 2**19 // 100 + 1,
    }
    assert error["message"].startswith(f"'Bomb' could return {2**19} nodes")
    assert trips == 0


def test_fragments_nested_two_hundred_deep_are_refused(api: Api) -> None:
    body, trips = post(api, {"query": fragment_bomb(200, "tags")})
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "more than 2000 tokens" in only_error(body)["message"]
    assert trips == 0
    # As deep as the token limit allows: analysed in one pass all the same.
    body, _ = post(api, {"query": fragment_bomb(150, "tags")})
    assert body["data"] == {"tags": []}


def test_nested_connections_multiply(api: Api) -> None:
    body, trips = post(api, {"query": AMPLIFICATION})
    error = only_error(body)
    assert error["extensions"]["code"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert error["extensions"]["nodes"] == 30 * (100 + 100 * 100)
    assert trips == 0


def test_a_profiles_connections_multiply_too(api: Api) -> None:
    nested = (
        "{ articles(first: 100) { nodes { author { "
        "articles(first: 100) { nodes { slug } } likedArticles(first: 1) { totalCount } } } } }"
    )
    body, trips = post(api, {"query": nested})
    error = only_error(body)
    assert error["extensions"]["code"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert error["extensions"]["nodes"] == 100 + 100 * (100 + 1)
    assert trips == 0
    viewer = (
        "{ viewer { feed(first: 30) { nodes { author { articles(first: 70) { totalCount } } } } } }"
    )
    body, trips = post(api, {"query": viewer})
    assert only_error(body)["extensions"]["nodes"] == 30 + 30 * 70
    assert trips == 0


@pytest.mark.parametrize(
    ("query", "variables", "nodes"),
    [
        ("{ articles { nodes { slug } } }", {}, 20),  # the default page size
        ("{ articles(first: 7) { nodes { slug } } }", {}, 7),
        ("query($n: Int!) { articles(first: $n) { nodes { slug } } }", {"n": 9}, 9),
        ("query($n: Int = 4) { articles(first: $n) { nodes { slug } } }", {}, 4),
        ("{ articles(first: 3) { edges { node { comments(first: 5) { totalCount } } } } }", {}, 18),
        ("{ feed(first: 2) { nodes { slug } } a: articles(first: 2) { totalCount } }", {}, 4),
        # Sizes the resolver refuses count as a full page, so its own error is what is seen.
        ("{ articles(first: 5000) { nodes { slug } } }", {}, 100),
        ("query($n: Int!) { articles(first: $n) { nodes { slug } } }", {"n": "many"}, 100),
    ],
)
def test_every_answer_reports_its_cost(
    api: Api, query: str, variables: dict[str, Any], nodes: int
) -> None:
    body, _ = post(api, {"query": query, "variables": variables})
    assert body["extensions"]["cost"]["nodes"] == nodes, body


def test_points_count_connection_pages_a_hundred_to_a_point(api: Api) -> None:
    query = "{ articles(first: 100) { nodes { comments(first: 1) { totalCount } } } }"
    body, _ = post(api, {"query": query})
    # One page of articles and 100 of comments: 101 pages to read.
    assert body["extensions"]["cost"] == {
        "points": 2,
        "nodes": 200,
        "maxNodes": DEFAULT_GRAPHQL_MAX_NODES,
    }


def test_a_batch_counts_as_the_sum_of_its_operations(api: Api) -> None:
    big = {"query": "{ articles(first: 100) { nodes { comments(first: 9) { totalCount } } } }"}
    body, _ = post(api, [big, big, big])
    # 1,000 nodes each: the first two fit under 2,000, the third would not.
    assert [r.get("data") for r in body[:2]] == [{"articles": {"nodes": []}}] * 2
    error = only_error(body[2])
    assert error["extensions"]["code"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert error["extensions"]["requestNodes"] == 3_000
    assert "after 2000 in the request's other operations" in error["message"]
    # The budget is per request: the next request starts afresh.
    body, _ = post(api, big)
    assert body["data"] == {"articles": {"nodes": []}}


def test_an_operation_of_a_batch_that_fails_validation_spends_no_nodes(api: Api) -> None:
    big = "{ articles(first: 100) { nodes { comments(first: 9) { totalCount } } } }"
    invalid = {"query": big.replace("totalCount", "nope")}
    body, _ = post(api, [invalid, {"query": big}, {"query": big}])
    assert error_codes(body[0]) == ["GRAPHQL_VALIDATION_FAILED"]
    assert [r.get("data") for r in body[1:]] == [{"articles": {"nodes": []}}] * 2


def test_the_limits_are_settings(sqlite_settings: Settings) -> None:
    strict = dataclasses.replace(
        sqlite_settings, graphql_max_depth=2, graphql_max_aliases=1, graphql_max_nodes=10
    )
    with TestClient(create_app(strict)) as http:
        api = Api(http)
        deep = "query Deep { articles(first: 1) { nodes { author { username } } } }"
        assert only_error(post(api, {"query": deep})[0]) == {
            "message": "'Deep' exceeds maximum operation depth of 2",
            "locations": [{"line": 1, "column": 1}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }
        body, _ = post(api, {"query": "{ articles(first: 10) { nodes { slug } } }"})
        assert body["data"] == {"articles": {"nodes": []}}
        body, _ = post(api, {"query": "{ articles(first: 11) { nodes { slug } } }"})
        assert error_codes(body) == ["MAX_NODE_LIMIT_EXCEEDED"]
        body, _ = post(api, {"query": "{ a: tags b: tags }"})
        assert only_error(body)["message"] == "2 aliases found. Allowed: 1"


def test_a_spread_of_an_unknown_fragment_fails_validation_quietly(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        body, _ = post(api, {"query": "query { ...Nope }"})
    assert only_error(body)["message"] == "Unknown fragment 'Nope'."
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert caplog.records == []


# Superscript two, Arabic-Indic three, Arabic-Indic 1000: digits to str.isdigit, not to int().
@pytest.mark.parametrize("digits", ["1000:\u00b2", "1000:\u0663", "\u0661\u0660\u0660\u0660:3"])
def test_a_cursor_of_other_scripts_digits_is_bad_input(
    api: Api, caplog: pytest.LogCaptureFixture, digits: str
) -> None:
    cursor = base64.urlsafe_b64encode(f"v1:{digits}".encode()).decode()
    query = "query($after: String) { articles(after: $after) { totalCount } }"
    with caplog.at_level(logging.WARNING):
        body, _ = post(api, {"query": query, "variables": {"after": cursor}})
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert caplog.records == []


@pytest.mark.parametrize(
    "query",
    [
        "query { ...A } fragment A on Query { tags ...A }",  # a fragment that spreads itself
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "query { nope { deeper { deepest } } ...Missing }",
        "query { ... on Nothing { tags } article(slug: 1) { nope { x } } }",
    ],
)
def test_invalid_documents_are_analysed_then_left_to_validation(api: Api, query: str) -> None:
    """The cost is analysed before validation, so whatever parses must not break it."""
    body, trips = post(api, {"query": query})
    assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}, body
    assert trips == 0


def test_an_invalid_document_over_the_limits_is_refused_for_its_cost(api: Api) -> None:
    bomb = fragment_bomb(19, "articles(first: 1) { nodes { nope } }")
    assert error_codes(post(api, {"query": bomb})[0]) == ["MAX_NODE_LIMIT_EXCEEDED"]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every document parsed."""
    parsed: list[str] = []
    parse_document = Parser.parse_document

    def counting(parser: Parser) -> Any:
        parsed.append(parser._lexer.source.body)
        return parse_document(parser)

    monkeypatch.setattr(Parser, "parse_document", counting)
    return parsed


def test_only_valid_documents_are_kept_parsed(api: Api, parses: list[str]) -> None:
    """A document refused for its cost is remembered without its AST, and one invalid is
    parsed anew each time, so that a client sending ever new ones cannot fill the cache (and
    the garbage collector's work) with them."""
    valid = "{ tags articles(first: 2) { totalCount } }"
    refused = fragment_bomb(19, "articles(first: 1) { nodes { slug } }")
    invalid = "{ nope }"
    for _ in range(3):
        for query in (valid, refused, invalid):
            post(api, {"query": query})
    assert [parses.count(q) for q in (valid, refused, invalid)] == [1, 1, 3]
    # The document kept is validated once too, and still costed with each request's variables.
    with_variable = "query($n: Int!) { articles(first: $n) { totalCount } }"
    for n in (1, 100):
        body, _ = post(api, {"query": with_variable, "variables": {"n": n}})
        assert body["extensions"]["cost"]["nodes"] == n


@pytest.mark.parametrize(
    "query",
    [
        fragment_bomb(19, "articles(first: 1) { nodes { slug } }"),  # nodes
        fragment_bomb(19, "t: tags"),  # aliases
        "query Deep { a { b { c { d { e { f { g { h { i { j { k { l } } } } } } } } } } } }",
        # 31 aliases: refused whatever the variable sizing one of its pages.
        "query($n: Int) { a: articles(first: $n) { totalCount } " + AMPLIFICATION[1:],
    ],
)
def test_a_text_refused_for_its_document_is_parsed_once(
    api: Api, parses: list[str], query: str
) -> None:
    """Sent again, it is refused before it is parsed, with the very same answer (the error's
    location included)."""
    text = "\n\n  " + query
    answers = [post(api, {"query": text, "variables": {"n": 5}}) for _ in range(3)]
    assert parses.count(text) == 1
    assert answers[1:] == [answers[0]] * 2
    body, trips = answers[0]
    assert only_error(body)["locations"] == [{"line": 3, "column": 3}]
    assert set(body["extensions"]["cost"]) == {"points", "nodes", "maxNodes"}
    assert trips == 0


def test_a_refusal_a_variable_sizes_is_not_remembered(api: Api, parses: list[str]) -> None:
    query = (
        "query($n: Int!) { articles(first: $n) { nodes { comments(first: 100) { totalCount } } } }"
    )
    for _ in range(3):
        body, _ = post(api, {"query": query, "variables": {"n": 100}})
        assert error_codes(body) == ["MAX_NODE_LIMIT_EXCEEDED"]
    assert parses.count(query) == 3
    body, _ = post(api, {"query": query, "variables": {"n": 1}})
    assert body["data"] == {"articles": {"nodes": []}}


def test_a_remembered_refusal_counts_its_batch(api: Api, parses: list[str]) -> None:
    """Remembered, the refusal is figured anew for each request: within a batch, with the
    nodes of the batch's other operations; and only one that is over the limit alone is."""
    big = {"query": "{ articles(first: 100) { nodes { comments(first: 9) { totalCount } } } }"}
    bomb = {"query": fragment_bomb(12, "articles(first: 1) { nodes { slug } }")}
    alone = only_error(post(api, bomb)[0])
    body, _ = post(api, [big, bomb])
    in_batch = only_error(body[1])
    assert parses.count(bomb["query"]) == 1
    assert in_batch["extensions"] == {**alone["extensions"], "requestNodes": 1000 + 2**12}
    assert "after 1000 in the request's other operations" in in_batch["message"]
    # Refused only for what the batch spent before it: not remembered.
    for _ in range(2):
        body, _ = post(api, [big, big, big])
        assert error_codes(body[2]) == ["MAX_NODE_LIMIT_EXCEEDED"]
    assert post(api, big)[0]["data"] == {"articles": {"nodes": []}}


def test_a_refusal_is_remembered_for_the_operation_named(api: Api) -> None:
    bomb = fragment_bomb(19, "articles(first: 1) { nodes { slug } }")
    text = "query Small { tags }\n" + bomb
    refused = {"query": text, "operationName": "Bomb"}
    assert error_codes(post(api, refused)[0]) == ["MAX_NODE_LIMIT_EXCEEDED"]
    assert error_codes(post(api, refused)[0]) == ["MAX_NODE_LIMIT_EXCEEDED"]
    assert post(api, {"query": text, "operationName": "Small"})[0]["data"] == {"tags": []}
    # Without a name, the first operation runs, as if Bomb had never been refused.
    assert post(api, {"query": text})[0]["data"] == {"tags": []}


def test_a_remembered_mutation_is_still_no_query(api: Api) -> None:
    """Its operation's type is remembered: over GET, a mutation is not allowed, refused or
    not."""
    text = "mutation { " + " ".join(f"a{i}: unfavoriteArticle" for i in range(31)) + " }"
    over_get = api.http.get("/graphql", params={"query": text})
    body, _ = post(api, {"query": text})
    assert only_error(body)["message"] == "31 aliases found. Allowed: 30"
    again = api.http.get("/graphql", params={"query": text})
    assert (again.status_code, again.text) == (over_get.status_code, over_get.text)
    assert again.status_code == 400
    assert "mutations are not allowed" in again.text.lower(), again.text
