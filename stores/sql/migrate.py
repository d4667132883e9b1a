"""Schema migrations for the configured databases, every domain's or one domain's:

    python -m stores.sql.migrate upgrade [--domain D] [--to REVISION]    (default: head)
    python -m stores.sql.migrate downgrade --to REVISION [--domain D]    (base: no tables)
    python -m stores.sql.migrate current [--domain D]    (exit status 1 unless all at head)
    python -m stores.sql.migrate revision --domain D -m MESSAGE [--autogenerate]

The databases are the server's: CONDUIT_DATABASE_URL, and CONDUIT_<DOMAIN>_URL for a domain that
lives elsewhere, read by `config.Settings.from_env` exactly as the server reads them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from config import DOMAINS, ConfigError, Settings
from stores.factory import check_sql_url
from stores.sql import versioning
from stores.sql.backend import SqlBackend


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if getattr(args, "to", "head") not in ("head", "base") and not args.domain:
        parser.error("--to REVISION needs --domain: each revision belongs to one domain")
    try:
        urls = Settings.from_env().domain_urls()
        for domain, url in urls.items():
            check_sql_url(domain, url)
    except ConfigError as error:
        print(f"conduit: configuration error: {error}", file=sys.stderr)
        return 2
    domains = [args.domain] if args.domain else list(DOMAINS)
    # Alembic reports each step it runs ("Running upgrade ... -> articles_0002, ...") at INFO.
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return asyncio.run(_run(args, {d: urls[d] for d in domains}))


async def _run(args: argparse.Namespace, urls: dict[str, str]) -> int:
    backend = SqlBackend(urls)
    try:
        for domain in urls:
            engine = backend.engine(domain)
            if args.command == "upgrade":
                await versioning.upgrade(engine, domain, args.to)
            elif args.command == "downgrade":
                await versioning.downgrade(engine, domain, args.to)
            elif args.command == "revision":
                await versioning.run(engine, domain, _revision(domain, args))
        all_at_head = await _report(backend, list(urls))
        return 0 if all_at_head or args.command != "current" else 1
    finally:
        await backend.close()


def _revision(domain: str, args: argparse.Namespace) -> versioning.Action:
    def write(config: Config) -> None:
        # Ids name their domain and count up (articles_0002), so a version table reads plainly.
        known = list(ScriptDirectory.from_config(config).walk_revisions())
        rev_id = f"{domain}_{len(known) + 1:04d}"
        command.revision(config, args.message, autogenerate=args.autogenerate, rev_id=rev_id)

    return write


async def _report(backend: SqlBackend, domains: list[str]) -> bool:
    """Print where each database is; whether all are at head."""
    found = {d: await versioning.versions(backend.engine(d), d) for d in domains}
    for domain, where in found.items():
        print(f"{domain}: {where}")
    return all(where.at_head for where in found.values())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stores.sql.migrate",
        description="Apply or inspect the schema migrations of the configured databases.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="migrate to the latest revision (or --to)")
    upgrade.add_argument("--to", default="head", metavar="REVISION")
    downgrade = commands.add_parser("downgrade", help="migrate back to --to (base: empty)")
    downgrade.add_argument("--to", required=True, metavar="REVISION")
    commands.add_parser("current", help="show each database's revision")
    revision = commands.add_parser("revision", help="write a new revision for one domain")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument(
        "--autogenerate", action="store_true", help="from the difference to stores/sql/tables.py"
    )
    for sub in (upgrade, downgrade, commands.choices["current"], revision):
        sub.add_argument(
            "--domain", choices=DOMAINS, required=sub is revision, help="default: every domain"
        )
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
