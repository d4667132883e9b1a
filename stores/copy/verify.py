"""Both sides read in key order side by side, each record's digest compared, and a report of
what differs: records missing from the target, extra in it, and different in it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from seed.progress import Progress
from stores.copy.domains import Key, Records, describe

R = TypeVar("R")
# How many keys of each kind of difference the report names.
SHOWN = 5


@dataclass
class Tally:
    """How many keys of one kind, and the first few."""

    count: int = 0
    first: list[Key] = field(default_factory=list)

    def add(self, key: Key) -> None:
        self.count += 1
        if len(self.first) < SHOWN:
            self.first.append(key)


@dataclass
class Comparison:
    key_names: tuple[str, ...]
    in_source: int = 0
    in_target: int = 0
    missing: Tally = field(default_factory=Tally)
    extra: Tally = field(default_factory=Tally)
    differing: Tally = field(default_factory=Tally)

    @property
    def identical(self) -> bool:
        return not (self.missing.count or self.extra.count or self.differing.count)

    def report(self, domain: str) -> str:
        lines = [
            f"verified {domain}:",
            f"  records in source   {self.in_source:>12,}",
            f"  records in target   {self.in_target:>12,}",
        ]
        for label, tally in (
            ("missing in target", self.missing),
            ("extra in target", self.extra),
            ("differing", self.differing),
        ):
            first = ", ".join(describe(self.key_names, k) for k in tally.first)
            more = ", ..." if tally.count > len(tally.first) else ""
            lines.append(
                f"  {label:<19} {tally.count:>12,}" + (f"   first: {first}{more}" if first else "")
            )
        lines.append(
            "identical" if self.identical else f"the target's {domain} differ from the source's"
        )
        return "\n".join(lines)


async def compare(
    source: Records[R], target: Records[R], batch: int, progress: Progress
) -> Comparison:
    found = Comparison(source.key_names)
    theirs = _digests(source, batch)
    ours = _digests(target, batch)
    s = await anext(theirs, None)
    t = await anext(ours, None)
    while s is not None or t is not None:
        take_source = t is None or (s is not None and s[0] <= t[0])
        take_target = s is None or (t is not None and t[0] <= s[0])
        if s is not None and take_source:
            if not take_target:
                found.missing.add(s[0])
            elif t is not None and s[1] != t[1]:
                found.differing.add(s[0])
            found.in_source += 1
            progress.advance(1)
            s = await anext(theirs, None)
        if t is not None and take_target:
            if not take_source:
                found.extra.add(t[0])
            found.in_target += 1
            t = await anext(ours, None)
    progress.finish()
    return found


async def _digests(records: Records[R], batch: int) -> AsyncIterator[tuple[Key, str]]:
    after: Key | None = None
    while page := await records.dump(after, batch):
        for record in page:
            yield records.key(record), records.digest(record)
        if len(page) < batch:
            return
        after = records.key(page[-1])
