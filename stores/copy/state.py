"""Where a copy stands, in a small JSON file rewritten after every batch, so that a copy that
stops (a crash, a lost connection, Ctrl-C) resumes after the last batch it wrote."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from stores.copy.domains import Key


class StateMismatch(ValueError):
    """The state file belongs to another copy (another domain, source or target)."""


@dataclass(frozen=True)
class State:
    domain: str
    source: str
    target: str
    # The key of the last record written, None before the first batch.
    after: list[int] | None = None
    copied: int = 0
    batches: int = 0
    # Whether the last pass reached the end; a run after a finished pass starts a new one (a
    # catch-up pass picks up records changed since), after an unfinished one it resumes.
    finished: bool = False

    @property
    def after_key(self) -> Key | None:
        return None if self.after is None else tuple(self.after)

    def advanced(self, key: Key, records: int) -> State:
        return replace(
            self, after=list(key), copied=self.copied + records, batches=self.batches + 1
        )


def load(path: Path, fresh: State) -> State:
    """The state to go on from: the file's if it holds an unfinished pass of this same copy,
    else `fresh`. Raise StateMismatch when the file is another copy's."""
    try:
        found = State(**json.loads(path.read_text()))
    except FileNotFoundError:
        return fresh
    except (ValueError, TypeError) as error:
        raise StateMismatch(f"{path} is not a copy state file ({error})") from None
    if (found.domain, found.source, found.target) != (fresh.domain, fresh.source, fresh.target):
        raise StateMismatch(
            f"{path} belongs to a copy of {found.domain} from {found.source} to {found.target}: "
            "name another file with --state, or remove it"
        )
    return fresh if found.finished else found


def save(path: Path, state: State) -> None:
    """Replace the file in one step: a crash leaves the old state or the new, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(asdict(state), file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
