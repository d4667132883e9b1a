"""The in-process bus behind the API: deleting an article over REST takes its comments and
likes with it before the answer, on every store backend, and leaves other articles alone."""

from __future__ import annotations

import asyncio
import logging

import pytest

from config import Settings
from stores.factory import OpenStores
from tests.conftest import Api
from tests.rest_support import add_comment, new_article

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


async def counts_of_ids(settings: Settings, ids: list[int]) -> list[tuple[int, int]]:
    """(comments, likes) per article id, read from the stores themselves."""
    open_stores = OpenStores(settings.domain_urls())
    stores = open_stores.stores
    try:
        stats = await stores.likes.stats(ids, None)
        return [
            ((await stores.comments.counts([i])).get(i, 0), stats[i].count if i in stats else 0)
            for i in ids
        ]
    finally:
        await open_stores.close()


async def article_ids(settings: Settings, slugs: list[str]) -> list[int]:
    open_stores = OpenStores(settings.domain_urls())
    try:
        found = [await open_stores.stores.articles.by_slug(s) for s in slugs]
        return [a.id for a in found if a is not None]
    finally:
        await open_stores.close()


def test_deleting_an_article_over_rest_deletes_its_comments_and_likes(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    ann, bob, cy = api.register("ann"), api.register("bob"), api.register("cy")
    doomed, kept = new_article(api, ann, title="Doomed")["slug"], new_article(api, ann)["slug"]
    for slug in (doomed, kept):
        for reader in (bob, cy):
            add_comment(api, reader, slug)
            liked = api.http.post(f"/api/articles/{slug}/favorite", headers=api.auth(reader))
            assert liked.status_code == 200
    ids = asyncio.run(article_ids(settings, [doomed, kept]))
    assert asyncio.run(counts_of_ids(settings, ids)) == [(2, 2), (2, 2)]

    with caplog.at_level(logging.WARNING, logger="conduit.events"):
        response = api.http.delete(f"/api/articles/{doomed}", headers=api.auth(ann))
    assert response.status_code == 204

    assert asyncio.run(counts_of_ids(settings, ids)) == [(0, 0), (2, 2)]
    assert [r for r in caplog.records if r.name.startswith("conduit.events")] == []
    liked_by_bob = api.http.get("/api/articles?favorited=bob").json()
    assert [a["slug"] for a in liked_by_bob["articles"]] == [kept]
