"""The vocabularies seeded text is drawn from."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Fifty tags, most popular first (the data set draws them with Zipf-like weights).
TAGS = _words(
    """programming javascript python webdev tutorial career devops react databases testing
    security productivity design rust golang cloud graphql postgres linux opensource beginners
    architecture performance typescript css docker kubernetes aws machinelearning datascience
    mobile android ios api microservices serverless git vim music books travel cooking
    photography writing gaming health finance startups remote dragons"""
)
FIRST_NAMES = _words(
    """ada alan grace linus margaret dennis barbara ken frances edsger radia donald katherine
    guido hedy bjarne sophie james anita tim joan niklaus lynn john mary brian shafi leslie
    karen yukihiro"""
)
LAST_NAMES = _words(
    """lovelace turing hopper torvalds hamilton ritchie liskov thompson allen dijkstra perlman
    knuth johnson vanrossum lamarr stroustrup wilson gosling borg bernerslee clarke wirth
    conway mccarthy keller kernighan goldwasser lamport jones matsumoto"""
)
ADJECTIVES = _words(
    """practical gentle modern hidden simple fast robust tiny complete honest lazy async typed
    distributed resilient boring elegant surprising pragmatic functional"""
)
NOUNS = _words(
    """queues caches indexes dragons services tests migrations loaders schemas cursors workers
    pipelines closures streams locks graphs monoliths lambdas tables errors logs benchmarks
    types events"""
)
TITLE_PATTERNS = (
    "A {adj} guide to {noun}",
    "How to train your {noun}",
    "Why {noun} are {adj}",
    "{Adj} {noun} in ten minutes",
    "What I learned from {adj} {noun}",
    "Stop writing {adj} {noun}",
    "The case for {adj} {noun}",
    "Understanding {noun}",
)
# Words for sentences: common English with the technical words mixed in.
WORDS = (
    *_words(
        """the a we you it this that every one some most never always often rarely works breaks
    scales waits runs reads writes returns keeps needs shows hides counts with without before
    after under over because until while and but or so then when where how why request
    server client database page query answer batch round trip user article comment team code
    change release night morning week problem idea"""
    ),
    *ADJECTIVES,
    *NOUNS,
)
