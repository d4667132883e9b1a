"""GraphQL: reading, listing, filtering, writing and deleting articles; the feed; tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config import Settings
from tests.conftest import Api
from tests.graphql_ops import (
    ARTICLE,
    ARTICLE_NOT_FOUND,
    ARTICLES,
    BLANK,
    CREATE_ARTICLE,
    DELETE_ARTICLE,
    FEED,
    TIMESTAMP,
    TOKEN_MISSING,
    UPDATE_ARTICLE,
    add_comment,
    app_of_its_own,
    article,
    articles,
    assert_error,
    create_article,
    data,
    follow,
    like,
    slugs,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

ARTICLE_FORBIDDEN = {"article": ["forbidden"]}
TAGS = "{ tags }"


def _update(api: Api, user: str | None, slug: str, **changes: Any) -> dict[str, Any]:
    return api.graphql(UPDATE_ARTICLE, {"slug": slug, "input": changes}, as_user=user)


def _create(api: Api, user: str | None, **fields: Any) -> dict[str, Any]:
    article = {"title": "A title", "description": "About it", "body": "The body", **fields}
    return api.graphql(CREATE_ARTICLE, {"input": article}, as_user=user)


def _feed(api: Api, user: str | None, first: int = 100, after: str | None = None) -> Any:
    return api.graphql(FEED, {"first": first, "after": after}, as_user=user)


# --- article(slug) and createArticle --------------------------------------------------------


def test_created_article_reads_back_whole(api: Api) -> None:
    alice = api.register("alice")
    created = create_article(
        api, alice, "How to train your dragon", ["dragons", "training"], "Ever wonder how?", "Hi"
    )
    assert TIMESTAMP.match(created["createdAt"]), created["createdAt"]
    assert created["updatedAt"] == created["createdAt"]
    assert created == {
        "slug": "how-to-train-your-dragon",
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "Hi",
        "createdAt": created["createdAt"],
        "updatedAt": created["createdAt"],
        "tagList": ["dragons", "training"],
        "favorited": False,
        "favoritesCount": 0,
        "viewerCanEdit": True,
        "viewerCanDelete": True,
        "author": {"username": "alice", "bio": None, "image": None, "following": False},
    }
    read_anonymously = article(api, created["slug"])
    assert read_anonymously == {**created, "viewerCanEdit": False, "viewerCanDelete": False}


def test_viewer_flags_are_true_only_for_the_author(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    flags = "query($slug: String!) { article(slug: $slug) { viewerCanEdit viewerCanDelete } }"
    seen = {
        who: data(api.graphql(flags, {"slug": slug}, as_user=who))["article"]
        for who in (alice, bob, None)
    }
    assert seen == {
        alice: {"viewerCanEdit": True, "viewerCanDelete": True},
        bob: {"viewerCanEdit": False, "viewerCanDelete": False},
        None: {"viewerCanEdit": False, "viewerCanDelete": False},
    }


@pytest.mark.parametrize("slug", ["no-such-article", "Not A Slug", "a" * 400, "../x", ""])
def test_unknown_article_is_not_found(api: Api, slug: str) -> None:
    body = api.graphql(ARTICLE, {"slug": slug})
    assert body["data"] == {"article": None}
    assert_error(body, "NOT_FOUND", ARTICLE_NOT_FOUND)


def test_tags_are_trimmed_deduplicated_and_sorted(api: Api) -> None:
    alice = api.register("alice")
    created = create_article(api, alice, tags=["zebra", " apple ", "zebra", "", "mango", "apple"])
    assert created["tagList"] == ["apple", "mango", "zebra"]
    assert article(api, created["slug"])["tagList"] == ["apple", "mango", "zebra"]


def test_tag_list_may_be_left_out(api: Api) -> None:
    alice = api.register("alice")
    assert data(_create(api, alice))["createArticle"]["tagList"] == []


def test_slugs_are_unique_for_repeated_titles(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    first = create_article(api, alice, "Hello, World! Ça va?")["slug"]
    second = create_article(api, bob, "Hello, World! Ça va?")["slug"]
    third = create_article(api, alice, "hello world ca va")["slug"]
    assert first == "hello-world-ca-va"
    assert second.startswith("hello-world-ca-va-")
    assert third.startswith("hello-world-ca-va-")
    assert len({first, second, third}) == 3
    assert [article(api, s)["author"]["username"] for s in (first, second, third)] == [
        "alice",
        "bob",
        "alice",
    ]


def test_title_without_latin_words_gets_a_slug_anyway(api: Api) -> None:
    alice = api.register("alice")
    assert create_article(api, alice, "¡¿!?")["slug"] == "article"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"title": "", "description": " ", "body": ""},
            {"title": [BLANK], "description": [BLANK], "body": [BLANK]},
        ),
        ({"title": "Two\nlines"}, {"title": ["contains characters that are not allowed"]}),
        ({"title": "t" * 257}, {"title": ["is too long (maximum is 256 characters)"]}),
        (
            {"tagList": [f"tag{i}" for i in range(21)]},
            {"tagList": ["has too many tags (maximum is 20)"]},
        ),
        (
            {"tagList": ["t" * 65]},
            {"tagList": ["has a tag that is too long (maximum is 64 characters)"]},
        ),
    ],
    ids=["blank", "newline in title", "long title", "too many tags", "long tag"],
)
def test_create_article_rejects_invalid_input(
    api: Api, fields: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    alice = api.register("alice")
    body = _create(api, alice, **fields)
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", errors)
    assert articles(api)["totalCount"] == 0


def test_create_article_needs_a_signed_in_user(api: Api) -> None:
    assert_error(_create(api, None), "UNAUTHENTICATED", TOKEN_MISSING)
    assert articles(api)["totalCount"] == 0


def test_a_multi_line_body_is_kept(api: Api) -> None:
    alice = api.register("alice")
    created = create_article(api, alice, body="line one\nline two\n")
    assert article(api, created["slug"])["body"] == "line one\nline two"


# --- updateArticle --------------------------------------------------------------------------


def test_update_article_changes_only_the_fields_given(api: Api) -> None:
    alice = api.register("alice")
    created = create_article(api, alice, "Original", ["keep", "me"])
    body = data(_update(api, alice, created["slug"], body="New body"))["updateArticle"]
    assert body["slug"] == "original"
    assert body["title"] == "Original"
    assert body["description"] == "About it"
    assert body["body"] == "New body"
    assert body["tagList"] == ["keep", "me"]
    assert body["createdAt"] == created["createdAt"]
    assert TIMESTAMP.match(body["updatedAt"])
    assert body["updatedAt"] >= created["updatedAt"]
    assert article(api, "original")["body"] == "New body"


def test_update_article_title_gives_a_new_slug(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice, "Original")["slug"]
    renamed = data(_update(api, alice, slug, title="Brand New Title"))["updateArticle"]
    assert (renamed["slug"], renamed["title"]) == ("brand-new-title", "Brand New Title")
    assert article(api, "brand-new-title")["title"] == "Brand New Title"
    assert_error(api.graphql(ARTICLE, {"slug": "original"}), "NOT_FOUND")


def test_update_article_title_with_the_same_slug_keeps_it(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice, "Original")["slug"]
    renamed = data(_update(api, alice, slug, title="ORIGINAL!"))["updateArticle"]
    assert (renamed["slug"], renamed["title"]) == ("original", "ORIGINAL!")


def test_update_article_title_to_a_taken_slug_gets_a_unique_one(api: Api) -> None:
    alice = api.register("alice")
    create_article(api, alice, "Taken")
    slug = create_article(api, alice, "Other")["slug"]
    renamed = data(_update(api, alice, slug, title="Taken"))["updateArticle"]
    assert renamed["slug"].startswith("taken-")
    assert article(api, "taken")["title"] == "Taken"
    assert article(api, renamed["slug"])["description"] == "About it"


def test_update_article_that_changes_nothing_leaves_it_as_it_was(api: Api) -> None:
    alice = api.register("alice")
    created = create_article(api, alice, "Original", ["b", "a"])
    same = {"title": "Original", "description": "About it", "tagList": ["a", "b", "a"]}
    for given in ({}, same):
        updated = data(_update(api, alice, created["slug"], **given))["updateArticle"]
        assert updated == created


def test_an_article_titled_feed_gets_a_suffixed_slug(api: Api) -> None:
    created = create_article(api, api.register("alice"), "Feed")
    assert created["slug"].startswith("feed-")
    assert article(api, created["slug"])["title"] == "Feed"


def test_update_article_tags(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice, tags=["one", "two"])["slug"]
    replaced = data(_update(api, alice, slug, tagList=["two", "three", "two"]))["updateArticle"]
    assert replaced["tagList"] == ["three", "two"]
    kept = data(_update(api, alice, slug, description="Changed"))["updateArticle"]
    assert kept["tagList"] == ["three", "two"]
    cleared = data(_update(api, alice, slug, tagList=[]))["updateArticle"]
    assert cleared["tagList"] == []
    assert article(api, slug)["tagList"] == []
    assert data(api.graphql(TAGS)) == {"tags": []}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"tagList": None}, {"tagList": ["can't be null"]}),
        ({"title": ""}, {"title": [BLANK]}),
        ({"title": None}, {"title": [BLANK]}),
        ({"description": " ", "body": None}, {"description": [BLANK], "body": [BLANK]}),
    ],
    ids=["null tags", "empty title", "null title", "blank description and body"],
)
def test_update_article_rejects_invalid_input(
    api: Api, changes: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    alice = api.register("alice")
    created = create_article(api, alice, tags=["kept"])
    body = _update(api, alice, created["slug"], **changes)
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", errors)
    assert article(api, created["slug"], as_user=alice) == created


def test_only_the_author_updates_an_article(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    created = create_article(api, alice, "Mine")
    body = _update(api, bob, created["slug"], title="Stolen")
    assert body["data"] is None
    assert_error(body, "FORBIDDEN", ARTICLE_FORBIDDEN)
    assert_error(_update(api, None, created["slug"], title="Stolen"), "UNAUTHENTICATED")
    assert article(api, "mine", as_user=alice) == created


def test_update_unknown_article_is_not_found(api: Api) -> None:
    alice = api.register("alice")
    assert_error(_update(api, alice, "nope", title="X"), "NOT_FOUND", ARTICLE_NOT_FOUND)


# --- deleteArticle --------------------------------------------------------------------------


def test_delete_article(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice, tags=["gone"])["slug"]
    deleted = api.graphql(DELETE_ARTICLE, {"slug": slug}, as_user=alice)
    assert data(deleted) == {"deleteArticle": {"slug": slug}}
    assert_error(api.graphql(ARTICLE, {"slug": slug}), "NOT_FOUND", ARTICLE_NOT_FOUND)
    assert articles(api)["totalCount"] == 0
    assert data(api.graphql(TAGS)) == {"tags": []}
    again = api.graphql(DELETE_ARTICLE, {"slug": slug}, as_user=alice)
    assert_error(again, "NOT_FOUND", ARTICLE_NOT_FOUND)


def test_only_the_author_deletes_an_article(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    by_bob = api.graphql(DELETE_ARTICLE, {"slug": slug}, as_user=bob)
    assert by_bob["data"] is None
    assert_error(by_bob, "FORBIDDEN", ARTICLE_FORBIDDEN)
    anonymous = api.graphql(DELETE_ARTICLE, {"slug": slug})
    assert_error(anonymous, "UNAUTHENTICATED", TOKEN_MISSING)
    assert article(api, slug)["slug"] == slug


def test_deleting_an_article_deletes_its_comments_and_likes(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice, "Doomed")["slug"]
    add_comment(api, bob, slug, "First!")
    assert like(api, bob, slug)["favoritesCount"] == 1
    assert slugs(articles(api, likedBy=bob)) == [slug]
    data(api.graphql(DELETE_ARTICLE, {"slug": slug}, as_user=alice))

    assert articles(api, likedBy=bob)["totalCount"] == 0
    # A new article (which may well reuse the deleted one's id) starts with no likes or comments.
    reborn = create_article(api, alice, "Doomed")
    assert reborn["slug"] == "doomed"
    assert (reborn["favoritesCount"], reborn["favorited"]) == (0, False)
    query = """query($slug: String!) {
      article(slug: $slug) { favorited favoritesCount comments { totalCount nodes { body } } }
    }"""
    seen_by_bob = data(api.graphql(query, {"slug": "doomed"}, as_user=bob))["article"]
    assert seen_by_bob == {
        "favorited": False,
        "favoritesCount": 0,
        "comments": {"totalCount": 0, "nodes": []},
    }
    assert articles(api, likedBy=bob)["totalCount"] == 0


# --- articles(...) filters ------------------------------------------------------------------


def _publish_library(api: Api) -> dict[str, str]:
    """alice and bob publish; carol likes some. Returns slugs by title, created in this order:
    a1 (alice: x, y), b1 (bob: x), a2 (alice: y), b2 (bob: none)."""
    alice, bob, carol = api.register("alice"), api.register("bob"), api.register("carol")
    published = {
        "a1": create_article(api, alice, "a1", ["x", "y"])["slug"],
        "b1": create_article(api, bob, "b1", ["x"])["slug"],
        "a2": create_article(api, alice, "a2", ["y"])["slug"],
        "b2": create_article(api, bob, "b2")["slug"],
    }
    for title in ("a1", "b1", "b2"):
        like(api, carol, published[title])
    return published


@pytest.fixture
def library(api: Api) -> dict[str, str]:
    return _publish_library(api)


@pytest.fixture(scope="module")
def shared_library(
    module_settings: Settings,
) -> Iterator[tuple[Api, dict[str, str]]]:
    """The library in an app of its own, for tests that only read it."""
    with app_of_its_own(module_settings) as api:
        yield api, _publish_library(api)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["b2", "a2", "b1", "a1"]),
        ({"tag": "x"}, ["b1", "a1"]),
        ({"tag": "y"}, ["a2", "a1"]),
        ({"author": "alice"}, ["a2", "a1"]),
        ({"likedBy": "carol"}, ["b2", "b1", "a1"]),
        ({"tag": "x", "author": "bob"}, ["b1"]),
        ({"tag": "y", "likedBy": "carol"}, ["a1"]),
        ({"author": "bob", "likedBy": "carol"}, ["b2", "b1"]),
        ({"tag": "x", "author": "alice", "likedBy": "carol"}, ["a1"]),
        ({"tag": "y", "author": "bob"}, []),
        ({"tag": "no-such-tag"}, []),
        ({"author": "nobody"}, []),
        ({"likedBy": "nobody"}, []),
        ({"author": "not a username!"}, []),
        ({"likedBy": "alice"}, []),
        ({"author": "carol"}, []),
    ],
)
def test_articles_filters_combine(
    shared_library: tuple[Api, dict[str, str]], filters: dict[str, Any], expected: list[str]
) -> None:
    api, library = shared_library
    page = articles(api, **filters)
    assert slugs(page) == [library[title] for title in expected]
    assert page["totalCount"] == len(expected)
    assert page["pageInfo"]["hasNextPage"] is False
    if not expected:
        assert page["pageInfo"]["endCursor"] is None
        assert page["edges"] == []


@pytest.mark.parametrize("tag", ["", "t" * 65, "bad\u0000tag"])
def test_articles_with_an_impossible_tag_filter_is_bad_input(api: Api, tag: str) -> None:
    body = api.graphql(ARTICLES, {"first": 10, "tag": tag})
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", {"tag": ["is not a valid tag"]})


def test_articles_show_the_viewers_likes_and_follows(api: Api, library: dict[str, str]) -> None:
    follow(api, "carol", "bob")
    query = "{ articles { nodes { slug favorited favoritesCount author { username following } } } }"
    as_carol = data(api.graphql(query, as_user="carol"))["articles"]["nodes"]
    as_anyone = data(api.graphql(query))["articles"]["nodes"]

    def node(title: str, favorited: bool, author: str, following: bool) -> dict[str, Any]:
        return {
            "slug": library[title],
            "favorited": favorited,
            "favoritesCount": 0 if title == "a2" else 1,
            "author": {"username": author, "following": following},
        }

    assert as_carol == [
        node("b2", True, "bob", True),
        node("a2", False, "alice", False),
        node("b1", True, "bob", True),
        node("a1", True, "alice", False),
    ]
    assert as_anyone == [
        node("b2", False, "bob", False),
        node("a2", False, "alice", False),
        node("b1", False, "bob", False),
        node("a1", False, "alice", False),
    ]


# --- feed -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "after"), [(100, None), (0, None), (-1, "not a cursor")])
def test_feed_needs_a_signed_in_user_before_it_reads_its_arguments(
    api: Api, first: int, after: str | None
) -> None:
    body = _feed(api, None, first, after)
    assert body["data"] is None
    assert_error(body, "UNAUTHENTICATED", TOKEN_MISSING)


def test_feed_holds_followed_authors_newest_first(api: Api) -> None:
    alice, bob, carol, dave = (api.register(n) for n in ("alice", "bob", "carol", "dave"))
    assert data(_feed(api, alice))["feed"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [],
    }
    b1 = create_article(api, bob, "b1")["slug"]
    c1 = create_article(api, carol, "c1")["slug"]
    create_article(api, dave, "d1")
    create_article(api, alice, "own")
    b2 = create_article(api, bob, "b2")["slug"]
    follow(api, alice, bob)
    follow(api, alice, carol)
    follow(api, alice, bob)  # following twice changes nothing

    feed = data(_feed(api, alice))["feed"]
    assert [n["slug"] for n in feed["nodes"]] == [b2, c1, b1]
    assert {(n["author"]["username"], n["author"]["following"]) for n in feed["nodes"]} == {
        ("bob", True),
        ("carol", True),
    }
    assert feed["totalCount"] == 3
    assert feed["pageInfo"]["hasNextPage"] is False

    first_page = data(_feed(api, alice, first=2))["feed"]
    assert [n["slug"] for n in first_page["nodes"]] == [b2, c1]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = data(_feed(api, alice, first=2, after=first_page["pageInfo"]["endCursor"]))["feed"]
    assert [n["slug"] for n in rest["nodes"]] == [b1]
    assert rest["pageInfo"]["hasNextPage"] is False

    data(api.graphql('mutation { unfollow(username: "carol") { following } }', as_user=alice))
    assert [n["slug"] for n in data(_feed(api, alice))["feed"]["nodes"]] == [b2, b1]
    # Someone else's feed is their own.
    assert data(_feed(api, bob))["feed"]["totalCount"] == 0


# --- tags -----------------------------------------------------------------------------------


def test_tags_are_every_tag_in_use_sorted_once(api: Api) -> None:
    assert data(api.graphql(TAGS)) == {"tags": []}
    alice, bob = api.register("alice"), api.register("bob")
    create_article(api, alice, "One", ["python", "graphql"])
    create_article(api, bob, "Two", ["graphql", "aiohttp", "Zope"])
    slug = create_article(api, bob, "Three", ["temporary"])["slug"]
    assert data(api.graphql(TAGS)) == {
        "tags": ["Zope", "aiohttp", "graphql", "python", "temporary"]
    }
    data(_update(api, bob, slug, tagList=["python"]))
    assert data(api.graphql(TAGS, as_user=alice)) == {
        "tags": ["Zope", "aiohttp", "graphql", "python"]
    }
