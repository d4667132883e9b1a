"""Settings come from `CONDUIT_*` variables, read once; a bad configuration stops the server
at start with one clear line, never a traceback and never a silent fallback."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.pool import QueuePool

from app import create_app
from config import (
    DEFAULT_DATABASE_URL,
    DEVELOPMENT_JWT_SECRET,
    DOMAINS,
    MIN_PRODUCTION_SECRET_LENGTH,
    ConfigError,
    Environment,
    EventBridgeTarget,
    HttpLimits,
    LiveSettings,
    LogFormat,
    PoolSize,
    RateLimit,
    RateLimits,
    Settings,
)
from stores.factory import OpenStores
from stores.sql.backend import SqlBackend
from tests.conftest import run_python

GOOD_SECRET = "s" * MIN_PRODUCTION_SECRET_LENGTH


def test_defaults_are_embedded_development() -> None:
    settings = Settings.from_env({})
    assert settings.environment is Environment.DEVELOPMENT
    assert not settings.is_production
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///conduit.db"
    assert settings.domain_urls() == dict.fromkeys(DOMAINS, DEFAULT_DATABASE_URL)
    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET
    assert settings.uses_development_secret
    assert settings.jwt_ttl_seconds == 7 * 24 * 3600
    assert settings.cors_origins == ("*",)
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.log_level == "INFO"
    assert settings.request_timeout_seconds == 10
    assert settings.body_timeout_seconds == 10
    assert settings.password_hash_concurrency == 1
    assert Settings.from_env({}) == Settings()


def test_unrelated_and_blank_variables_are_ignored() -> None:
    env = {"DATABASE_URL": "postgresql://elsewhere/db", "CONDUIT_JWT_TTL_SECONDS": "  "}
    assert Settings.from_env(env) == Settings()


def test_reads_os_environ_when_given_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUIT_JWT_TTL_SECONDS", "60")
    assert Settings.from_env().jwt_ttl_seconds == 60


def test_every_value_can_be_set() -> None:
    settings = Settings.from_env(
        {
            "CONDUIT_ENV": "Production",
            "CONDUIT_JWT_SECRET": GOOD_SECRET,
            "CONDUIT_DATABASE_URL": "sqlite+aiosqlite:///all.db",
            "CONDUIT_JWT_TTL_SECONDS": "3600",
            "CONDUIT_MAX_BODY_BYTES": "2048",
            "CONDUIT_CORS_ORIGINS": "https://a.example, https://b.example",
            "CONDUIT_LOG_LEVEL": "debug",
            "CONDUIT_REQUEST_TIMEOUT_SECONDS": "2.5",
            "CONDUIT_BODY_TIMEOUT_SECONDS": "30",
            "CONDUIT_PASSWORD_HASH_CONCURRENCY": "2",
            "CONDUIT_OUTBOX_LEASE_SECONDS": "45",
        }
    )
    assert settings.is_production
    assert settings.jwt_secret == GOOD_SECRET
    assert not settings.uses_development_secret
    assert settings.domain_urls() == dict.fromkeys(DOMAINS, "sqlite+aiosqlite:///all.db")
    assert settings.jwt_ttl_seconds == 3600
    assert settings.max_body_bytes == 2048
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.log_level == "DEBUG"
    assert settings.request_timeout_seconds == 2.5
    assert settings.body_timeout_seconds == 30
    assert settings.password_hash_concurrency == 2
    assert settings.outbox_lease_seconds == 45


def test_a_secret_outside_production_replaces_the_development_one() -> None:
    settings = Settings.from_env({"CONDUIT_JWT_SECRET": "short but fine in development"})
    assert settings.jwt_secret == "short but fine in development"
    assert not settings.uses_development_secret


def test_production_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="CONDUIT_JWT_SECRET is not set") as raised:
        Settings.from_env({"CONDUIT_ENV": "production"})
    assert "production" in str(raised.value)
    assert "secrets.token_urlsafe" in str(raised.value)  # says how to make one


@pytest.mark.parametrize(
    "secret", ["x" * (MIN_PRODUCTION_SECRET_LENGTH - 1), "short", DEVELOPMENT_JWT_SECRET]
)
def test_production_with_a_weak_secret_refuses_to_start(secret: str) -> None:
    with pytest.raises(ConfigError, match="CONDUIT_JWT_SECRET") as raised:
        Settings.from_env({"CONDUIT_ENV": "production", "CONDUIT_JWT_SECRET": secret})
    assert f"at least {MIN_PRODUCTION_SECRET_LENGTH} characters" in str(raised.value)
    assert secret not in str(raised.value)  # a secret never reaches a log


def test_production_with_a_real_secret_starts() -> None:
    settings = Settings.from_env({"CONDUIT_ENV": "production", "CONDUIT_JWT_SECRET": GOOD_SECRET})
    assert settings.is_production
    assert settings.jwt_secret == GOOD_SECRET


@pytest.mark.parametrize("value", ["staging", "prod", "dev", "PRODUCTION!"])
def test_an_unknown_environment_refuses_to_start(value: str) -> None:
    with pytest.raises(ConfigError, match="CONDUIT_ENV") as raised:
        Settings.from_env({"CONDUIT_ENV": value})
    assert "development, production" in str(raised.value)
    assert repr(value) in str(raised.value)


def test_per_domain_urls_override_the_shared_one() -> None:
    settings = Settings.from_env(
        {
            "CONDUIT_DATABASE_URL": "sqlite+aiosqlite:///shared.db",
            "CONDUIT_ARTICLES_URL": "sqlite+aiosqlite:///articles.db",
            "CONDUIT_LIKES_URL": " sqlite+aiosqlite:///likes.db ",
            "CONDUIT_COMMENTS_URL": "",
        }
    )
    assert settings.domain_urls() == {
        "users": "sqlite+aiosqlite:///shared.db",
        "articles": "sqlite+aiosqlite:///articles.db",
        "likes": "sqlite+aiosqlite:///likes.db",
        "comments": "sqlite+aiosqlite:///shared.db",
    }


def test_per_domain_urls_override_the_default() -> None:
    settings = Settings.from_env({"CONDUIT_USERS_URL": "sqlite+aiosqlite:///users.db"})
    urls = settings.domain_urls()
    assert urls["users"] == "sqlite+aiosqlite:///users.db"
    assert {urls[d] for d in DOMAINS if d != "users"} == {DEFAULT_DATABASE_URL}


@pytest.mark.parametrize("name", ["JWT_TTL_SECONDS", "MAX_BODY_BYTES", "PASSWORD_HASH_CONCURRENCY"])
@pytest.mark.parametrize("value", ["0", "00", "-5", "abc", "1.5", "1e6", "+5", "1_000", "²", "١٢"])
def test_a_bad_positive_int_refuses_to_start(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"CONDUIT_{name}") as raised:
        Settings.from_env({f"CONDUIT_{name}": value})
    assert "positive whole number" in str(raised.value)


@pytest.mark.parametrize(
    "name", ["REQUEST_TIMEOUT_SECONDS", "BODY_TIMEOUT_SECONDS", "OUTBOX_LEASE_SECONDS"]
)
@pytest.mark.parametrize(
    "value", ["0", "0.0", "-1", "abc", "1e3", "inf", "nan", ".5", "5.", "+5", "1_0", "²"]
)
def test_a_bad_number_of_seconds_refuses_to_start(name: str, value: str) -> None:
    expected = re.escape(f"CONDUIT_{name}={value!r}: expected a positive number of seconds")
    with pytest.raises(ConfigError, match=expected):
        Settings.from_env({f"CONDUIT_{name}": value})


def test_the_http_servers_limits_default_to_10_s_16_kib_and_100_headers() -> None:
    assert HttpLimits.from_env({}) == HttpLimits(10, 16 * 1024, 100)
    env = {
        "CONDUIT_HEADER_TIMEOUT_SECONDS": "0.5",
        "CONDUIT_MAX_HEADER_BYTES": "8192",
        "CONDUIT_MAX_HEADERS": "20",
    }
    assert HttpLimits.from_env(env) == HttpLimits(0.5, 8192, 20)
    with pytest.raises(ConfigError, match="CONDUIT_HEADER_TIMEOUT_SECONDS='0': expected"):
        HttpLimits.from_env({"CONDUIT_HEADER_TIMEOUT_SECONDS": "0"})
    with pytest.raises(ConfigError, match="CONDUIT_MAX_HEADERS='0': expected a positive"):
        HttpLimits.from_env({"CONDUIT_MAX_HEADERS": "0"})
    with pytest.raises(ConfigError, match=r"CONDUIT_MAX_HEADER_BYTES='1\.5': expected a positive"):
        HttpLimits.from_env({"CONDUIT_MAX_HEADER_BYTES": "1.5"})


@pytest.mark.parametrize("value", ["LOUD", "info!", "10"])
def test_an_unknown_log_level_refuses_to_start(value: str) -> None:
    with pytest.raises(ConfigError, match="CONDUIT_LOG_LEVEL"):
        Settings.from_env({"CONDUIT_LOG_LEVEL": value})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x", "unsupported scheme 'mysql'"),
        ("mongodb://db.example/conduit", "unsupported scheme 'mongodb'"),
        ("garbage", "not a database URL"),
        ("sqlite+aiosqlite", "not a database URL"),
        ("sqlite:///x.db", "not an asyncio driver"),
        ("postgresql://u:hunter2@db.example/conduit", "not an asyncio driver"),
        ("sqlite+nope:///x.db", "unknown driver"),
    ],
)
def test_a_store_url_no_store_can_open_is_a_config_error(url: str, message: str) -> None:
    settings = Settings.from_env({"CONDUIT_ARTICLES_URL": url})
    with pytest.raises(ConfigError, match="the articles store URL") as raised:
        create_app(settings)
    assert message in str(raised.value)
    assert "sqlite+aiosqlite:///FILE" in str(raised.value)  # says what would work
    assert "hunter2" not in str(raised.value)  # a URL's password never reaches a log


def test_every_supported_sql_url_opens(tmp_path: Path) -> None:
    OpenStores({d: f"sqlite+aiosqlite:///{tmp_path}/{d}.db" for d in DOMAINS})


def run_import_app(env_changes: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python("-c", "import app", env=env_changes)


def test_the_server_refuses_production_without_a_secret_cleanly() -> None:
    result = run_import_app({"CONDUIT_ENV": "production"})
    assert result.returncode != 0
    assert "CONDUIT_JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_the_server_refuses_an_unsupported_store_url_cleanly() -> None:
    result = run_import_app({"CONDUIT_ARTICLES_URL": "mysql://x"})
    assert result.returncode != 0
    assert "the articles store URL has the unsupported scheme 'mysql'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_server_starts_with_a_good_production_configuration(tmp_path: Path) -> None:
    result = run_import_app(
        {
            "CONDUIT_ENV": "production",
            "CONDUIT_JWT_SECRET": GOOD_SECRET,
            "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/conduit.db",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_logs_are_json_in_production_and_text_otherwise_unless_chosen() -> None:
    secret = {"CONDUIT_JWT_SECRET": GOOD_SECRET}
    assert Settings.from_env({}).log_format is LogFormat.TEXT
    assert Settings.from_env({"CONDUIT_ENV": "production", **secret}).log_format is LogFormat.JSON
    chosen = {"CONDUIT_ENV": "production", "CONDUIT_LOG_FORMAT": "Text", **secret}
    assert Settings.from_env(chosen).log_format is LogFormat.TEXT
    assert Settings.from_env({"CONDUIT_LOG_FORMAT": "json"}).log_format is LogFormat.JSON
    with pytest.raises(ConfigError, match="CONDUIT_LOG_FORMAT='yaml': use one of text, json"):
        Settings.from_env({"CONDUIT_LOG_FORMAT": "yaml"})


def test_pool_sizes_default_to_ten_without_overflow() -> None:
    assert Settings.from_env({}).db_pool == PoolSize(size=10, max_overflow=0)
    env = {"CONDUIT_DB_POOL_SIZE": "12", "CONDUIT_DB_MAX_OVERFLOW": "3"}
    assert Settings.from_env(env).db_pool == PoolSize(size=12, max_overflow=3)
    assert Settings.from_env({"CONDUIT_DB_MAX_OVERFLOW": "0"}).db_pool.max_overflow == 0
    with pytest.raises(ConfigError, match="CONDUIT_DB_POOL_SIZE='0': expected a positive"):
        Settings.from_env({"CONDUIT_DB_POOL_SIZE": "0"})
    with pytest.raises(
        ConfigError, match="CONDUIT_DB_MAX_OVERFLOW='-1': expected a whole number, 0"
    ):
        Settings.from_env({"CONDUIT_DB_MAX_OVERFLOW": "-1"})


def test_pool_sizes_reach_every_postgresql_engine() -> None:
    urls = {"users": "postgresql+asyncpg://conduit@db.example/users"}  # never connected to
    pool = SqlBackend(urls, PoolSize(size=3, max_overflow=1)).engine("users").pool
    assert isinstance(pool, QueuePool)
    assert pool.size() == 3
    assert pool._max_overflow == 1  # QueuePool has no public reader for it


def test_events_are_handled_in_process_unless_an_eventbridge_bus_is_named() -> None:
    assert Settings.from_env({}).event_bus is None
    assert Settings.from_env({"CONDUIT_EVENT_BUS": "In-Process"}).event_bus is None
    named = Settings.from_env(
        {
            "CONDUIT_EVENT_BUS": " eventbridge://conduit-prod_events.v2 ",
            "CONDUIT_ARTICLES_URL": "dynamodb://conduit-articles",
        }
    )
    assert named.event_bus == EventBridgeTarget("conduit-prod_events.v2")


@pytest.mark.parametrize(
    "value",
    [
        "kafka://events",
        "eventbridge://",
        "eventbridge:/conduit",
        "EventBridge://conduit",
        "eventbridge://two words",
        "eventbridge://arn:aws:events:us-east-1:123456789012:event-bus/conduit",
        "eventbridge://" + "b" * 257,
        "in_process",
    ],
)
def test_an_unknown_event_bus_refuses_to_start(value: str) -> None:
    with pytest.raises(ConfigError, match="CONDUIT_EVENT_BUS") as raised:
        Settings.from_env({"CONDUIT_EVENT_BUS": value})
    assert "use in-process or eventbridge://BUS_NAME" in str(raised.value)


def test_a_process_that_signs_no_tokens_needs_no_secret_in_production() -> None:
    production = {"CONDUIT_ENV": "production"}
    with pytest.raises(ConfigError, match="CONDUIT_JWT_SECRET is not set"):
        Settings.from_env(production)
    assert Settings.from_env(production, signs_tokens=False).is_production
    with pytest.raises(ConfigError, match="CONDUIT_LOG_LEVEL"):
        Settings.from_env({**production, "CONDUIT_LOG_LEVEL": "LOUD"}, signs_tokens=False)


def test_eventbridge_with_articles_on_sqlite_is_refused() -> None:
    bus = {"CONDUIT_EVENT_BUS": "eventbridge://conduit-events"}
    with pytest.raises(ConfigError, match="articles domain is on SQLite"):
        Settings.from_env(bus)  # the embedded default: every domain in conduit.db
    on_dynamodb = Settings.from_env({**bus, "CONDUIT_ARTICLES_URL": "dynamodb://articles"})
    assert on_dynamodb.event_bus is not None
    assert Settings.from_env({"CONDUIT_EVENT_BUS": "in-process"}).event_bus is None


def test_rate_limits_default_to_production_budgets_counted_in_memory() -> None:
    assert Settings.from_env({}).rate_limits == RateLimits(
        url="memory://",
        key_prefix="conduit",
        failed_logins_per_account=RateLimit(10, 15 * 60),
        failed_logins_per_address=RateLimit(50, 15 * 60),
        sign_ups_per_address=RateLimit(20, 3600),
        writes_per_user=RateLimit(60, 10 * 60),
        requests_per_client=RateLimit(5000, 3600),
    )


def test_every_rate_limit_can_be_set_or_turned_off() -> None:
    limits = Settings.from_env(
        {
            "CONDUIT_RATE_LIMIT_URL": "redis://cache.internal:6380/2",
            "CONDUIT_RATE_LIMIT_KEY_PREFIX": "staging",
            "CONDUIT_RATE_LIMIT_FAILED_LOGINS_PER_ACCOUNT": "5/10 minutes",
            "CONDUIT_RATE_LIMIT_FAILED_LOGINS_PER_ADDRESS": "off",
            "CONDUIT_RATE_LIMIT_SIGN_UPS_PER_ADDRESS": "3 per day",
            "CONDUIT_RATE_LIMIT_WRITES_PER_USER": "100/hour",
            "CONDUIT_RATE_LIMIT_REQUESTS_PER_CLIENT": "OFF",
        }
    ).rate_limits
    assert limits == RateLimits(
        "redis://cache.internal:6380/2",
        "staging",
        RateLimit(5, 600),
        None,
        RateLimit(3, 86400),
        RateLimit(100, 3600),
        None,
    )
    assert Settings.from_env({"CONDUIT_RATE_LIMIT_URL": "dynamodb://conduit-rate-limits"})
    assert Settings.from_env({"CONDUIT_RATE_LIMITS": "off"}).rate_limits == RateLimits.off()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RATE_LIMIT_URL", "memcached://cache:11211", "use memory://, redis://HOST:PORT/DB"),
        ("RATE_LIMIT_URL", "localhost:6379", "use memory://, redis://HOST:PORT/DB"),
        ("RATE_LIMIT_URL", "redis://:hunter2@/0", "a Redis URL needs a host"),
        ("RATE_LIMIT_URL", "redis://:hunter2@cache:port/0", "a numeric port"),
        ("RATE_LIMIT_URL", "rediss://:hunter2@cache:6379/first", "at most a database number"),
        ("RATE_LIMIT_URL", "dynamodb://x", "names no valid DynamoDB table"),
        ("RATE_LIMIT_KEY_PREFIX", "has space", "1 to 64 letters"),
        ("RATE_LIMITS", "on", "use off to turn every rate limit off"),
        ("RATE_LIMIT_WRITES_PER_USER", "60", "expected AMOUNT/PERIOD"),
        ("RATE_LIMIT_WRITES_PER_USER", "0/hour", "AMOUNT at least 1"),
        ("RATE_LIMIT_WRITES_PER_USER", "ten/hour", "expected AMOUNT/PERIOD"),
        ("RATE_LIMIT_REQUESTS_PER_CLIENT", "5/hour;10/day", "expected AMOUNT/PERIOD"),
        ("RATE_LIMIT_FAILED_LOGINS_PER_ACCOUNT", "10/fortnight", "expected AMOUNT/PERIOD"),
    ],
)
def test_a_bad_rate_limit_setting_refuses_to_start(name: str, value: str, message: str) -> None:
    _refuses_to_start(name, value, message)


def _refuses_to_start(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"CONDUIT_{name}") as raised:
        Settings.from_env({f"CONDUIT_{name}": value})
    assert message in str(raised.value)
    assert "hunter2" not in str(raised.value)  # a URL's password never reaches a log


def test_live_comments_default_to_in_process_with_their_limits() -> None:
    assert Settings.from_env({}).live == LiveSettings(None, "conduit.live.comments", 10, 20)
    assert Settings.from_env({"CONDUIT_LIVE_URL": "in-process"}).live.url is None
    live = Settings.from_env(
        {
            "CONDUIT_LIVE_URL": "rediss://:secret@cache.internal:6380/1",  # TLS
            "CONDUIT_LIVE_CHANNEL": "staging:comments",
            "CONDUIT_LIVE_SUBSCRIPTIONS_PER_CONNECTION": "3",
            "CONDUIT_LIVE_CONNECTIONS_PER_ADDRESS": "100",
        }
    ).live
    url = "rediss://:secret@cache.internal:6380/1"
    assert live == LiveSettings(url, "staging:comments", 3, 100)
    on_postgres = Settings.from_env({"CONDUIT_LIVE_URL": "postgresql://u:p@db:5432/conduit"})
    assert on_postgres.live.url == "postgresql://u:p@db:5432/conduit"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LIVE_URL", "amqp://broker/", "use in-process (the default), redis://"),
        ("LIVE_URL", "redis://:hunter2@/0", "use in-process (the default), redis://"),
        ("LIVE_URL", "postgresql://u:hunter2@/db", "or postgresql://USER:PASSWORD@HOST"),
        ("LIVE_CHANNEL", "has space", "1 to 63 letters"),
        ("LIVE_CHANNEL", "c" * 64, "1 to 63 letters"),
        ("LIVE_SUBSCRIPTIONS_PER_CONNECTION", "0", "a positive whole number"),
        ("LIVE_CONNECTIONS_PER_ADDRESS", "many", "a positive whole number"),
    ],
)
def test_a_bad_live_setting_refuses_to_start(name: str, value: str, message: str) -> None:
    _refuses_to_start(name, value, message)


def test_the_server_refuses_a_bad_rate_limit_cleanly() -> None:
    result = run_import_app({"CONDUIT_RATE_LIMIT_SIGN_UPS_PER_ADDRESS": "many"})
    assert result.returncode != 0
    assert "conduit: configuration error: CONDUIT_RATE_LIMIT_SIGN_UPS_PER_ADDRESS" in result.stderr
    assert "Traceback" not in result.stderr
