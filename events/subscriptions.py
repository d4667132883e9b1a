"""Which consumer domain receives which events: the one declaration that the in-process bus
routes by and that the AWS deployment (an EventBridge rule and an SQS queue per consumer)
is provisioned from. Each consumer's handlers are in resolvers/cascades.py."""

from __future__ import annotations

from events import ArticleDeleted, DomainEvent

CONSUMERS: dict[str, tuple[type[DomainEvent], ...]] = {
    "comments": (ArticleDeleted,),
    "likes": (ArticleDeleted,),
}


def consumers_of(event_type: type[DomainEvent]) -> list[str]:
    return [consumer for consumer, types in CONSUMERS.items() if event_type in types]


def queue_name(prefix: str, consumer: str) -> str:
    """The SQS queue that EventBridge fills with the consumer's events."""
    return f"{prefix}-{consumer}-events"
