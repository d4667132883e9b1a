"""GraphQL: comments (add, list, delete) and likes (like, unlike, counts, likedBy)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.conftest import Api
from tests.graphql_ops import (
    ADD_COMMENT,
    ARTICLE_NOT_FOUND,
    BLANK,
    COMMENTS,
    DELETE_COMMENT,
    LIKE,
    TIMESTAMP,
    TOKEN_MISSING,
    UNLIKE,
    add_comment,
    article,
    articles,
    assert_error,
    create_article,
    data,
    like,
    slugs,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

COMMENT_NOT_FOUND = {"comment": ["not found"]}


def _comments(api: Api, slug: str, as_user: str | None = None) -> Any:
    variables = {"slug": slug, "first": 100}
    return data(api.graphql(COMMENTS, variables, as_user=as_user))["article"]["comments"]


def _delete_comment(api: Api, comment_id: str, as_user: str | None) -> dict[str, Any]:
    return api.graphql(DELETE_COMMENT, {"id": comment_id}, as_user=as_user)


# --- comments -------------------------------------------------------------------------------


def test_add_comment_returns_it_whole(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    comment = add_comment(api, bob, slug, "  Great read!\nThanks.  ")
    assert TIMESTAMP.match(comment["createdAt"]), comment["createdAt"]
    # Its global id names it by the number REST shows.
    [numbered] = api.http.get(f"/api/articles/{slug}/comments").json()["comments"]
    assert base64.b64decode(comment["id"]) == f"Comment:{numbered['id']}".encode()
    assert comment == {
        "id": comment["id"],
        "body": "Great read!\nThanks.",
        "createdAt": comment["createdAt"],
        "updatedAt": comment["createdAt"],
        "viewerCanDelete": True,
        "author": {"username": "bob", "bio": None, "image": None, "following": False},
    }
    listed = _comments(api, slug, as_user=bob)
    assert listed["nodes"] == [comment]
    assert listed["totalCount"] == 1


def test_comments_list_newest_first_with_delete_flags(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    by_alice = add_comment(api, alice, slug, "first")["id"]
    by_bob = add_comment(api, bob, slug, "second")["id"]

    def seen_by(user: str | None) -> list[tuple[str, str, bool]]:
        nodes = _comments(api, slug, as_user=user)["nodes"]
        return [(n["id"], n["author"]["username"], n["viewerCanDelete"]) for n in nodes]

    assert seen_by(alice) == [(by_bob, "bob", False), (by_alice, "alice", True)]
    assert seen_by(bob) == [(by_bob, "bob", True), (by_alice, "alice", False)]
    assert seen_by(None) == [(by_bob, "bob", False), (by_alice, "alice", False)]


def test_comments_belong_to_their_article(api: Api) -> None:
    alice = api.register("alice")
    one, two = create_article(api, alice, "One")["slug"], create_article(api, alice, "Two")["slug"]
    add_comment(api, alice, one, "on one")
    assert [n["body"] for n in _comments(api, one)["nodes"]] == ["on one"]
    assert _comments(api, two) == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [],
        "nodes": [],
    }


def test_add_comment_errors(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    blank = api.graphql(ADD_COMMENT, {"slug": slug, "body": "  "}, as_user=alice)
    assert blank["data"] is None
    assert_error(blank, "BAD_USER_INPUT", {"body": [BLANK]})
    unknown = api.graphql(ADD_COMMENT, {"slug": "nope", "body": "Hi"}, as_user=alice)
    assert_error(unknown, "NOT_FOUND", ARTICLE_NOT_FOUND)
    anonymous = api.graphql(ADD_COMMENT, {"slug": slug, "body": "Hi"})
    assert_error(anonymous, "UNAUTHENTICATED", TOKEN_MISSING)
    assert _comments(api, slug)["totalCount"] == 0


def test_delete_comment(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    kept = add_comment(api, alice, slug, "kept")["id"]
    doomed = add_comment(api, bob, slug, "doomed")["id"]
    assert data(_delete_comment(api, doomed, bob)) == {"deleteComment": {"id": doomed}}
    assert [n["id"] for n in _comments(api, slug)["nodes"]] == [kept]
    assert _comments(api, slug)["totalCount"] == 1
    assert_error(_delete_comment(api, doomed, bob), "NOT_FOUND", COMMENT_NOT_FOUND)


def test_only_the_comment_author_deletes_it(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    slug = create_article(api, alice)["slug"]
    comment = add_comment(api, bob, slug, "mine")["id"]
    # Not even the article's author may delete someone else's comment.
    by_alice = _delete_comment(api, comment, alice)
    assert by_alice["data"] is None
    assert_error(by_alice, "FORBIDDEN", {"comment": ["forbidden"]})
    assert_error(_delete_comment(api, comment, None), "UNAUTHENTICATED", TOKEN_MISSING)
    assert [n["id"] for n in _comments(api, slug)["nodes"]] == [comment]


def _encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


NOT_AN_ID = {"id": ["is not a valid id"]}


@pytest.mark.parametrize(
    ("comment_id", "code", "fields"),
    [
        # Numbers no comment has, and ids of no comment: well-formed, so not found.
        *(
            (comment_id, "NOT_FOUND", COMMENT_NOT_FOUND)
            for comment_id in [
                "0",
                "99999999999999999999",
                "999999",
                _encoded("Comment:999999"),
                _encoded("Profile:1"),
                _encoded("Article:1"),
            ]
        ),
        # Neither a number nor an id: not base64, not canonical base64, a type that has no
        # ids, a number no id can hold.
        *(
            (comment_id, "BAD_USER_INPUT", NOT_AN_ID)
            for comment_id in [
                "abc",
                "-1",
                "1.5",
                "",
                " 1",
                "\u0661",
                _encoded("Comment:12").rstrip("="),
                _encoded("Comment:01"),
                _encoded("Tag:1"),
                _encoded("Comment:-1"),
                _encoded("Comment:99999999999999999999"),
            ]
        ),
    ],
)
def test_delete_comment_by_what_names_no_comment(
    api: Api, comment_id: str, code: str, fields: dict[str, list[str]]
) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    add_comment(api, alice, slug)
    body = _delete_comment(api, comment_id, alice)
    assert body["data"] is None
    assert_error(body, code, fields)
    assert _comments(api, slug)["totalCount"] == 1


def test_comments_may_still_be_deleted_by_their_number(api: Api) -> None:
    """Clients written before global ids send the number (REST's id), as text or a literal."""
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    by_text, by_literal = add_comment(api, alice, slug)["id"], add_comment(api, alice, slug)["id"]
    listed = api.http.get(f"/api/articles/{slug}/comments").json()["comments"]
    number_of = {_encoded(f"Comment:{c['id']}"): c["id"] for c in listed}
    body = _delete_comment(api, str(number_of[by_text]), alice)
    assert data(body) == {"deleteComment": {"id": by_text}}
    literal = f"mutation {{ deleteComment(id: {number_of[by_literal]}) {{ id }} }}"
    assert data(api.graphql(literal, as_user=alice)) == {"deleteComment": {"id": by_literal}}
    assert _comments(api, slug)["totalCount"] == 0


# --- likes ----------------------------------------------------------------------------------


def test_like_and_unlike_are_idempotent(api: Api) -> None:
    alice, bob, carol = api.register("alice"), api.register("bob"), api.register("carol")
    slug = create_article(api, alice)["slug"]
    for _ in range(2):
        assert like(api, bob, slug) == {"slug": slug, "favorited": True, "favoritesCount": 1}
    assert like(api, carol, slug) == {"slug": slug, "favorited": True, "favoritesCount": 2}

    def seen_by(user: str | None) -> tuple[bool, int]:
        found = article(api, slug, as_user=user)
        return found["favorited"], found["favoritesCount"]

    assert [seen_by(u) for u in (alice, bob, carol, None)] == [
        (False, 2),
        (True, 2),
        (True, 2),
        (False, 2),
    ]
    for _ in range(2):
        unliked = data(api.graphql(UNLIKE, {"slug": slug}, as_user=bob))["unlikeArticle"]
        assert unliked == {"slug": slug, "favorited": False, "favoritesCount": 1}
    assert seen_by(bob) == (False, 1)
    assert seen_by(carol) == (True, 1)


def test_authors_may_like_their_own_articles(api: Api) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    assert like(api, alice, slug) == {"slug": slug, "favorited": True, "favoritesCount": 1}


def test_liked_by_lists_what_a_user_likes(api: Api) -> None:
    alice, bob = api.register("alice"), api.register("bob")
    one = create_article(api, alice, "One")["slug"]
    two = create_article(api, alice, "Two")["slug"]
    three = create_article(api, alice, "Three")["slug"]
    like(api, bob, one)
    like(api, bob, three)
    assert slugs(articles(api, likedBy=bob)) == [three, one]
    data(api.graphql(UNLIKE, {"slug": three}, as_user=bob))
    assert slugs(articles(api, likedBy=bob)) == [one]
    assert articles(api, likedBy=alice)["totalCount"] == 0
    assert two not in slugs(articles(api, likedBy=bob))


@pytest.mark.parametrize("operation", [LIKE, UNLIKE], ids=["like", "unlike"])
def test_like_errors(api: Api, operation: str) -> None:
    alice = api.register("alice")
    slug = create_article(api, alice)["slug"]
    unknown = api.graphql(operation, {"slug": "nope"}, as_user=alice)
    assert unknown["data"] is None
    assert_error(unknown, "NOT_FOUND", ARTICLE_NOT_FOUND)
    anonymous = api.graphql(operation, {"slug": slug})
    assert_error(anonymous, "UNAUTHENTICATED", TOKEN_MISSING)
    assert article(api, slug)["favoritesCount"] == 0
