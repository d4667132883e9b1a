"""Writing the data set into the stores: batches through the stores' bulk writes, a few in
flight at once, each phase after the ones whose ids it needs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TextIO, TypeVar

from models.likes import Like
from models.users import Follow
from seed.data import DataSet
from seed.progress import Progress
from stores.protocols import Stores

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Sizes:
    users: int
    articles: int
    follows: int
    likes: int
    comments: int

    def problems(self) -> list[str]:
        """Why these sizes cannot be seeded (distinct pairs need room), if they cannot."""
        found = []
        if self.users < 2 and self.follows:
            found.append("follows need at least 2 users")
        if self.follows > self.users * (self.users - 1) // 2:
            found.append("at most users x (users - 1) / 2 follows")
        if self.likes > self.users * self.articles // 2:
            found.append("at most users x articles / 2 likes")
        if (self.articles or self.comments) and not self.users:
            found.append("articles and comments need users")
        if self.comments and not self.articles:
            found.append("comments need articles")
        return found


@dataclass(frozen=True)
class Writing:
    """How the data set is written: batch size, batches in flight, where progress goes."""

    batch: int
    concurrency: int
    progress: TextIO


async def seed(
    stores: Stores, sizes: Sizes, data: DataSet, password_hash: str, how: Writing
) -> None:
    users = await _write(
        "users", data.users(sizes.users, password_hash), sizes.users, stores.users.create_many, how
    )
    user_ids = [u.id for u in users]
    articles = await _write(
        "articles",
        data.articles(sizes.articles, user_ids),
        sizes.articles,
        stores.articles.create_many,
        how,
    )
    positions = [a.position for a in articles]

    async def follow(batch: list[Follow]) -> list[None]:
        await stores.users.follow_many(batch)
        return []

    async def like(batch: list[Like]) -> list[None]:
        await stores.likes.like_many(batch)
        return []

    await _write("follows", data.follows(sizes.follows, user_ids), sizes.follows, follow, how)
    article_ids = [p.id for p in positions]
    await _write("likes", data.likes(sizes.likes, user_ids, article_ids), sizes.likes, like, how)
    await _write(
        "comments",
        data.comments(sizes.comments, user_ids, positions),
        sizes.comments,
        stores.comments.add_many,
        how,
    )


async def _write(
    label: str,
    items: Iterable[T],
    total: int,
    write: Callable[[list[T]], Awaitable[Sequence[R]]],
    how: Writing,
) -> list[R]:
    """Write `items` in batches, at most `how.concurrency` at a time; what the writes return,
    in the order of `items`. Each batch is drawn only when a slot is free, so the data set is
    never all in memory at once and is drawn in the same order however the writes interleave."""
    progress = Progress(label, total, how.progress)
    slots = asyncio.Semaphore(how.concurrency)

    async def run(batch: list[T]) -> Sequence[R]:
        try:
            written = await write(batch)
        finally:
            slots.release()
        progress.advance(len(batch))
        return written

    tasks: list[asyncio.Task[Sequence[R]]] = []
    try:
        for batch in _batches(items, how.batch):
            await slots.acquire()
            tasks.append(asyncio.create_task(run(batch)))
        results = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    progress.finish()
    return [r for written in results for r in written]


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
