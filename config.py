"""Settings: every `CONDUIT_*` environment variable, read once at start into one typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///conduit.db"
DOMAINS = ("users", "articles", "likes", "comments")
# Published so that tests and the development log can say exactly which secret is in use;
# production refuses to start with it.
DEVELOPMENT_JWT_SECRET = "conduit-development-secret-do-not-use-in-production"
MIN_PRODUCTION_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Connections one worker process keeps per database, and may open beyond that while all are
# busy: workers x (pool + overflow) must stay under the server's max_connections. No overflow
# by default: a connection opened beyond the pool is closed as soon as it is returned, so a
# steady load above the pool opened and closed one every few requests (measured with 5 + 5 at
# 16 concurrent requests: one new connection per 7 requests, and 10 to 20 % more CPU each).
DEFAULT_DB_POOL_SIZE = 10
DEFAULT_DB_MAX_OVERFLOW = 0
DEFAULT_GRAPHQL_MAX_DEPTH = 10
DEFAULT_GRAPHQL_MAX_ALIASES = 30
# 20 articles with 99 comments each, or 100 with 19: more than any page a client shows.
DEFAULT_GRAPHQL_MAX_NODES = 2_000
# How long one request may run in the app, and how long its body may take to arrive, in
# seconds: past either, the request is answered (503, 408) and its work is cancelled.
DEFAULT_REQUEST_TIMEOUT_SECONDS = 10.0
# How long the request (or relay pass) that claimed an outbox entry has to send its event
# before another relay pass sends it (events/relay.py): above the request deadline, and above
# the bus's own retries.
DEFAULT_OUTBOX_LEASE_SECONDS = 30.0
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0
# Argon2 hashes one process runs at once: each takes ~0.1 s of CPU (argon2-cffi's defaults) and
# keeps a core busy, so a flood of logins beyond this queues instead of starving other requests.
DEFAULT_PASSWORD_HASH_CONCURRENCY = 1
# What the HTTP server takes from a client before the app sees its request (see http_server):
# the request head (request line and headers) within this many seconds, of at most this many
# bytes (Node's limit, and h11's) and header fields (Apache's LimitRequestFields).
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_HEADERS = 100
IN_PROCESS_BUS = "in-process"
# The trusted documents of CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS=on: the operations the project
# ships, as `python3 dev.py operations` writes them.
SHIPPED_OPERATIONS = Path(__file__).resolve().parent / "docs" / "operations" / "manifest.json"
EVENTBRIDGE_SCHEME = "eventbridge://"
# Seconds as an operator writes them: "10", "2.5"; no signs, exponents or "inf".
_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$")
# EventBridge's own rule for event bus names.
_EVENT_BUS_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")
DEFAULT_RATE_LIMIT_URL = "memory://"
DEFAULT_RATE_LIMIT_KEY_PREFIX = "conduit"
# Counter keys start with it: deployments (or test runs) sharing one Redis keep apart.
_RATE_LIMIT_KEY_PREFIX = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
RATE_LIMIT_SCHEMES = ("memory", "redis", "rediss", "dynamodb")
RATE_LIMITS_OFF = "off"
# Live comments (docs/graphql.md): where events travel between processes, and what one
# connection, and one client address in one process, may hold open.
LIVE_REDIS_SCHEMES = ("redis", "rediss")
LIVE_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
DEFAULT_LIVE_CHANNEL = "conduit.live.comments"
# PostgreSQL cuts a channel name at 63 bytes; Redis would take more.
_LIVE_CHANNEL = re.compile(r"^[A-Za-z0-9._:-]{1,63}$")
DEFAULT_LIVE_SUBSCRIPTIONS_PER_CONNECTION = 10
DEFAULT_LIVE_CONNECTIONS_PER_ADDRESS = 20


class ConfigError(ValueError):
    """The environment describes a configuration the server must not start with."""


class Environment(Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(Enum):
    TEXT = "text"  # for people: the development default
    JSON = "json"  # one object per line, for log collectors: the production default


@dataclass(frozen=True)
class PoolSize:
    """How many connections one process keeps open to each PostgreSQL database, and how many
    more it may open while every pooled one is busy."""

    size: int = DEFAULT_DB_POOL_SIZE
    max_overflow: int = DEFAULT_DB_MAX_OVERFLOW


@dataclass(frozen=True)
class HttpLimits:
    """What the HTTP server (uvicorn, with http_server's protocol) accepts of a client before
    the app sees a request. Read by the server's protocol, not by the app: Lambda has no
    sockets, and API Gateway applies its own limits there."""

    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_headers: int = DEFAULT_MAX_HEADERS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpLimits:
        get = _reader(os.environ if env is None else env)
        return cls(
            header_timeout_seconds=_seconds(
                get("HEADER_TIMEOUT_SECONDS"),
                "HEADER_TIMEOUT_SECONDS",
                DEFAULT_HEADER_TIMEOUT_SECONDS,
            ),
            max_header_bytes=_whole_number(
                get("MAX_HEADER_BYTES"), "MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES
            ),
            max_headers=_whole_number(get("MAX_HEADERS"), "MAX_HEADERS", DEFAULT_MAX_HEADERS),
        )


@dataclass(frozen=True)
class EventBridgeTarget:
    """Publish domain events to this EventBridge bus instead of handling them in process."""

    bus_name: str


@dataclass(frozen=True)
class RateLimit:
    """At most `amount` points per fixed window of `window_seconds`."""

    amount: int
    window_seconds: int


@dataclass(frozen=True)
class RateLimits:
    """Where the counters live (`url`) and each rule's budget; None turns a rule off."""

    url: str = DEFAULT_RATE_LIMIT_URL
    key_prefix: str = DEFAULT_RATE_LIMIT_KEY_PREFIX
    failed_logins_per_account: RateLimit | None = RateLimit(10, 15 * 60)
    failed_logins_per_address: RateLimit | None = RateLimit(50, 15 * 60)
    sign_ups_per_address: RateLimit | None = RateLimit(20, 3600)
    writes_per_user: RateLimit | None = RateLimit(60, 10 * 60)
    requests_per_client: RateLimit | None = RateLimit(5000, 3600)

    @classmethod
    def off(
        cls, url: str = DEFAULT_RATE_LIMIT_URL, key_prefix: str = DEFAULT_RATE_LIMIT_KEY_PREFIX
    ) -> RateLimits:
        return cls(url, key_prefix, None, None, None, None, None)


@dataclass(frozen=True)
class LiveSettings:
    """GraphQL subscriptions: `url` None, events reach the subscribers of this process only;
    a Redis or PostgreSQL URL, those of every process publishing and listening on `channel`
    there."""

    url: str | None = None
    channel: str = DEFAULT_LIVE_CHANNEL
    subscriptions_per_connection: int = DEFAULT_LIVE_SUBSCRIPTIONS_PER_CONNECTION
    connections_per_address: int = DEFAULT_LIVE_CONNECTIONS_PER_ADDRESS


# Each rule's variable, CONDUIT_RATE_LIMIT_<suffix>, by its RateLimits field.
RATE_LIMIT_VARIABLES = {
    "failed_logins_per_account": "FAILED_LOGINS_PER_ACCOUNT",
    "failed_logins_per_address": "FAILED_LOGINS_PER_ADDRESS",
    "sign_ups_per_address": "SIGN_UPS_PER_ADDRESS",
    "writes_per_user": "WRITES_PER_USER",
    "requests_per_client": "REQUESTS_PER_CLIENT",
}


@dataclass(frozen=True)
class Settings:
    environment: Environment = Environment.DEVELOPMENT
    # One database URL per domain (database-per-service); see `domain_urls`.
    database_url: str = DEFAULT_DATABASE_URL
    domain_url_overrides: Mapping[str, str] = field(default_factory=dict)
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_ttl_seconds: int = 7 * 24 * 3600
    cors_origins: tuple[str, ...] = ("*",)
    max_body_bytes: int = 1024 * 1024
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    password_hash_concurrency: int = DEFAULT_PASSWORD_HASH_CONCURRENCY
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.TEXT
    db_pool: PoolSize = field(default_factory=PoolSize)
    event_bus: EventBridgeTarget | None = None  # None: the in-process bus
    outbox_lease_seconds: float = DEFAULT_OUTBOX_LEASE_SECONDS
    # What one GraphQL operation may ask for (see schema/limits.py): field nesting, aliased
    # fields, and the connection nodes it could return, summed over a batch.
    graphql_max_depth: int = DEFAULT_GRAPHQL_MAX_DEPTH
    graphql_max_aliases: int = DEFAULT_GRAPHQL_MAX_ALIASES
    graphql_max_nodes: int = DEFAULT_GRAPHQL_MAX_NODES
    # A persisted query manifest: only its documents run (schema/persisted.py). None: any.
    graphql_trusted_documents: Path | None = None
    rate_limits: RateLimits = field(default_factory=RateLimits)
    metrics: bool = False  # Prometheus metrics at /metrics (telemetry/metrics.py)
    live: LiveSettings = field(default_factory=LiveSettings)

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def uses_development_secret(self) -> bool:
        return self.jwt_secret == DEVELOPMENT_JWT_SECRET

    def domain_urls(self) -> dict[str, str]:
        return {d: self.domain_url_overrides.get(d, self.database_url) for d in DOMAINS}

    def url_variable(self, domain: str) -> str:
        """The environment variable that gives `domain` its URL: what a message should name."""
        if domain in self.domain_url_overrides:
            return f"CONDUIT_{domain.upper()}_URL"
        return "CONDUIT_DATABASE_URL"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, signs_tokens: bool = True
    ) -> Settings:
        """`signs_tokens=False` is for processes that never sign or check a token (an event
        consumer): production's demand for a real JWT secret protects nothing there."""
        get = _reader(os.environ if env is None else env)

        raw_environment = get("ENV") or Environment.DEVELOPMENT.value
        try:
            environment = Environment(raw_environment.lower())
        except ValueError:
            allowed = ", ".join(e.value for e in Environment)
            raise ConfigError(f"CONDUIT_ENV={raw_environment!r}: use one of {allowed}") from None

        secret = get("JWT_SECRET")
        if environment is Environment.PRODUCTION and signs_tokens:
            if secret is None:
                raise ConfigError(
                    "CONDUIT_JWT_SECRET is not set: production mode refuses to start without "
                    'a real secret (generate one with: python3 -c "import secrets; '
                    'print(secrets.token_urlsafe(48))")'
                )
            if secret == DEVELOPMENT_JWT_SECRET or len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
                raise ConfigError(
                    f"CONDUIT_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_LENGTH} "
                    "characters and not the development secret in production"
                )

        overrides = {d: url for d in DOMAINS if (url := get(f"{d.upper()}_URL"))}
        origins = get("CORS_ORIGINS")
        settings = cls(
            environment=environment,
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            domain_url_overrides=overrides,
            jwt_secret=secret or DEVELOPMENT_JWT_SECRET,
            jwt_ttl_seconds=_whole_number(get("JWT_TTL_SECONDS"), "JWT_TTL_SECONDS", 7 * 24 * 3600),
            cors_origins=tuple(o.strip() for o in origins.split(",")) if origins else ("*",),
            max_body_bytes=_whole_number(get("MAX_BODY_BYTES"), "MAX_BODY_BYTES", 1024 * 1024),
            body_timeout_seconds=_seconds(
                get("BODY_TIMEOUT_SECONDS"), "BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS
            ),
            request_timeout_seconds=_seconds(
                get("REQUEST_TIMEOUT_SECONDS"),
                "REQUEST_TIMEOUT_SECONDS",
                DEFAULT_REQUEST_TIMEOUT_SECONDS,
            ),
            password_hash_concurrency=_whole_number(
                get("PASSWORD_HASH_CONCURRENCY"),
                "PASSWORD_HASH_CONCURRENCY",
                DEFAULT_PASSWORD_HASH_CONCURRENCY,
            ),
            log_level=_log_level(get("LOG_LEVEL")),
            log_format=_log_format(get("LOG_FORMAT"), environment),
            db_pool=PoolSize(
                size=_whole_number(get("DB_POOL_SIZE"), "DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE),
                max_overflow=_whole_number(
                    get("DB_MAX_OVERFLOW"), "DB_MAX_OVERFLOW", DEFAULT_DB_MAX_OVERFLOW, minimum=0
                ),
            ),
            event_bus=_event_bus(get("EVENT_BUS")),
            outbox_lease_seconds=_seconds(
                get("OUTBOX_LEASE_SECONDS"), "OUTBOX_LEASE_SECONDS", DEFAULT_OUTBOX_LEASE_SECONDS
            ),
            graphql_max_depth=_whole_number(
                get("GRAPHQL_MAX_DEPTH"), "GRAPHQL_MAX_DEPTH", DEFAULT_GRAPHQL_MAX_DEPTH
            ),
            graphql_max_aliases=_whole_number(
                get("GRAPHQL_MAX_ALIASES"),
                "GRAPHQL_MAX_ALIASES",
                DEFAULT_GRAPHQL_MAX_ALIASES,
                minimum=0,
            ),
            graphql_max_nodes=_whole_number(
                get("GRAPHQL_MAX_NODES"), "GRAPHQL_MAX_NODES", DEFAULT_GRAPHQL_MAX_NODES
            ),
            graphql_trusted_documents=_trusted_documents(get("GRAPHQL_TRUSTED_DOCUMENTS")),
            rate_limits=_rate_limits(get),
            metrics=_switch(get("METRICS"), "METRICS"),
            live=_live(get),
        )
        if settings.event_bus is not None and settings.domain_urls()["articles"].startswith(
            "sqlite"
        ):
            # SQLite hands the id of the newest article out again once it is deleted; events
            # that arrive late (through SQS) would then act on the new article.
            raise ConfigError(
                "CONDUIT_EVENT_BUS names EventBridge while the articles domain is on SQLite, "
                "which may give a new article the id of one just deleted, so that a late "
                "ArticleDeleted would remove the new article's comments and likes: keep "
                "articles on PostgreSQL or DynamoDB, or use the in-process bus"
            )
        return settings


def _switch(raw: str | None, name: str) -> bool:
    """An on/off setting, off when unset."""
    if raw is None or raw.lower() in ("off", "false", "0", "no"):
        return False
    if raw.lower() in ("on", "true", "1", "yes"):
        return True
    raise ConfigError(f"CONDUIT_{name}={raw!r}: use on or off")


def _trusted_documents(raw: str | None) -> Path | None:
    """off (the default), on for the operations the project ships, or a manifest's path."""
    if raw is None or raw.lower() == "off":
        return None
    path = SHIPPED_OPERATIONS if raw.lower() == "on" else Path(raw)
    if not path.is_file():
        raise ConfigError(
            f"CONDUIT_GRAPHQL_TRUSTED_DOCUMENTS={raw!r}: no such file {str(path)!r} "
            "(use off, on for docs/operations/manifest.json, or a manifest's path)"
        )
    return path


def _reader(source: Mapping[str, str]) -> Callable[[str], str | None]:
    """Reads `CONDUIT_<name>` from `source`: None when unset or blank."""

    def get(name: str) -> str | None:
        return source.get(f"CONDUIT_{name}", "").strip() or None

    return get


def _seconds(raw: str | None, name: str, default: float) -> float:
    if raw is None:
        return default
    if not (raw.isascii() and _SECONDS.match(raw)) or float(raw) == 0:
        raise ConfigError(f"CONDUIT_{name}={raw!r}: expected a positive number of seconds")
    return float(raw)


def _whole_number(raw: str | None, name: str, default: int, minimum: int = 1) -> int:
    if raw is None:
        return default
    # isascii: str.isdigit() also accepts digits int() refuses, such as "²".
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum:
        expected = (
            "a positive whole number" if minimum == 1 else f"a whole number, {minimum} or more"
        )
        raise ConfigError(f"CONDUIT_{name}={raw!r}: expected {expected}")
    return int(raw)


def _event_bus(raw: str | None) -> EventBridgeTarget | None:
    if raw is None or raw.lower() == IN_PROCESS_BUS:
        return None
    name = raw.removeprefix(EVENTBRIDGE_SCHEME)
    if name == raw or not _EVENT_BUS_NAME.match(name):
        raise ConfigError(
            f"CONDUIT_EVENT_BUS={raw!r}: use {IN_PROCESS_BUS} or {EVENTBRIDGE_SCHEME}BUS_NAME, "
            "where BUS_NAME is 1 to 256 letters, digits, '.', '-', '_' or '/'"
        )
    return EventBridgeTarget(name)


def _rate_limits(get: Callable[[str], str | None]) -> RateLimits:
    url = _rate_limit_url(get("RATE_LIMIT_URL"))
    prefix = get("RATE_LIMIT_KEY_PREFIX") or DEFAULT_RATE_LIMIT_KEY_PREFIX
    if not _RATE_LIMIT_KEY_PREFIX.match(prefix):
        raise ConfigError(
            f"CONDUIT_RATE_LIMIT_KEY_PREFIX={prefix!r}: use 1 to 64 letters, digits, "
            "'.', '_', ':' or '-'"
        )
    switch = get("RATE_LIMITS")
    if switch is not None:
        if switch.lower() != RATE_LIMITS_OFF:
            raise ConfigError(
                f"CONDUIT_RATE_LIMITS={switch!r}: use {RATE_LIMITS_OFF} to turn every rate "
                "limit off, or leave it unset"
            )
        return RateLimits.off(url, prefix)
    defaults = RateLimits()
    rules = {
        name: _rate_limit(get(f"RATE_LIMIT_{suffix}"), suffix, getattr(defaults, name))
        for name, suffix in RATE_LIMIT_VARIABLES.items()
    }
    return RateLimits(url=url, key_prefix=prefix, **rules)


def _rate_limit_url(raw: str | None) -> str:
    """The counters' store. The URL is never echoed back: a Redis URL may hold a password."""
    if raw is None:
        return DEFAULT_RATE_LIMIT_URL
    parts = urlsplit(raw)
    if parts.scheme not in RATE_LIMIT_SCHEMES or "://" not in raw:
        raise ConfigError(
            f"CONDUIT_RATE_LIMIT_URL has the scheme {parts.scheme!r}: use memory://, "
            "redis://HOST:PORT/DB (rediss:// for TLS) or dynamodb://TABLE"
        )
    if parts.scheme.startswith("redis") and not _is_redis_address(raw):
        raise ConfigError(
            "CONDUIT_RATE_LIMIT_URL: a Redis URL needs a host, a numeric port if any, and at "
            "most a database number, as in redis://HOST:PORT/DB"
        )
    if parts.scheme == "dynamodb":
        from stores.dynamodb.urls import table_name  # imports this module: not at the top

        try:
            table_name("rate limit", raw)
        except ConfigError as error:
            raise ConfigError(f"CONDUIT_RATE_LIMIT_URL: {error}") from None
    return raw


def _live(get: Callable[[str], str | None]) -> LiveSettings:
    url = get("LIVE_URL")
    if url is not None and url.lower() == IN_PROCESS_BUS:
        url = None
    # The URL is never echoed back: it may hold a password.
    if url is not None and not _is_live_address(url):
        raise ConfigError(
            f"CONDUIT_LIVE_URL: use {IN_PROCESS_BUS} (the default), redis://HOST:PORT/DB "
            "(rediss:// for TLS) or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    channel = get("LIVE_CHANNEL") or DEFAULT_LIVE_CHANNEL
    if not _LIVE_CHANNEL.match(channel):
        raise ConfigError(
            f"CONDUIT_LIVE_CHANNEL={channel!r}: use 1 to 63 letters, digits, '.', '_', ':' or '-'"
        )
    return LiveSettings(
        url=url,
        channel=channel,
        subscriptions_per_connection=_whole_number(
            get("LIVE_SUBSCRIPTIONS_PER_CONNECTION"),
            "LIVE_SUBSCRIPTIONS_PER_CONNECTION",
            DEFAULT_LIVE_SUBSCRIPTIONS_PER_CONNECTION,
        ),
        connections_per_address=_whole_number(
            get("LIVE_CONNECTIONS_PER_ADDRESS"),
            "LIVE_CONNECTIONS_PER_ADDRESS",
            DEFAULT_LIVE_CONNECTIONS_PER_ADDRESS,
        ),
    )


def _is_live_address(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LIVE_REDIS_SCHEMES:
        return _is_redis_address(url)
    return parts.scheme in LIVE_POSTGRES_SCHEMES and bool(parts.hostname)


def _is_redis_address(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        return False
    return bool(parts.hostname) and (parts.path.strip("/") or "0").isdigit()


def _rate_limit(raw: str | None, suffix: str, default: RateLimit | None) -> RateLimit | None:
    if raw is None:
        return default
    if raw.lower() == RATE_LIMITS_OFF:
        return None
    # Imported here: `limits` takes ~90 ms to import, and a Lambda's init phase imports this.
    import limits

    try:
        [item] = limits.parse_many(raw)
    except ValueError:
        item = None
    if item is None or item.amount < 1:
        raise ConfigError(
            f"CONDUIT_RATE_LIMIT_{suffix}={raw!r}: expected AMOUNT/PERIOD such as "
            f"'10/15 minutes' or '5000/hour' (AMOUNT at least 1), or {RATE_LIMITS_OFF}"
        )
    return RateLimit(item.amount, item.get_expiry())


def _log_level(raw: str | None) -> str:
    level = (raw or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"CONDUIT_LOG_LEVEL={raw!r}: use one of {', '.join(LOG_LEVELS)}")
    return level


def _log_format(raw: str | None, environment: Environment) -> LogFormat:
    if raw is None:
        return LogFormat.JSON if environment is Environment.PRODUCTION else LogFormat.TEXT
    try:
        return LogFormat(raw.lower())
    except ValueError:
        allowed = ", ".join(f.value for f in LogFormat)
        raise ConfigError(f"CONDUIT_LOG_FORMAT={raw!r}: use one of {allowed}") from None
