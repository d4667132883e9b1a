"""GraphQL: connections — page sizes, cursors, hasNextPage/endCursor and totalCount."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from config import Settings
from tests.conftest import Api
from tests.graphql_ops import (
    ARTICLES,
    COMMENTS,
    add_comment,
    app_of_its_own,
    articles,
    assert_error,
    create_article,
    data,
    slugs,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

BAD_FIRST = {"first": ["must be between 1 and 100"]}
BAD_CURSOR = {"after": ["is not a valid cursor"]}


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _walk(api: Api, first: int, **filters: Any) -> list[dict[str, Any]]:
    """Every page of `articles`, following endCursor until hasNextPage is false."""
    pages = [articles(api, first=first, **filters)]
    while pages[-1]["pageInfo"]["hasNextPage"]:
        assert len(pages) < 50, "pagination does not end"
        pages.append(
            articles(api, first=first, after=pages[-1]["pageInfo"]["endCursor"], **filters)
        )
    return pages


@pytest.fixture
def author(api: Api) -> str:
    return api.register("alice")


@pytest.fixture(scope="module")
def shelf(module_settings: Settings) -> Iterator[tuple[Api, list[str]]]:
    """An app of its own holding 25 articles, every third tagged "third", for tests that only
    read them; with their slugs newest first."""
    with app_of_its_own(module_settings) as api:
        author = api.register("shelver")
        created = [
            create_article(api, author, f"Article {i}", ["third"] if i % 3 == 0 else [])["slug"]
            for i in range(25)
        ]
        yield api, created[::-1]


def test_cursors_walk_every_article_once_in_order(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    pages = _walk(api, first=7)
    assert [len(p["nodes"]) for p in pages] == [7, 7, 7, 4]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, True, False]
    assert [slug for page in pages for slug in slugs(page)] == published
    for page in pages:
        assert page["totalCount"] == 25
        assert [e["node"]["slug"] for e in page["edges"]] == slugs(page)
        assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]


def test_any_edge_cursor_resumes_just_after_that_edge(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    page = articles(api, first=10)
    resumed = articles(api, first=3, after=page["edges"][4]["cursor"])
    assert slugs(resumed) == published[5:8]


def test_cursor_walk_respects_filters(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    tagged = [slug for i, slug in enumerate(published) if (24 - i) % 3 == 0]
    pages = _walk(api, first=4, tag="third")
    assert [len(p["nodes"]) for p in pages] == [4, 4, 1]
    assert [slug for page in pages for slug in slugs(page)] == tagged
    assert {p["totalCount"] for p in pages} == {9}


def test_a_page_that_ends_the_list_exactly_has_no_next(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    page = articles(api, first=25)
    assert slugs(page) == published
    assert page["pageInfo"]["hasNextPage"] is False
    after_last = articles(api, first=5, after=page["pageInfo"]["endCursor"])
    assert after_last["nodes"] == []
    assert after_last["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    assert after_last["totalCount"] == 25


def test_new_articles_do_not_shift_later_pages(api: Api, author: str) -> None:
    older = [create_article(api, author, f"Old {i}")["slug"] for i in range(4)][::-1]
    first_page = articles(api, first=2)
    create_article(api, author, "Newer than the walk")
    second_page = articles(api, first=2, after=first_page["pageInfo"]["endCursor"])
    assert slugs(first_page) + slugs(second_page) == older
    assert second_page["totalCount"] == 5


def test_default_page_size_is_twenty(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    page = data(api.graphql("{ articles { nodes { slug } pageInfo { hasNextPage } } }"))
    assert [n["slug"] for n in page["articles"]["nodes"]] == published[:20]
    assert page["articles"]["pageInfo"]["hasNextPage"] is True


def test_first_may_be_one_hundred(shelf: tuple[Api, list[str]]) -> None:
    api, published = shelf
    page = articles(api, first=100)
    assert slugs(page) == published
    assert page["pageInfo"]["hasNextPage"] is False


def test_an_empty_list_has_no_cursor(api: Api) -> None:
    assert articles(api, first=5) == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
        "nodes": [],
    }


@pytest.mark.parametrize("first", [0, -1, 101, 2**31 - 1])
def test_first_out_of_bounds_is_bad_input(api: Api, first: int) -> None:
    body = api.graphql(ARTICLES, {"first": first})
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", BAD_FIRST)


@pytest.mark.parametrize(
    "after",
    [
        "junk",
        "",
        "!!!",
        _cursor("v2:1700000000000:1"),
        _cursor("v1:abc:1"),
        _cursor("v1:1700000000000:"),
        _cursor("v1:-5:1"),
        _cursor("v1:" + "9" * 40 + ":1"),
        _cursor("v1:999999999999999:1"),  # year 33658: past what a datetime holds
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_an_invalid_cursor_is_bad_input(api: Api, after: str) -> None:
    body = api.graphql(ARTICLES, {"first": 5, "after": after})
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", BAD_CURSOR)


def test_comments_page_newest_first_with_cursors(api: Api, author: str) -> None:
    slug = create_article(api, author)["slug"]
    bodies = [add_comment(api, author, slug, f"comment {i}")["body"] for i in range(5)][::-1]

    def page(first: int, after: str | None = None) -> Any:
        variables = {"slug": slug, "first": first, "after": after}
        return data(api.graphql(COMMENTS, variables))["article"]["comments"]

    first_page = page(2)
    assert [n["body"] for n in first_page["nodes"]] == bodies[:2]
    assert first_page["totalCount"] == 5
    assert first_page["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": first_page["edges"][-1]["cursor"],
    }
    walked = [n["body"] for n in first_page["nodes"]]
    cursor = first_page["pageInfo"]["endCursor"]
    while cursor is not None:
        next_page = page(2, cursor)
        walked += [n["body"] for n in next_page["nodes"]]
        cursor = (
            next_page["pageInfo"]["endCursor"] if next_page["pageInfo"]["hasNextPage"] else None
        )
    assert walked == bodies
    assert page(100)["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("first", "after", "errors"),
    [(0, None, BAD_FIRST), (101, None, BAD_FIRST), (5, "junk", BAD_CURSOR)],
)
def test_comments_page_bounds(
    api: Api, author: str, first: int, after: str | None, errors: dict[str, list[str]]
) -> None:
    slug = create_article(api, author)["slug"]
    body = api.graphql(COMMENTS, {"slug": slug, "first": first, "after": after})
    assert_error(body, "BAD_USER_INPUT", errors)
    assert body["errors"][0]["path"] == ["article", "comments"]
