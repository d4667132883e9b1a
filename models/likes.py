"""Likes ("favorites" in RealWorld): who liked which article."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Like:
    user_id: int
    article_id: int


@dataclass(frozen=True, slots=True)
class LikeStats:
    """How many users like an article, and whether the viewer is one of them."""

    count: int = 0
    liked_by_viewer: bool = False
