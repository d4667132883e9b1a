"""The data set. Every record comes from one seeded random generator, drawn in a fixed order,
so one seed always gives the same users, articles, follows, likes and comments. Records refer
to each other through the ids the stores gave the records before them."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from models.articles import NewArticle, slugify
from models.comments import NewComment
from models.likes import Like
from models.pages import Position
from models.users import Follow, UserRow
from seed import words

SPAN = timedelta(days=365)
# How many tags an article has (0 to 4), and how likely each count is.
TAG_COUNT_WEIGHTS = (10, 25, 30, 20, 15)
# Tags drawn with Zipf-like weights: the first is 50 times as common as the last.
TAG_WEIGHTS = tuple(1 / rank for rank in range(1, len(words.TAGS) + 1))
# Distinct texts to build bodies and comments from: enough to look varied, few enough to be
# drawn quickly (joining a few of them is much cheaper than drawing every word).
PARAGRAPHS = 400
SENTENCES = 2000


def email_of(n: int) -> str:
    """The email of the n-th seeded user, counting from 1."""
    return f"user{n}@example.com"


class DataSet:
    def __init__(self, seed: int, now: datetime) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - sample data, reproducible on purpose
        self._now = now
        self._sentences = [self._sentence() for _ in range(SENTENCES)]
        self._paragraphs = [
            " ".join(self._rng.choices(self._sentences, k=self._rng.randint(3, 6)))
            for _ in range(PARAGRAPHS)
        ]

    def users(self, count: int, password_hash: str) -> Iterator[UserRow]:
        """Users 1..count, every one with the same password (its hash computed once)."""
        rng = self._rng
        for n in range(1, count + 1):
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
            yield UserRow(
                username=f"{first}.{last}{n}",
                email=email_of(n),
                password_hash=password_hash,
                bio=rng.choice(self._sentences) if rng.random() < 0.5 else None,
                image=None,
            )

    def articles(self, count: int, user_ids: Sequence[int]) -> Iterator[NewArticle]:
        """Articles by a few prolific authors and many occasional ones, with 0 to 4 tags, a
        few paragraphs each, written over the past year."""
        rng = self._rng
        for n in range(1, count + 1):
            noun, adjective = rng.choice(words.NOUNS), rng.choice(words.ADJECTIVES)
            title = rng.choice(words.TITLE_PATTERNS).format(
                adj=adjective, Adj=adjective.capitalize(), noun=noun
            )
            tag_count = rng.choices(range(len(TAG_COUNT_WEIGHTS)), TAG_COUNT_WEIGHTS)[0]
            tags = rng.choices(words.TAGS, TAG_WEIGHTS, k=tag_count)
            yield NewArticle(
                slug=f"{slugify(title)}-{n}",
                title=title,
                description=rng.choice(self._sentences),
                body="\n\n".join(rng.choices(self._paragraphs, k=rng.randint(2, 5))),
                tags=tuple(sorted(set(tags))),
                author_id=user_ids[self._popular(len(user_ids))],
                created_at=self._since(self._now - SPAN),
            )

    def follows(self, count: int, user_ids: Sequence[int]) -> Iterator[Follow]:
        """Distinct pairs; popular users gather most followers."""
        seen: set[tuple[int, int]] = set()
        while len(seen) < count:
            follower = user_ids[self._rng.randrange(len(user_ids))]
            followee = user_ids[self._popular(len(user_ids))]
            if follower != followee and (follower, followee) not in seen:
                seen.add((follower, followee))
                yield Follow(follower, followee)

    def likes(
        self, count: int, user_ids: Sequence[int], article_ids: Sequence[int]
    ) -> Iterator[Like]:
        """Distinct pairs; popular articles gather most likes."""
        seen: set[tuple[int, int]] = set()
        while len(seen) < count:
            user = user_ids[self._rng.randrange(len(user_ids))]
            article = article_ids[self._popular(len(article_ids))]
            if (user, article) not in seen:
                seen.add((user, article))
                yield Like(user, article)

    def comments(
        self, count: int, user_ids: Sequence[int], articles: Sequence[Position]
    ) -> Iterator[NewComment]:
        """Comments on popular articles mostly, each written after its article."""
        rng = self._rng
        for _ in range(count):
            article = articles[self._popular(len(articles))]
            yield NewComment(
                article_id=article.id,
                author_id=user_ids[rng.randrange(len(user_ids))],
                body=" ".join(rng.choices(self._sentences, k=rng.randint(1, 3))),
                created_at=self._since(article.created_at),
            )

    def _popular(self, size: int) -> int:
        """An index below `size`, low ones far more likely: the first percent of the range
        is drawn a tenth of the time."""
        return int(size * self._rng.random() ** 2)

    def _since(self, start: datetime) -> datetime:
        """A moment between `start` and now, in whole milliseconds like `models.clock`."""
        span_ms = max(int((self._now - start).total_seconds() * 1000), 0)
        return start + timedelta(milliseconds=self._rng.randint(0, span_ms))

    def _sentence(self) -> str:
        text = " ".join(self._rng.choices(words.WORDS, k=self._rng.randint(6, 14)))
        return text.capitalize() + "."
