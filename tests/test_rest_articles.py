"""REST: writing, reading, listing (filters, paging, feed) and deleting articles, and tags."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api
from tests.rest_support import (
    BLANK,
    TIMESTAMP,
    answer,
    errors,
    forbidden,
    list_articles,
    new_article,
    not_found,
    profile,
    slugs,
    token_missing,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

LIST_KEYS = {
    "slug",
    "title",
    "description",
    "tagList",
    "createdAt",
    "updatedAt",
    "favorited",
    "favoritesCount",
    "author",
}
LIMIT_MESSAGE = "must be a whole number from 1 to 100"
OFFSET_MESSAGE = "must be a whole number from 0 to 10000000"


def update_raw(api: Api, user: str | None, slug: str, article: Any) -> tuple[int, Any]:
    response = api.http.put(
        f"/api/articles/{slug}", json={"article": article}, headers=api.auth(user)
    )
    return answer(response)


def get_article(api: Api, slug: str, viewer: str | None = None) -> dict[str, Any]:
    response = api.http.get(f"/api/articles/{slug}", headers=api.auth(viewer))
    assert response.status_code == 200, response.text
    article: dict[str, Any] = response.json()["article"]
    return article


# --- POST /api/articles ----------------------------------------------------------------------


def test_create_answers_201_with_the_whole_article(api: Api) -> None:
    author = api.register("ann")
    response = api.http.post(
        "/api/articles",
        json={
            "article": {
                "title": "How to train your dragon",
                "description": "Ever wonder how?",
                "body": "You have to believe.\nReally.",
                "tagList": ["training", "dragons", "Zebra"],
            }
        },
        headers=api.auth(author),
    )
    assert response.status_code == 201
    article = response.json()["article"]
    assert TIMESTAMP.match(article["createdAt"])
    assert article["updatedAt"] == article["createdAt"]
    assert response.json() == {
        "article": {
            "slug": "how-to-train-your-dragon",
            "title": "How to train your dragon",
            "description": "Ever wonder how?",
            "body": "You have to believe.\nReally.",
            "tagList": ["Zebra", "dragons", "training"],
            "createdAt": article["createdAt"],
            "updatedAt": article["createdAt"],
            "favorited": False,
            "favoritesCount": 0,
            "author": profile("ann"),
        }
    }
    assert get_article(api, "how-to-train-your-dragon") == article


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (None, []),
        ([], []),
        (["b", "a", "b", " a ", "", "   "], ["a", "b"]),
    ],
)
def test_create_tag_list_is_optional_trimmed_unique_and_sorted(
    api: Api, tags: list[str] | None, expected: list[str]
) -> None:
    author = api.register()
    fields: dict[str, Any] = {"title": "T", "description": "D", "body": "B"}
    if tags is not None:
        fields["tagList"] = tags
    response = api.http.post("/api/articles", json={"article": fields}, headers=api.auth(author))
    assert response.status_code == 201
    assert response.json()["article"]["tagList"] == expected


def test_create_with_a_null_tag_list_means_no_tags(api: Api) -> None:
    author = api.register()
    fields = {"title": "T", "description": "D", "body": "B", "tagList": None}
    response = api.http.post("/api/articles", json={"article": fields}, headers=api.auth(author))
    assert response.status_code == 201
    assert response.json()["article"]["tagList"] == []


@pytest.mark.parametrize("missing", ["title", "description", "body"])
@pytest.mark.parametrize("how", ["absent", "empty", "null", "blank"])
def test_create_requires_title_description_and_body(api: Api, missing: str, how: str) -> None:
    author = api.register()
    fields: dict[str, Any] = {"title": "T", "description": "D", "body": "B"}
    if how == "absent":
        del fields[missing]
    else:
        fields[missing] = {"empty": "", "null": None, "blank": " \n "}[how]
    response = api.http.post("/api/articles", json={"article": fields}, headers=api.auth(author))
    assert answer(response) == errors(422, missing, BLANK)
    assert list_articles(api)["articlesCount"] == 0


def test_create_names_every_blank_field(api: Api) -> None:
    author = api.register()
    response = api.http.post("/api/articles", json={"article": {}}, headers=api.auth(author))
    assert answer(response) == (
        422,
        {"errors": {"title": [BLANK], "description": [BLANK], "body": [BLANK]}},
    )


def test_create_without_the_article_wrapper_is_422(api: Api) -> None:
    author = api.register()
    fields = {"title": "T", "description": "D", "body": "B"}
    response = api.http.post("/api/articles", json=fields, headers=api.auth(author))
    assert answer(response) == errors(422, "article", BLANK)


def test_duplicate_titles_get_their_own_slugs(api: Api) -> None:
    ann = api.register()
    bob = api.register()
    first = new_article(api, ann, title="Same title", body="first")
    second = new_article(api, ann, title="Same title", body="second")
    third = new_article(api, bob, title="same TITLE!", body="third")
    assert first["slug"] == "same-title"
    found = [first["slug"], second["slug"], third["slug"]]
    assert len(set(found)) == 3
    assert all(s.startswith("same-title") for s in found)
    assert [get_article(api, s)["body"] for s in found] == ["first", "second", "third"]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Café déjà vu!", "cafe-deja-vu"),
        ("  Spaces   and --- dashes  ", "spaces-and-dashes"),
        ("日本語", "article"),
        ("C++ & Rust: 2 languages", "c-rust-2-languages"),
    ],
)
def test_slugs_are_url_safe(api: Api, title: str, slug: str) -> None:
    author = api.register()
    created = new_article(api, author, title=title)
    assert (created["slug"], created["title"]) == (slug, title.strip())
    assert get_article(api, slug)["title"] == title.strip()


# --- GET /api/articles/{slug} ----------------------------------------------------------------


def test_get_article_shows_the_viewers_relation_to_it(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    slug = new_article(api, ann, title="Hello")["slug"]
    api.http.post("/api/profiles/ann/follow", headers=api.auth(bob))
    api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(bob))

    as_bob = get_article(api, slug, bob)
    assert (as_bob["favorited"], as_bob["favoritesCount"]) == (True, 1)
    assert as_bob["author"] == profile("ann", following=True)
    anonymous = get_article(api, slug)
    assert (anonymous["favorited"], anonymous["favoritesCount"]) == (False, 1)
    assert anonymous["author"] == profile("ann")
    assert anonymous["body"] == "The body"


@pytest.mark.parametrize("slug", ["nope", "Hello", "hello-", "x" * 400, "hello%20there"])
def test_get_unknown_article_is_404(api: Api, slug: str) -> None:
    new_article(api, api.register(), title="Hello")
    assert answer(api.http.get(f"/api/articles/{slug}")) == not_found("article")


# --- PUT /api/articles/{slug} ----------------------------------------------------------------


def test_update_body_and_description_keeps_the_slug(api: Api) -> None:
    ann = api.register("ann")
    created = new_article(api, ann, title="Hello", tags=["b", "a"])
    status, body = update_raw(api, ann, "hello", {"description": "New d", "body": "New b"})
    assert status == 200
    updated = body["article"]
    assert TIMESTAMP.match(updated["updatedAt"])
    assert updated["updatedAt"] >= created["createdAt"]
    assert body == {
        "article": {
            **created,
            "description": "New d",
            "body": "New b",
            "updatedAt": updated["updatedAt"],
        }
    }
    assert get_article(api, "hello") == updated


def test_update_title_moves_the_slug(api: Api) -> None:
    ann = api.register()
    new_article(api, ann, title="Old title")
    status, body = update_raw(api, ann, "old-title", {"title": "New title"})
    assert status == 200
    assert (body["article"]["slug"], body["article"]["title"]) == ("new-title", "New title")
    assert get_article(api, "new-title")["title"] == "New title"
    assert answer(api.http.get("/api/articles/old-title")) == not_found("article")


def test_update_title_to_another_articles_title_gets_a_unique_slug(api: Api) -> None:
    ann = api.register()
    new_article(api, ann, title="Taken", body="original")
    new_article(api, ann, title="Mine")
    status, body = update_raw(api, ann, "mine", {"title": "Taken"})
    assert status == 200
    assert body["article"]["slug"] not in ("taken", "mine")
    assert body["article"]["slug"].startswith("taken-")
    assert get_article(api, "taken")["body"] == "original"


def test_update_title_with_the_same_slug_keeps_it(api: Api) -> None:
    ann = api.register()
    new_article(api, ann, title="Hello world")
    status, body = update_raw(api, ann, "hello-world", {"title": "Hello, World!"})
    assert status == 200
    assert (body["article"]["slug"], body["article"]["title"]) == ("hello-world", "Hello, World!")


@pytest.mark.parametrize(
    "unchanged",
    [{}, {"title": "Hello", "description": "About it", "body": "The body", "tagList": ["b", "a"]}],
    ids=["nothing given", "the same values"],
)
def test_an_update_that_changes_nothing_leaves_the_article_as_it_was(
    api: Api, unchanged: dict[str, Any]
) -> None:
    ann = api.register()
    created = new_article(api, ann, title="Hello", tags=["a", "b"])
    assert update_raw(api, ann, "hello", unchanged) == (200, {"article": created})
    assert get_article(api, "hello") == created


@pytest.mark.parametrize("title", ["Feed", "FEED!", " feed "])
def test_an_article_titled_like_a_route_word_gets_a_slug_it_can_be_read_by(
    api: Api, title: str
) -> None:
    ann = api.register()
    created = new_article(api, ann, title=title)
    assert created["slug"].startswith("feed-")
    assert get_article(api, created["slug"])["title"] == title.strip()
    renamed = update_raw(api, ann, new_article(api, ann, title="Other")["slug"], {"title": "Feed"})
    assert renamed[1]["article"]["slug"].startswith("feed-")
    assert answer(api.http.get("/api/articles/feed")) == token_missing()  # still the feed


def test_update_tag_list_missing_keeps_empty_clears_null_is_422(api: Api) -> None:
    ann = api.register()
    slug = new_article(api, ann, tags=["x", "y"])["slug"]
    assert update_raw(api, ann, slug, {"body": "b2"})[1]["article"]["tagList"] == ["x", "y"]
    assert get_article(api, slug)["tagList"] == ["x", "y"]

    assert update_raw(api, ann, slug, {"tagList": ["z", "a"]})[1]["article"]["tagList"] == [
        "a",
        "z",
    ]
    assert get_article(api, slug)["tagList"] == ["a", "z"]

    assert update_raw(api, ann, slug, {"tagList": None}) == errors(422, "tagList", "can't be null")
    assert get_article(api, slug)["tagList"] == ["a", "z"]

    assert update_raw(api, ann, slug, {"tagList": []})[1]["article"]["tagList"] == []
    assert get_article(api, slug)["tagList"] == []
    assert api.http.get("/api/tags").json() == {"tags": []}


@pytest.mark.parametrize("name", ["title", "description", "body"])
@pytest.mark.parametrize("value", ["", None, "   "])
def test_update_cannot_blank_a_required_field(api: Api, name: str, value: str | None) -> None:
    ann = api.register()
    created = new_article(api, ann, title="Hello")
    assert update_raw(api, ann, "hello", {name: value}) == errors(422, name, BLANK)
    assert get_article(api, "hello") == created


def test_update_with_an_empty_object_changes_nothing_visible(api: Api) -> None:
    ann = api.register()
    created = new_article(api, ann, title="Hello", tags=["t"])
    status, body = update_raw(api, ann, "hello", {})
    assert status == 200
    unchanged = {k: v for k, v in body["article"].items() if k != "updatedAt"}
    assert unchanged == {k: v for k, v in created.items() if k != "updatedAt"}


def test_update_by_another_user_is_403_and_changes_nothing(api: Api) -> None:
    ann = api.register()
    bob = api.register()
    created = new_article(api, ann, title="Hello")
    assert update_raw(api, bob, "hello", {"title": "Mine now"}) == forbidden("article")
    assert get_article(api, "hello") == created


def test_update_of_an_unknown_article_is_404(api: Api) -> None:
    ann = api.register()
    assert update_raw(api, ann, "nope", {"title": "x"}) == not_found("article")


def test_update_without_the_article_wrapper_is_422(api: Api) -> None:
    ann = api.register()
    new_article(api, ann, title="Hello")
    response = api.http.put("/api/articles/hello", json={"title": "x"}, headers=api.auth(ann))
    assert answer(response) == errors(422, "article", BLANK)


# --- DELETE /api/articles/{slug} -------------------------------------------------------------


def test_delete_answers_204_and_the_article_is_gone(api: Api) -> None:
    ann = api.register()
    new_article(api, ann, title="Hello", tags=["only-here"])
    new_article(api, ann, title="Other", tags=["kept"])
    response = api.http.delete("/api/articles/hello", headers=api.auth(ann))
    assert response.status_code == 204
    assert response.content == b""
    assert answer(api.http.get("/api/articles/hello")) == not_found("article")
    remaining = list_articles(api)
    assert (slugs(remaining), remaining["articlesCount"]) == (["other"], 1)
    assert api.http.get("/api/tags").json() == {"tags": ["kept"]}
    again = api.http.delete("/api/articles/hello", headers=api.auth(ann))
    assert answer(again) == not_found("article")


def test_delete_by_another_user_is_403_and_keeps_it(api: Api) -> None:
    ann = api.register()
    bob = api.register()
    new_article(api, ann, title="Hello")
    response = api.http.delete("/api/articles/hello", headers=api.auth(bob))
    assert answer(response) == forbidden("article")
    assert get_article(api, "hello")["title"] == "Hello"


def test_delete_unknown_article_is_404(api: Api) -> None:
    ann = api.register()
    assert answer(api.http.delete("/api/articles/nope", headers=api.auth(ann))) == not_found(
        "article"
    )


# --- GET /api/articles -----------------------------------------------------------------------


def test_list_is_empty_at_first(api: Api) -> None:
    assert list_articles(api) == {"articles": [], "articlesCount": 0}


def test_list_is_newest_first_without_bodies(api: Api) -> None:
    ann = api.register("ann")
    first = new_article(api, ann, title="First", tags=["b", "a"])
    new_article(api, ann, title="Second")
    new_article(api, ann, title="Third")
    body = list_articles(api)
    assert slugs(body) == ["third", "second", "first"]
    assert body["articlesCount"] == 3
    assert all(set(a) == LIST_KEYS for a in body["articles"])
    expected_first = {k: v for k, v in first.items() if k != "body"}
    assert body["articles"][2] == expected_first
    assert all(TIMESTAMP.match(a["createdAt"]) for a in body["articles"])


def test_list_pages_with_limit_and_offset_and_counts_all_matches(api: Api) -> None:
    ann = api.register()
    for n in range(25):
        new_article(api, ann, title=f"Post {n}")
    newest_first = [f"post-{n}" for n in reversed(range(25))]

    default = list_articles(api)
    assert (slugs(default), default["articlesCount"]) == (newest_first[:20], 25)
    page = list_articles(api, "limit=5&offset=5")
    assert (slugs(page), page["articlesCount"]) == (newest_first[5:10], 25)
    tail = list_articles(api, "limit=10&offset=20")
    assert (slugs(tail), tail["articlesCount"]) == (newest_first[20:], 25)
    beyond = list_articles(api, "offset=100")
    assert beyond == {"articles": [], "articlesCount": 25}
    assert slugs(list_articles(api, "limit=100")) == newest_first
    assert slugs(list_articles(api, "limit=1")) == newest_first[:1]
    assert slugs(list_articles(api, "limit=&offset=")) == newest_first[:20]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=0", "limit", LIMIT_MESSAGE),
        ("limit=101", "limit", LIMIT_MESSAGE),
        ("limit=-1", "limit", LIMIT_MESSAGE),
        ("limit=abc", "limit", LIMIT_MESSAGE),
        ("limit=1.5", "limit", LIMIT_MESSAGE),
        ("limit=%205", "limit", LIMIT_MESSAGE),
        ("limit=%2B5", "limit", LIMIT_MESSAGE),
        ("limit=1e3", "limit", LIMIT_MESSAGE),
        ("limit=%D9%A1", "limit", LIMIT_MESSAGE),  # an Arabic-Indic digit one
        ("limit=" + "9" * 40, "limit", LIMIT_MESSAGE),
        ("limit=" + "0" * 30 + "5", "limit", LIMIT_MESSAGE),
        ("offset=-1", "offset", OFFSET_MESSAGE),
        ("offset=abc", "offset", OFFSET_MESSAGE),
        ("offset=10000001", "offset", OFFSET_MESSAGE),
        ("offset=" + "9" * 400, "offset", OFFSET_MESSAGE),
        ("offset=NaN", "offset", OFFSET_MESSAGE),
    ],
)
@pytest.mark.parametrize("path", ["/api/articles", "/api/articles/feed"])
def test_invalid_limit_or_offset_is_422(
    api: Api, path: str, query: str, field: str, message: str
) -> None:
    viewer = api.register()
    response = api.http.get(f"{path}?{query}", headers=api.auth(viewer))
    assert answer(response) == errors(422, field, message)


def test_list_filters_by_tag_author_and_favorited(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    new_article(api, ann, title="Ann dragons", tags=["dragons"])
    new_article(api, ann, title="Ann cats", tags=["cats"])
    new_article(api, bob, title="Bob dragons", tags=["dragons", "fire"])
    api.http.post("/api/articles/ann-cats/favorite", headers=api.auth(bob))
    api.http.post("/api/articles/bob-dragons/favorite", headers=api.auth(bob))

    def listed(query: str) -> tuple[list[str], int]:
        body = list_articles(api, query)
        return slugs(body), body["articlesCount"]

    assert listed("tag=dragons") == (["bob-dragons", "ann-dragons"], 2)
    assert listed("tag=fire") == (["bob-dragons"], 1)
    assert listed("author=ann") == (["ann-cats", "ann-dragons"], 2)
    assert listed("favorited=bob") == (["bob-dragons", "ann-cats"], 2)
    assert listed("favorited=ann") == ([], 0)
    assert listed("tag=dragons&author=ann") == (["ann-dragons"], 1)
    assert listed("tag=dragons&favorited=bob") == (["bob-dragons"], 1)
    assert listed("author=ann&favorited=bob&tag=cats") == (["ann-cats"], 1)
    assert listed("tag=dragons&limit=1&offset=1") == (["ann-dragons"], 2)
    assert listed("tag=nothing") == ([], 0)
    assert listed("author=nobody") == ([], 0)
    assert listed("author=ANN") == (["ann-cats", "ann-dragons"], 2)  # names ignore case
    assert listed("favorited=nobody") == ([], 0)
    assert listed("author=" + "x" * 500) == ([], 0)
    assert listed("tag=&author=&favorited=") == (
        ["bob-dragons", "ann-cats", "ann-dragons"],
        3,
    )


def test_list_shows_favorited_and_following_for_the_viewer(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    new_article(api, ann, title="Liked")
    new_article(api, ann, title="Not liked")
    api.http.post("/api/articles/liked/favorite", headers=api.auth(bob))
    api.http.post("/api/profiles/ann/follow", headers=api.auth(bob))

    as_bob = list_articles(api, viewer=bob)["articles"]
    assert [(a["slug"], a["favorited"], a["favoritesCount"]) for a in as_bob] == [
        ("not-liked", False, 0),
        ("liked", True, 1),
    ]
    assert all(a["author"] == profile("ann", following=True) for a in as_bob)
    anonymous = list_articles(api)["articles"]
    assert [(a["favorited"], a["favoritesCount"]) for a in anonymous] == [(False, 0), (False, 1)]
    assert all(a["author"] == profile("ann") for a in anonymous)


# --- GET /api/articles/feed ------------------------------------------------------------------


def test_feed_shows_only_followed_authors_newest_first(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    cat = api.register("cat")
    reader = api.register("reader")
    empty = api.http.get("/api/articles/feed", headers=api.auth(reader))
    assert answer(empty) == (200, {"articles": [], "articlesCount": 0})

    new_article(api, ann, title="Ann one")
    new_article(api, bob, title="Bob one")
    new_article(api, cat, title="Cat one")
    new_article(api, ann, title="Ann two")
    new_article(api, reader, title="Own")
    api.http.post("/api/profiles/ann/follow", headers=api.auth(reader))
    api.http.post("/api/profiles/cat/follow", headers=api.auth(reader))

    def feed(query: str = "") -> dict[str, Any]:
        response = api.http.get(f"/api/articles/feed?{query}", headers=api.auth(reader))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    body = feed()
    assert (slugs(body), body["articlesCount"]) == (["ann-two", "cat-one", "ann-one"], 3)
    assert all(set(a) == LIST_KEYS for a in body["articles"])
    assert [a["author"] for a in body["articles"]] == [
        profile("ann", following=True),
        profile("cat", following=True),
        profile("ann", following=True),
    ]
    page = feed("limit=1&offset=1")
    assert (slugs(page), page["articlesCount"]) == (["cat-one"], 3)

    api.http.delete("/api/profiles/ann/follow", headers=api.auth(reader))
    assert (slugs(feed()), feed()["articlesCount"]) == (["cat-one"], 1)
    others = api.http.get("/api/articles/feed", headers=api.auth(ann)).json()
    assert others == {"articles": [], "articlesCount": 0}


# --- GET /api/tags ---------------------------------------------------------------------------


def test_tags_are_every_tag_in_use_sorted_once(api: Api) -> None:
    assert answer(api.http.get("/api/tags")) == (200, {"tags": []})
    ann = api.register()
    new_article(api, ann, title="One", tags=["python", "graphql"])
    new_article(api, ann, title="Two", tags=["python", "async", "Zen"])
    assert answer(api.http.get("/api/tags")) == (
        200,
        {"tags": ["Zen", "async", "graphql", "python"]},
    )
    assert api.http.get("/api/tags", headers=api.auth(ann)).json()["tags"] == [
        "Zen",
        "async",
        "graphql",
        "python",
    ]
