"""REST: comments (list, add, delete), favorites, and what deleting an article takes with it."""

from __future__ import annotations

from typing import Any

import pytest

from models.pages import MAX_PAGE_SIZE
from tests.conftest import Api
from tests.rest_support import (
    BLANK,
    TIMESTAMP,
    add_comment,
    answer,
    errors,
    forbidden,
    list_articles,
    new_article,
    not_found,
    profile,
    slugs,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def comments_of(api: Api, slug: str, viewer: str | None = None) -> list[dict[str, Any]]:
    response = api.http.get(f"/api/articles/{slug}/comments", headers=api.auth(viewer))
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["comments"]
    found: list[dict[str, Any]] = response.json()["comments"]
    return found


def favorite(api: Api, user: str, slug: str, method: str = "POST") -> tuple[int, Any]:
    return answer(
        api.http.request(method, f"/api/articles/{slug}/favorite", headers=api.auth(user))
    )


# --- comments --------------------------------------------------------------------------------


def test_the_comment_list_holds_the_newest_hundred(api: Api) -> None:
    ann = api.register("ann")
    slug = new_article(api, ann)["slug"]
    bodies = [f"comment {i}" for i in range(MAX_PAGE_SIZE + 3)]
    for body in bodies:
        add_comment(api, ann, slug, body)
    listed = comments_of(api, slug)
    assert [c["body"] for c in listed] == bodies[::-1][:MAX_PAGE_SIZE]


def test_add_comment_answers_201_with_the_comment(api: Api) -> None:
    ann = api.register("ann")
    slug = new_article(api, ann)["slug"]
    response = api.http.post(
        f"/api/articles/{slug}/comments",
        json={"comment": {"body": "  Thank you!\nReally.  "}},
        headers=api.auth(ann),
    )
    assert response.status_code == 201
    comment = response.json()["comment"]
    assert isinstance(comment["id"], int)
    assert TIMESTAMP.match(comment["createdAt"])
    assert response.json() == {
        "comment": {
            "id": comment["id"],
            "createdAt": comment["createdAt"],
            "updatedAt": comment["createdAt"],
            "body": "Thank you!\nReally.",
            "author": profile("ann"),
        }
    }
    assert comments_of(api, slug) == [comment]


def test_comments_are_listed_newest_first_with_the_viewers_following_flag(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    slug = new_article(api, ann)["slug"]
    assert comments_of(api, slug) == []
    first = add_comment(api, bob, slug, "first")
    second = add_comment(api, ann, slug, "second")
    third = add_comment(api, bob, slug, "third")
    assert comments_of(api, slug) == [third, second, first]
    assert len({first["id"], second["id"], third["id"]}) == 3

    api.http.post("/api/profiles/bob/follow", headers=api.auth(ann))
    as_ann = comments_of(api, slug, ann)
    assert [c["author"] for c in as_ann] == [
        profile("bob", following=True),
        profile("ann"),
        profile("bob", following=True),
    ]


def test_comments_belong_to_their_article(api: Api) -> None:
    ann = api.register()
    one = new_article(api, ann, title="One")["slug"]
    two = new_article(api, ann, title="Two")["slug"]
    on_one = add_comment(api, ann, one, "on one")
    assert comments_of(api, two) == []
    assert comments_of(api, one) == [on_one]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_comments_of_an_unknown_article_are_404(api: Api, method: str) -> None:
    ann = api.register()
    response = api.http.request(
        method,
        "/api/articles/nope/comments",
        json={"comment": {"body": "hi"}} if method == "POST" else None,
        headers=api.auth(ann),
    )
    assert answer(response) == not_found("article")


@pytest.mark.parametrize(
    "comment",
    [{}, {"body": ""}, {"body": None}, {"body": " \n\t "}],
    ids=["absent", "empty", "null", "blank"],
)
def test_add_comment_requires_a_body(api: Api, comment: dict[str, Any]) -> None:
    ann = api.register()
    slug = new_article(api, ann)["slug"]
    response = api.http.post(
        f"/api/articles/{slug}/comments", json={"comment": comment}, headers=api.auth(ann)
    )
    assert answer(response) == errors(422, "body", BLANK)
    assert comments_of(api, slug) == []


def test_add_comment_without_the_comment_wrapper_is_422(api: Api) -> None:
    ann = api.register()
    slug = new_article(api, ann)["slug"]
    response = api.http.post(
        f"/api/articles/{slug}/comments", json={"body": "hi"}, headers=api.auth(ann)
    )
    assert answer(response) == errors(422, "comment", BLANK)


def test_delete_comment_answers_204_and_it_is_gone(api: Api) -> None:
    ann = api.register()
    slug = new_article(api, ann)["slug"]
    kept = add_comment(api, ann, slug, "kept")
    gone = add_comment(api, ann, slug, "gone")
    response = api.http.delete(f"/api/articles/{slug}/comments/{gone['id']}", headers=api.auth(ann))
    assert response.status_code == 204
    assert response.content == b""
    assert comments_of(api, slug) == [kept]
    again = api.http.delete(f"/api/articles/{slug}/comments/{gone['id']}", headers=api.auth(ann))
    assert answer(again) == not_found("comment")


def test_only_the_comments_author_deletes_it(api: Api) -> None:
    ann = api.register()
    bob = api.register()
    slug = new_article(api, ann)["slug"]
    bobs = add_comment(api, bob, slug, "bob's")
    # Not even the article's author may delete another user's comment.
    response = api.http.delete(f"/api/articles/{slug}/comments/{bobs['id']}", headers=api.auth(ann))
    assert answer(response) == forbidden("comment")
    assert comments_of(api, slug) == [bobs]


def test_deleting_a_comment_through_another_article_is_404(api: Api) -> None:
    ann = api.register()
    one = new_article(api, ann, title="One")["slug"]
    two = new_article(api, ann, title="Two")["slug"]
    on_one = add_comment(api, ann, one)
    response = api.http.delete(
        f"/api/articles/{two}/comments/{on_one['id']}", headers=api.auth(ann)
    )
    assert answer(response) == not_found("comment")
    assert comments_of(api, one) == [on_one]


@pytest.mark.parametrize(
    "comment_id",
    [
        "0",
        "-1",
        "abc",
        "1.0",
        "1e3",
        "%201",
        "0x1",
        "%D9%A1",
        str(2**53),
        str(2**63),
        str(2**64 + 1),
        "9" * 400,
        "%00",
        "1%00",
    ],
)
def test_deleting_a_comment_with_a_garbage_id_is_404(api: Api, comment_id: str) -> None:
    ann = api.register()
    slug = new_article(api, ann)["slug"]
    kept = add_comment(api, ann, slug)
    response = api.http.delete(f"/api/articles/{slug}/comments/{comment_id}", headers=api.auth(ann))
    assert answer(response) == not_found("comment")
    assert comments_of(api, slug) == [kept]


def test_deleting_a_comment_of_an_unknown_article_is_404_article(api: Api) -> None:
    ann = api.register()
    slug = new_article(api, ann)["slug"]
    comment = add_comment(api, ann, slug)
    response = api.http.delete(
        f"/api/articles/nope/comments/{comment['id']}", headers=api.auth(ann)
    )
    assert answer(response) == not_found("article")


# --- favorites -------------------------------------------------------------------------------


def test_favorite_and_unfavorite_count_each_user_once(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    created = new_article(api, ann, title="Liked")

    status, body = favorite(api, bob, "liked")
    assert status == 200
    assert body == {"article": {**created, "favorited": True, "favoritesCount": 1}}
    assert favorite(api, bob, "liked")[1]["article"]["favoritesCount"] == 1  # idempotent
    by_ann = favorite(api, ann, "liked")[1]["article"]
    assert (by_ann["favorited"], by_ann["favoritesCount"]) == (True, 2)

    status, body = favorite(api, bob, "liked", "DELETE")
    assert status == 200
    assert body == {"article": {**created, "favorited": False, "favoritesCount": 1}}
    status, body = favorite(api, bob, "liked", "DELETE")  # idempotent
    assert (status, body["article"]["favoritesCount"]) == (200, 1)
    assert favorite(api, ann, "liked", "DELETE")[1]["article"]["favoritesCount"] == 0

    anonymous = api.http.get("/api/articles/liked").json()["article"]
    assert (anonymous["favorited"], anonymous["favoritesCount"]) == (False, 0)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_favorite_of_an_unknown_article_is_404(api: Api, method: str) -> None:
    bob = api.register()
    assert favorite(api, bob, "nope", method) == not_found("article")


# --- deleting an article takes its comments and likes ----------------------------------------


def test_deleting_an_article_removes_its_comments_and_likes(api: Api) -> None:
    ann = api.register("ann")
    bob = api.register("bob")
    slug = new_article(api, ann, title="Doomed", tags=["t"])["slug"]
    other = new_article(api, ann, title="Survivor")["slug"]
    add_comment(api, bob, slug, "on doomed")
    survivor_comment = add_comment(api, bob, other, "on survivor")
    favorite(api, bob, slug)
    favorite(api, bob, other)

    assert api.http.delete(f"/api/articles/{slug}", headers=api.auth(ann)).status_code == 204
    assert answer(api.http.get(f"/api/articles/{slug}/comments")) == not_found("article")
    liked = list_articles(api, "favorited=bob")
    assert (slugs(liked), liked["articlesCount"]) == (["survivor"], 1)

    again = new_article(api, ann, title="Doomed")
    assert again["slug"] == slug
    assert (again["favorited"], again["favoritesCount"]) == (False, 0)
    assert comments_of(api, slug) == []
    as_bob = api.http.get(f"/api/articles/{slug}", headers=api.auth(bob)).json()["article"]
    assert (as_bob["favorited"], as_bob["favoritesCount"]) == (False, 0)
    assert comments_of(api, other) == [survivor_comment]
