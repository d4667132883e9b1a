"""python -m bench.cold_start [--runs 9]

The Lambda API's cold start, in fresh interpreters as a new Lambda container would start:
how long `import aws_lambda.api` takes (the runtime's init phase; measured in the process and,
for the import alone, as the whole process's wall time, interpreter start included), then the
first `handler` call (building the app, its stores and AWS clients, reading the JWT secret
from SSM, preparing the stores, answering GET /api/tags) against the second (a warm request).
Prints the median of `--runs` processes.

The container runs as deployed: production mode, DynamoDB tables made beforehand (as Terraform
makes them), the JWT secret in an SSM parameter; all of it in a moto server on 127.0.0.1, so an
AWS call costs a local round trip to moto rather than one to AWS in the region."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import boto3

from config import DOMAINS
from stores.factory import OpenStores
from tests import aws

ROOT = Path(__file__).resolve().parent.parent
SECRET_PARAMETER = "/conduit/bench/jwt-secret"

# One container's life, up to its second event; prints its timings as JSON.
CONTAINER = """
import json, sys, time
started = time.perf_counter()
import aws_lambda.api
imported = time.perf_counter()
event = json.loads(sys.argv[1])
first = aws_lambda.api.handler(event, None)
served_first = time.perf_counter()
second = aws_lambda.api.handler(event, None)
served_second = time.perf_counter()
assert first["statusCode"] == second["statusCode"] == 200, (first, second)
print(json.dumps({
    "import": imported - started,
    "first": served_first - imported,
    "second": served_second - served_first,
}))
"""

TAGS_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/api/tags",
    "rawQueryString": "",
    "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "accept": "*/*"},
    "requestContext": {
        "http": {
            "method": "GET",
            "path": "/api/tags",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "bench",
        },
        "requestId": "bench",
        "routeKey": "$default",
        "stage": "$default",
    },
    "isBase64Encoded": False,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per measure")
    args = parser.parse_args(argv)

    import_wall = [_wall_seconds(["-c", "import aws_lambda.api"], {}) for _ in range(args.runs)]
    with _deployment() as env:
        runs = [_container_run(env) for _ in range(args.runs)]

    def median_ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:6.0f} ms"

    rows = [
        ("python -c 'import aws_lambda.api' (wall, interpreter start included)", import_wall),
        ("import aws_lambda.api (inside the process)", [r["import"] for r in runs]),
        ("first request (app, stores, clients, SSM, store check)", [r["first"] for r in runs]),
        ("second request", [r["second"] for r in runs]),
    ]
    print(f"median of {args.runs} fresh processes (python {_version()})")
    for label, values in rows:
        print(f"{label:<72} {median_ms(values)}")
    return 0


@contextmanager
def _deployment() -> Iterator[dict[str, str]]:
    """The CONDUIT_* and AWS variables of a deployed container, in a moto server with its
    tables and secret parameter."""
    urls = {d: f"dynamodb://conduit-cold-start-{d}" for d in DOMAINS}
    with aws.moto_server() as endpoint:
        reach = {**aws.FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}
        with mock.patch.dict(os.environ, reach):
            boto3.client("ssm").put_parameter(
                Name=SECRET_PARAMETER, Value="bench-" * 8, Type="SecureString"
            )
            asyncio.run(_create_tables(urls))
        yield {
            **reach,
            "CONDUIT_ENV": "production",
            "CONDUIT_JWT_SECRET_PARAMETER": SECRET_PARAMETER,
            **{f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()},
        }


async def _create_tables(urls: Mapping[str, str]) -> None:
    stores = OpenStores(urls)
    try:
        await stores.prepare(migrate=True)
    finally:
        await stores.close()


def _container_run(env: Mapping[str, str]) -> dict[str, float]:
    result = _run(["-c", CONTAINER, json.dumps(TAGS_EVENT)], env)
    timings: dict[str, float] = json.loads(result.stdout.splitlines()[-1])
    return timings


def _wall_seconds(args: list[str], env: Mapping[str, str]) -> float:
    started = time.perf_counter()
    _run(args, env)
    return time.perf_counter() - started


def _run(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    # Only the given CONDUIT_* variables, so the caller's own configuration cannot leak in.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    environment.update(env)
    result = subprocess.run(  # noqa: S603 - this interpreter, running the script above
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"the measured process failed:\n{result.stderr}")
    return result


def _version() -> str:
    return sys.version.split()[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
