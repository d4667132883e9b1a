"""The failures every store backend may raise besides the domain errors of its interface."""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The store's database cannot be reached right now, or dropped the connection mid-way:
    nothing the client did wrong, and worth retrying shortly. Whatever the operation was
    writing did not commit. The message names the cause, for the log only: it may describe
    the database's whereabouts, so adapters show clients a fixed message instead."""


class ArticleForgotten(Exception):
    """A comment or like was refused because its article was deleted and its comments or
    likes forgotten (`forget_article`): once that has happened, nothing more is written for
    it, so no write racing the deletion outlives the article. Nothing was written."""

    def __init__(self, article_id: int) -> None:
        self.article_id = article_id
        super().__init__(f"article {article_id} was deleted")
