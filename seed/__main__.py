"""python -m seed [--users N] [--articles N] [--follows N] [--likes N] [--comments N] [--seed S]

Writes a realistic data set into the databases the server would use (CONDUIT_DATABASE_URL, and
CONDUIT_<DOMAIN>_URL for a domain that lives elsewhere), after bringing their schemas to the
newest version. Seed empty databases only. Users are user1@example.com, user2@example.com, ...,
all with the password given by --password.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

from auth.passwords import hash_password
from config import ConfigError, Settings
from models.errors import Conflict
from models.users import MIN_PASSWORD
from seed.arguments import at_least
from seed.data import DataSet, email_of
from seed.load import Sizes, Writing, seed
from stores.factory import OpenStores


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    users, articles = args.users, args.articles
    # The defaults stay within what distinct pairs allow (see Sizes.problems).
    sizes = Sizes(
        users=users,
        articles=articles,
        follows=min(10 * users, users * (users - 1) // 2) if args.follows is None else args.follows,
        likes=min(2 * articles, users * articles // 2) if args.likes is None else args.likes,
        comments=articles if args.comments is None else args.comments,
    )
    problems = sizes.problems()
    if len(args.password) < MIN_PASSWORD:
        problems.append(f"the password needs at least {MIN_PASSWORD} characters")
    if problems:
        print(f"conduit seed: {'; '.join(problems)}", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        open_stores = OpenStores(settings.domain_urls(), settings.db_pool)
    except ConfigError as error:
        print(f"conduit seed: configuration error: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(open_stores, sizes, args))


async def _run(open_stores: OpenStores, sizes: Sizes, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    # Times are spread over the year before today's midnight (UTC): the same seed gives the
    # same data set all day, and every time lies in the past.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        await open_stores.prepare(migrate=True)
        # One hash for every user: Argon2 is slow on purpose, and they share the password.
        password_hash = await hash_password(args.password)
        how = Writing(batch=args.batch, concurrency=args.concurrency, progress=sys.stderr)
        await seed(open_stores.stores, sizes, DataSet(args.seed, today), password_hash, how)
    except Conflict:
        print(
            "conduit seed: the databases already hold some of these users or articles; "
            "seed empty databases",
            file=sys.stderr,
        )
        return 1
    finally:
        await open_stores.close()
    print(
        f"seeded {sizes.users:,} users, {sizes.articles:,} articles, {sizes.follows:,} follows, "
        f"{sizes.likes:,} likes and {sizes.comments:,} comments in "
        f"{time.perf_counter() - started:.1f} s; sign in as {email_of(1)} (or any "
        f"user<n>@example.com) with the password {args.password!r}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seed", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    count = at_least(0)
    parser.add_argument("--users", type=count, default=100, help="default 100")
    parser.add_argument("--articles", type=count, default=1000, help="default 1000")
    parser.add_argument("--follows", type=count, help="default 10 per user")
    parser.add_argument("--likes", type=count, help="default 2 per article")
    parser.add_argument("--comments", type=count, help="default 1 per article")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same data set")
    parser.add_argument("--password", default="password123", help="every user's password")
    parser.add_argument("--batch", type=at_least(1), default=1000, help="records per write")
    parser.add_argument(
        "--concurrency",
        type=at_least(1),
        default=4,
        help="writes in flight at once (default 4; keep it within CONDUIT_DB_POOL_SIZE)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
