"""GraphQL: global object ids, `node` and `nodes`, and the ids mutations return so that a
normalized client cache (Apollo, urql, Relay) updates or evicts objects without refetching."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from stores.dynamodb.comments import DynamoCommentStore
from stores.sql.comments import SqlCommentStore
from tests.conftest import Api
from tests.graphql_ops import (
    ADD_COMMENT,
    TOKEN_MISSING,
    add_comment,
    assert_error,
    create_article,
    data,
    follow,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

INVALID_ID = "is not a valid id"
# What each type shows through `node`, by an inline fragment per type.
NODE_FIELDS = """
    __typename id
    ... on Article { slug title tagList favorited favoritesCount author { id username } }
    ... on Comment { body author { id username following } viewerCanDelete }
    ... on Profile { username following }
    ... on User { username email }
"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ {NODE_FIELDS} }} }}"
NODES = f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ {NODE_FIELDS} }} }}"
IDS = """
query($slug: String!, $username: String!) {
  viewer { id }
  profile(username: $username) { id }
  article(slug: $slug) { id author { id } comments(first: 10) { nodes { id } } }
  articles(first: 10) { nodes { id slug } }
}"""


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def as_kind(node_id: str, kind: str) -> str:
    """The id of the object of `kind` with the same number."""
    _, number = base64.b64decode(node_id).decode().split(":")
    return encoded(f"{kind}:{number}")


def node(api: Api, node_id: str, as_user: str | None = None) -> Any:
    return data(api.graphql(NODE, {"id": node_id}, as_user=as_user))["node"]


def nodes(api: Api, ids: list[str], as_user: str | None = None) -> Any:
    return data(api.graphql(NODES, {"ids": ids}, as_user=as_user))["nodes"]


def ids_seen(api: Api, slug: str, username: str, as_user: str | None) -> dict[str, Any]:
    return data(api.graphql(IDS, {"slug": slug, "username": username}, as_user=as_user))


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    """Alice's article with a comment by Bob; their ids as Alice sees them."""
    alice, bob = api.register("alice"), api.register("bob")
    article = create_article(api, alice, "Graphs", tags=["ids"])
    comment = add_comment(api, bob, article["slug"], "Nice graph")
    seen = ids_seen(api, article["slug"], "bob", alice)
    return {
        "slug": article["slug"],
        "article": seen["article"]["id"],
        "comment": comment["id"],
        "alice_profile": seen["article"]["author"]["id"],
        "alice_user": seen["viewer"]["id"],
        "bob_profile": seen["profile"]["id"],
    }


def test_ids_are_opaque_stable_and_unique_across_types(api: Api, world: dict[str, Any]) -> None:
    ids = [world[k] for k in ("article", "comment", "alice_profile", "alice_user", "bob_profile")]
    assert len(set(ids)) == len(ids)
    # A user's Profile and User are two types, so two ids.
    assert world["alice_profile"] != world["alice_user"]
    # The same object has the same id wherever it shows, for whoever looks.
    for viewer in ("alice", "bob", None):
        seen = ids_seen(api, world["slug"], "bob", viewer)
        assert seen["article"]["id"] == world["article"]
        assert seen["article"]["author"]["id"] == world["alice_profile"]
        assert seen["article"]["comments"]["nodes"] == [{"id": world["comment"]}]
        assert seen["articles"]["nodes"] == [{"id": world["article"], "slug": world["slug"]}]
        assert seen["profile"]["id"] == world["bob_profile"]
    decoded = base64.b64decode(world["article"]).decode()
    assert decoded.startswith("Article:"), decoded


def test_node_finds_each_type_as_the_api_shows_it(api: Api, world: dict[str, Any]) -> None:
    alice = {"id": world["alice_profile"], "username": "alice"}
    assert node(api, world["article"], "bob") == {
        "__typename": "Article",
        "id": world["article"],
        "slug": world["slug"],
        "title": "Graphs",
        "tagList": ["ids"],
        "favorited": False,
        "favoritesCount": 0,
        "author": alice,
    }
    follow(api, "bob", "alice")
    assert node(api, world["comment"], "bob") == {
        "__typename": "Comment",
        "id": world["comment"],
        "body": "Nice graph",
        "author": {"id": world["bob_profile"], "username": "bob", "following": False},
        "viewerCanDelete": True,
    }
    assert node(api, world["alice_profile"], "bob") == {
        "__typename": "Profile",
        "id": world["alice_profile"],
        "username": "alice",
        "following": True,
    }
    assert node(api, world["alice_user"], "alice") == {
        "__typename": "User",
        "id": world["alice_user"],
        "username": "alice",
        "email": "alice@example.com",
    }


