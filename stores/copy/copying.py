"""The copy itself: batches read from the source in key order and written to the target, the
state saved after each, so that a copy that stops resumes after the last batch written (and a
batch written twice does no harm: restore is idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from seed.progress import Progress
from stores.copy.domains import Records
from stores.copy.state import State

R = TypeVar("R")


async def copy(
    source: Records[R],
    target: Records[R],
    state: State,
    batch: int,
    keep: Callable[[State], None],
    progress: Progress,
) -> State:
    after = state.after_key
    while records := await source.dump(after, batch):
        await target.restore(records)
        after = source.key(records[-1])
        state = state.advanced(after, len(records))
        keep(state)
        progress.advance(len(records))
        if len(records) < batch:
            break
    progress.finish()
    state = replace(state, finished=True)
    keep(state)
    return state
