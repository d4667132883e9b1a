"""Per-request DataLoaders: every lookup that repeats across a list becomes one batched read.
A page never needs more than MAX_BATCH keys of one kind, so a page is one read per loader."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property
from typing import TypeVar

from aiodataloader import DataLoader

from loaders.request_tasks import belonging_to_the_request
from models.articles import Article
from models.comments import Comment
from models.likes import LikeStats
from models.pages import MAX_PAGE_SIZE, Position, Window
from models.users import FollowCounts, User
from stores.protocols import Stores

MAX_BATCH = MAX_PAGE_SIZE
T = TypeVar("T")


class Loaders:
    """Fresh for every request, so a cached answer never outlives the request that read it.
    `viewer_id` is fixed per request: following and liked-by-viewer are answered for them.
    Each loader is made when first asked for: a request uses a few, and making all thirteen
    cost every request about 32 us of CPU (a request using four: about 10)."""

    def __init__(self, stores: Stores, viewer_id: int | None) -> None:
        self._stores = stores
        self._viewer_id = viewer_id

    @cached_property
    def user_by_id(self) -> DataLoader[int, User | None]:
        return DataLoader(belonging_to_the_request(self._users), max_batch_size=MAX_BATCH)

    @cached_property
    def followed_by_viewer(self) -> DataLoader[int, bool]:
        return DataLoader(belonging_to_the_request(self._followed), max_batch_size=MAX_BATCH)

    @cached_property
    def comment_by_id(self) -> DataLoader[int, Comment | None]:
        return DataLoader(belonging_to_the_request(self._comments), max_batch_size=MAX_BATCH)

    @cached_property
    def tags(self) -> DataLoader[int, list[str]]:
        return DataLoader(belonging_to_the_request(self._tags), max_batch_size=MAX_BATCH)

    @cached_property
    def likes(self) -> DataLoader[int, LikeStats]:
        return DataLoader(belonging_to_the_request(self._likes), max_batch_size=MAX_BATCH)

    # Keyed by article and window: the comments of every article of a page in one read.
    @cached_property
    def comment_pages(self) -> DataLoader[tuple[int, Window], list[Comment]]:
        return DataLoader(belonging_to_the_request(self._comment_pages), max_batch_size=MAX_BATCH)

    @cached_property
    def comment_counts(self) -> DataLoader[int, int]:
        return DataLoader(belonging_to_the_request(self._comment_counts), max_batch_size=MAX_BATCH)

    # Keyed by author and window, as comment pages are: every profile of a page in one read.
    @cached_property
    def authored_pages(self) -> DataLoader[tuple[int, Window], list[Article]]:
        return DataLoader(belonging_to_the_request(self._authored_pages), max_batch_size=MAX_BATCH)

    @cached_property
    def authored_counts(self) -> DataLoader[int, int]:
        return DataLoader(belonging_to_the_request(self._authored_counts), max_batch_size=MAX_BATCH)

    @cached_property
    def liked_ids(self) -> DataLoader[int, list[int]]:
        return DataLoader(belonging_to_the_request(self._liked_ids), max_batch_size=MAX_BATCH)

    # What a page of profiles likes, and the pages of it they show, can be any number of
    # articles: unbounded batches keep each one read (on DynamoDB, one BatchGetItem per
    # hundred keys, as the store reads any batch).
    @cached_property
    def article_positions(self) -> DataLoader[int, Position | None]:
        return DataLoader(belonging_to_the_request(self._article_positions), max_batch_size=None)

    @cached_property
    def article_by_id(self) -> DataLoader[int, Article | None]:
        return DataLoader(belonging_to_the_request(self._articles), max_batch_size=None)

    @cached_property
    def follow_counts(self) -> DataLoader[int, FollowCounts]:
        return DataLoader(belonging_to_the_request(self._follow_counts), max_batch_size=MAX_BATCH)

    async def _users(self, ids: Sequence[int]) -> list[User | None]:
        found = {u.id: u for u in await self._stores.users.by_ids(ids)}
        return [found.get(i) for i in ids]

    async def _articles(self, ids: Sequence[int]) -> list[Article | None]:
        found = {a.id: a for a in await self._stores.articles.by_ids(ids)}
        return [found.get(i) for i in ids]

    async def _comments(self, ids: Sequence[int]) -> list[Comment | None]:
        found = {c.id: c for c in await self._stores.comments.by_ids(ids)}
        return [found.get(i) for i in ids]

    async def _followed(self, ids: Sequence[int]) -> list[bool]:
        if self._viewer_id is None:
            return [False] * len(ids)
        followed = await self._stores.users.followed_among(self._viewer_id, ids)
        return [i in followed for i in ids]

    async def _tags(self, article_ids: Sequence[int]) -> list[list[str]]:
        tags = await self._stores.articles.tags_of(article_ids)
        return [tags.get(i, []) for i in article_ids]

    async def _likes(self, article_ids: Sequence[int]) -> list[LikeStats]:
        stats = await self._stores.likes.stats(article_ids, self._viewer_id)
        return [stats.get(i, LikeStats()) for i in article_ids]

    async def _comment_pages(self, keys: Sequence[tuple[int, Window]]) -> list[list[Comment]]:
        return await _per_window(keys, self._stores.comments.pages)

    async def _comment_counts(self, article_ids: Sequence[int]) -> list[int]:
        counts = await self._stores.comments.counts(article_ids)
        return [counts.get(i, 0) for i in article_ids]

    async def _authored_pages(self, keys: Sequence[tuple[int, Window]]) -> list[list[Article]]:
        return await _per_window(keys, self._stores.articles.pages_by_author)

    async def _authored_counts(self, author_ids: Sequence[int]) -> list[int]:
        counts = await self._stores.articles.counts_by_author(author_ids)
        return [counts.get(i, 0) for i in author_ids]

    async def _liked_ids(self, user_ids: Sequence[int]) -> list[list[int]]:
        liked = await self._stores.likes.liked_article_ids_of(user_ids)
        return [liked.get(i, []) for i in user_ids]

    async def _article_positions(self, article_ids: Sequence[int]) -> list[Position | None]:
        positions = await self._stores.articles.positions_of(article_ids)
        return [positions.get(i) for i in article_ids]

    async def _follow_counts(self, user_ids: Sequence[int]) -> list[FollowCounts]:
        counts = await self._stores.users.follow_counts(user_ids)
        return [counts.get(i, FollowCounts()) for i in user_ids]


async def _per_window(
    keys: Sequence[tuple[int, Window]],
    read: Callable[[list[int], Window], Awaitable[Mapping[int, list[T]]]],
) -> list[list[T]]:
    """Each key's page, in one read per distinct window (a page of parents asks for one)."""
    by_window: dict[Window, list[int]] = {}
    for owner_id, window in keys:
        by_window.setdefault(window, []).append(owner_id)
    windows = list(by_window)
    found = await asyncio.gather(*(read(by_window[w], w) for w in windows))
    pages = dict(zip(windows, found, strict=True))
    return [pages[window].get(owner_id, []) for owner_id, window in keys]