def test_a_user_resolves_only_for_themselves(api: Api, world: dict[str, Any]) -> None:
    """Email and token are the user's own: anyone else's User id finds nothing."""
    assert node(api, world["alice_user"], "bob") is None
    assert node(api, world["alice_user"]) is None
    assert node(api, world["alice_user"], "alice")["username"] == "alice"


def test_nodes_answer_in_order_with_null_for_what_is_not_there(
    api: Api, world: dict[str, Any]
) -> None:
    gone = create_article(api, "alice", "Gone soon")
    gone_comment = add_comment(api, "bob", gone["slug"], "on a doomed article")["id"]
    doomed = ids_seen(api, gone["slug"], "bob", "alice")["article"]["id"]
    deleted = "mutation($slug: String!) { deleteArticle(slug: $slug) { id slug } }"
    assert data(api.graphql(deleted, {"slug": gone["slug"]}, as_user="alice")) == {
        "deleteArticle": {"id": doomed, "slug": gone["slug"]}
    }
    asked = [
        world["comment"],
        doomed,  # deleted
        world["article"],
        gone_comment,  # on the deleted article
        encoded("Article:999999"),  # never was
        world["alice_user"],  # not the viewer's
        world["bob_profile"],
        world["article"],  # again
        as_kind(world["bob_profile"], "User"),  # bob's own, seen by bob
        as_kind(world["bob_profile"], "User"),
    ]
    found = nodes(api, asked, "bob")
    assert [n and (n["__typename"], n["id"]) for n in found] == [
        ("Comment", world["comment"]),
        None,
        ("Article", world["article"]),
        None,
        None,
        None,
        ("Profile", world["bob_profile"]),
        ("Article", world["article"]),
        ("User", as_kind(world["bob_profile"], "User")),
        ("User", as_kind(world["bob_profile"], "User")),
    ]
    assert nodes(api, asked[-2:]) == [None, None]
    assert nodes(api, [], "bob") == []


async def _not_yet(self: object, article_id: int) -> None:
    """A comments domain that has not received an ArticleDeleted yet."""


