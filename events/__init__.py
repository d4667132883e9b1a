"""Domain events, published after a successful write, and the bus that carries them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

logger = logging.getLogger("conduit.events")


@dataclass(frozen=True)
class ArticleDeleted:
    article_id: int


DomainEvent = ArticleDeleted
Handler = Callable[[DomainEvent], Awaitable[None]]


class EventBus(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...


class InProcessBus:
    """Runs each event's handlers in this process, right after the write that raised it.
    A failing handler is logged and does not undo the write, which has already happened."""

    def __init__(self, handlers: Mapping[type[DomainEvent], Sequence[Handler]]) -> None:
        self._handlers = handlers

    async def publish(self, event: DomainEvent) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                await handler(event)
            except Exception:
                logger.exception("handler %s failed for %r", handler, event)
