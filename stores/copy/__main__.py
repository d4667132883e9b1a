"""python -m stores.copy DOMAIN --from URL --to URL [--batch N] [--state FILE] [--verify-only]

Copies one domain's records (users with their follows, articles with their tags, likes, or
comments) from the store at --from to the store at --to, then verifies that both hold the same
records. The target's schema is brought up to date first; the source is only read. Progress is
kept in the state file after every batch: a copy that stops resumes where it stopped when run
again, and a run after a finished copy makes a new pass that picks up what changed since.

Exit status: 0 both sides identical, 1 they differ, 2 bad arguments or configuration,
3 the copy or the verification could not finish (run again to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

from config import DOMAINS, ConfigError
from models.errors import Conflict
from seed.arguments import at_least
from stores.copy import state as states
from stores.copy.copying import copy
from stores.copy.domains import DOMAINS as RECORDS
from stores.copy.domains import describe
from stores.copy.progress import progress
from stores.copy.urls import missing_sqlite_file, place, shown
from stores.copy.verify import compare
from stores.dynamodb.backend import TablesNotReady
from stores.errors import StoreUnavailable
from stores.factory import OpenStores, check_store_url
from stores.sql.versioning import SchemaNotCurrent

IDENTICAL, DIFFERENT, BAD_USE, UNFINISHED = 0, 1, 2, 3
PROG = "python -m stores.copy"


@dataclass(frozen=True)
class Plan:
    domain: str
    source: OpenStores
    target: OpenStores
    source_url: str
    target_url: str
    batch: int
    state_file: Path
    verify_only: bool


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        plan = _plan(args)
    except ConfigError as error:
        return _fail(str(error), BAD_USE)
    return asyncio.run(_run(plan))


def _plan(args: argparse.Namespace) -> Plan:
    domain: str = args.domain
    urls = {"--from": args.source, "--to": args.target}
    for option, url in urls.items():
        check_store_url(domain, url, option)
    if place(args.source) == place(args.target):
        raise ConfigError("--from and --to name the same store: copy to another one")
    missing = missing_sqlite_file(args.source)
    if missing is not None:
        raise ConfigError(f"--from: there is no SQLite database at {missing}")
    return Plan(
        domain=domain,
        source=OpenStores({domain: args.source}),
        target=OpenStores({domain: args.target}),
        source_url=shown(args.source),
        target_url=shown(args.target),
        batch=args.batch,
        state_file=args.state or Path(f".copy-{domain}.json"),
        verify_only=args.verify_only,
    )


async def _run(plan: Plan) -> int:
    try:
        return await _copy_and_verify(plan)
    except states.StateMismatch as error:
        return _fail(str(error), BAD_USE)
    except (SchemaNotCurrent, TablesNotReady) as error:
        return _fail(f"a store is not ready: {error}", BAD_USE)
    except (StoreUnavailable, OSError) as error:
        # OSError: a database refusing connections while its schema is checked, before any
        # store wraps it, or the state file that cannot be written.
        return _fail(f"could not finish ({error}); run again to resume", UNFINISHED)
    except Conflict as error:
        return _fail(
            f"the target holds a unique value ({error}) under another key than the source's: "
            "it has records of its own; copy into an empty target",
            UNFINISHED,
        )
    finally:
        await plan.source.close()
        await plan.target.close()


async def _copy_and_verify(plan: Plan) -> int:
    fresh = states.State(plan.domain, plan.source_url, plan.target_url)
    state = fresh if plan.verify_only else states.load(plan.state_file, fresh)
    await plan.source.prepare(migrate=False)
    # Verifying only reads: the target must be there already.
    await plan.target.prepare(migrate=not plan.verify_only)
    source = RECORDS[plan.domain](plan.source)
    target = RECORDS[plan.domain](plan.target)
    total = None if source.count is None else await source.count()
    if not plan.verify_only:
        if state.after_key is not None:
            print(
                f"resuming after {describe(source.key_names, state.after_key)} "
                f"({state.copied:,} {plan.domain} copied before)",
                file=sys.stderr,
            )
        state = await copy(
            source,
            target,
            state,
            plan.batch,
            keep=lambda s: states.save(plan.state_file, s),
            progress=progress(
                "copy", None if total is None else max(total - state.copied, 0), sys.stderr
            ),
        )
        print(
            f"copied {plan.domain} from {plan.source_url} to {plan.target_url}: "
            f"{state.copied:,} records in {state.batches:,} batches",
        )
    comparison = await compare(source, target, plan.batch, progress("verify", total, sys.stderr))
    print(comparison.report(plan.domain))
    return IDENTICAL if comparison.identical else DIFFERENT


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("domain", choices=DOMAINS, metavar="DOMAIN", help=", ".join(DOMAINS))
    parser.add_argument("--from", dest="source", required=True, metavar="URL")
    parser.add_argument("--to", dest="target", required=True, metavar="URL")
    parser.add_argument(
        "--batch", type=at_least(1), default=500, help="records per read and write (500)"
    )
    parser.add_argument(
        "--state", type=Path, metavar="FILE", help="progress file (.copy-DOMAIN.json here)"
    )
    parser.add_argument(
        "--verify-only", action="store_true", help="compare both sides, copy nothing"
    )
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