def test_a_comment_hides_with_its_article_before_the_comments_domain_hears_of_it(
    api: Api, world: dict[str, Any], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DynamoCommentStore if backend == "dynamodb" else SqlCommentStore
    monkeypatch.setattr(store, "forget_article", _not_yet)
    deleted = "mutation($slug: String!) { deleteArticle(slug: $slug) { id } }"
    data(api.graphql(deleted, {"slug": world["slug"]}, as_user="alice"))
    assert nodes(api, [world["comment"], world["bob_profile"]], "bob") == [
        None,
        {
            "__typename": "Profile",
            "id": world["bob_profile"],
            "username": "bob",
            "following": False,
        },
    ]


@pytest.mark.parametrize(
    "bad_id",
    [
        "",
        "abc",
        "1",
        encoded("Article:12").rstrip("="),
        encoded("Article:012"),
        encoded("Article:0"),
        encoded("Article:x"),
        encoded("Tag:1"),
        encoded("article:1"),
        base64.b64encode(b"\xff\xfe:1").decode(),
        "\u00e9t\u00e9",
        "\x00",
        "A" * 100_000,
    ],
)
def test_text_that_is_no_id_is_bad_input(api: Api, bad_id: str) -> None:
    body = api.graphql(NODE, {"id": bad_id})
    assert body["data"] == {"node": None}
    assert_error(body, "BAD_USER_INPUT", {"id": [INVALID_ID]})
    listed = api.graphql(NODES, {"ids": [encoded("Article:1"), bad_id]})
    assert listed["data"] is None
    assert_error(listed, "BAD_USER_INPUT", {"ids": [INVALID_ID]})


def test_nodes_take_at_most_100_ids(api: Api, world: dict[str, Any]) -> None:
    assert len(nodes(api, [world["article"]] * 100)) == 100
    body = api.graphql(NODES, {"ids": [world["article"]] * 101})
    assert body["data"] is None
    assert_error(body, "BAD_USER_INPUT", {"ids": ["can name at most 100 objects at once"]})


def test_an_invalid_token_is_refused_not_anonymous(api: Api, world: dict[str, Any]) -> None:
    body = post(api, NODE, {"id": world["article"]}, Authorization="Bearer not-a-token")
    assert_error(body, "UNAUTHENTICATED", TOKEN_MISSING)


def test_nodes_count_as_many_nodes_as_ids(api: Api, world: dict[str, Any]) -> None:
    """Each id is a node, and a connection below `nodes` counts once per id."""
    with_comments = """
    query($ids: [ID!]!) {
      nodes(ids: $ids) { id ... on Article { comments(first: 10) { nodes { body } } } }
    }"""
    three = [world["article"]] * 3
    body = api.graphql(with_comments, {"ids": three})
    assert len(data(body)["nodes"]) == 3
    assert body["extensions"]["cost"]["nodes"] == 3 + 3 * 10
    literal = with_comments.replace("($ids: [ID!]!)", "").replace("$ids", str(three[:2]))
    literal = literal.replace("'", '"')
    assert api.graphql(literal)["extensions"]["cost"]["nodes"] == 2 + 2 * 10
    single = with_comments.replace("($ids: [ID!]!)", "").replace("$ids", f'"{world["article"]}"')
    assert api.graphql(single)["extensions"]["cost"]["nodes"] == 1 + 10
    # More than the nodes allowed: refused before anything runs.
    huge = with_comments.replace("first: 10", "first: 100")
    refused = api.http.post("/graphql", json={"query": huge, "variables": {"ids": three * 30}})
    assert refused.headers["X-Store-Round-Trips"] == "0"
    assert_error(refused.json(), "MAX_NODE_LIMIT_EXCEEDED")
    assert refused.json()["errors"][0]["extensions"]["nodes"] == 90 + 90 * 100


# --- what mutations return ------------------------------------------------------------------


def test_a_like_returns_the_article_under_the_id_the_list_shows(
    api: Api, world: dict[str, Any]
) -> None:
    listed = data(api.graphql("{ articles(first: 10) { nodes { id favoritesCount } } }"))
    [item] = listed["articles"]["nodes"]
    like = "mutation($slug: String!) { likeArticle(slug: $slug) { id favorited favoritesCount } }"
    liked = data(api.graphql(like, {"slug": world["slug"]}, as_user="bob"))["likeArticle"]
    assert liked == {"id": item["id"], "favorited": True, "favoritesCount": 1}
    unlike = like.replace("likeArticle", "unlikeArticle")
    unliked = data(api.graphql(unlike, {"slug": world["slug"]}, as_user="bob"))["unlikeArticle"]
    assert unliked == {"id": item["id"], "favorited": False, "favoritesCount": 0}


def test_mutations_return_the_ids_of_what_they_change(api: Api, world: dict[str, Any]) -> None:
    follow_op = "mutation($u: String!) { follow(username: $u) { id following } }"
    followed = data(api.graphql(follow_op, {"u": "alice"}, as_user="bob"))["follow"]
    assert followed == {"id": world["alice_profile"], "following": True}
    unfollow_op = follow_op.replace("follow(", "unfollow(")
    unfollowed = data(api.graphql(unfollow_op, {"u": "alice"}, as_user="bob"))["unfollow"]
    assert unfollowed == {"id": world["alice_profile"], "following": False}

    update_viewer = 'mutation { updateViewer(input: {bio: "Hi"}) { id bio } }'
    assert data(api.graphql(update_viewer, as_user="alice"))["updateViewer"] == {
        "id": world["alice_user"],
        "bio": "Hi",
    }
    # A new title gives a new slug, never a new id.
    retitle = """mutation($slug: String!) {
      updateArticle(slug: $slug, input: {title: "Graphs, renamed"}) { id slug } }"""
    renamed = data(api.graphql(retitle, {"slug": world["slug"]}, as_user="alice"))
    assert renamed["updateArticle"] == {"id": world["article"], "slug": "graphs-renamed"}

    created = data(
        api.graphql(
            'mutation { createArticle(input: {title: "New", description: "d", body: "b"}) { id } }',
            as_user="alice",
        )
    )["createArticle"]
    assert node(api, created["id"])["id"] == created["id"]
    added = data(
        api.graphql(ADD_COMMENT, {"slug": "graphs-renamed", "body": "More"}, as_user="alice")
    )["addComment"]
    assert node(api, added["id"])["body"] == "More"
    delete = "mutation($id: ID!) { deleteComment(id: $id) { id } }"
    assert data(api.graphql(delete, {"id": added["id"]}, as_user="alice")) == {
        "deleteComment": {"id": added["id"]}
    }
    assert node(api, added["id"]) is None


def test_deleting_a_comment_by_another_types_id_finds_none(api: Api, world: dict[str, Any]) -> None:
    delete = "mutation($id: ID!) { deleteComment(id: $id) { id } }"
    for other in (world["article"], world["bob_profile"]):
        body = api.graphql(delete, {"id": other}, as_user="bob")
        assert_error(body, "NOT_FOUND", {"comment": ["not found"]})
    assert node(api, world["comment"])["id"] == world["comment"]
