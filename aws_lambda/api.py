"""The API on AWS Lambda: API Gateway HTTP API events (payload format 2.0) go through Mangum
to the same Starlette app `uvicorn app:app` serves, built from the same CONDUIT_* environment.

    handler: aws_lambda.api.handler

One app, with its settings, stores and AWS clients, serves every event a container receives;
it is built on the container's first event, not at import, so importing this module stays
cheap. With CONDUIT_JWT_SECRET_PARAMETER naming an SSM SecureString parameter, the JWT secret
is read from it then, once, instead of from CONDUIT_JWT_SECRET."""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from mangum import Mangum
from mangum.protocols import LifespanCycle
from mangum.types import ASGI, LambdaContext

from config import ConfigError
from telemetry import tracing

SECRET_VARIABLE = "CONDUIT_JWT_SECRET"
SECRET_PARAMETER_VARIABLE = "CONDUIT_JWT_SECRET_PARAMETER"


class ContainerApi:
    """A Lambda handler serving one ASGI app for as long as its container lives.

    Mangum's own lifespan support would start and stop the app around every single event
    (closing and reopening the stores each time), so it is off; instead the app's startup,
    which prepares the stores (in development it migrates SQL databases and creates DynamoDB
    tables, in production it checks they are current), runs once, on the first event. Its
    shutdown never runs on Lambda, which freezes and discards containers without warning."""

    def __init__(self, app: ASGI) -> None:
        self._app = app
        # Connections belong to the event loop they were opened on, so every event of this
        # container runs on the same loop, whatever else set another one meanwhile.
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._mangum = Mangum(app, lifespan="off")
        self._running = ExitStack()
        self._started = False

    def __call__(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        asyncio.set_event_loop(self._loop)
        if not self._started:
            # Raises if startup fails (say, a table is missing in production); the next
            # event tries again rather than serving from stores that are not ready.
            self._running.enter_context(LifespanCycle(self._app, "on"))
            self._started = True
        try:
            return self._mangum(event, context)
        finally:
            tracing.flush()

    def close(self) -> None:
        """Run the app's shutdown and close the loop: for processes that build many apps,
        such as the tests."""
        asyncio.set_event_loop(self._loop)
        try:
            self._running.close()
        finally:
            self._loop.close()
            asyncio.set_event_loop(None)


def jwt_secret_from_ssm(env: Mapping[str, str]) -> dict[str, str]:
    """`{"CONDUIT_JWT_SECRET": value}` with the value of the SSM SecureString parameter that
    CONDUIT_JWT_SECRET_PARAMETER in `env` names (decrypted), or `{}` if it names none."""
    name = env.get(SECRET_PARAMETER_VARIABLE, "").strip()
    if not name:
        return {}
    if env.get(SECRET_VARIABLE, "").strip():
        raise ConfigError(
            f"{SECRET_VARIABLE} and {SECRET_PARAMETER_VARIABLE} are both set: set only one"
        )
    # Imported here: only a deployment that keeps its secret in SSM needs an SSM client.
    import boto3

    parameter = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]
    return {SECRET_VARIABLE: parameter["Value"]}


@functools.cache
def _container_api() -> ContainerApi:
    # Published into this process's environment because importing `app` builds the app from
    # the environment (as for uvicorn), and a production configuration without a secret
    # there would refuse to start.
    os.environ.update(jwt_secret_from_ssm(os.environ))
    # The Lambda runtime puts a plain-text handler on the root logger before any of our code
    # runs, and logs.configure leaves a logging setup it finds alone: without this, the API's
    # JSON lines and their secret masking would not reach CloudWatch. Ours writes to stderr,
    # which Lambda sends to CloudWatch too.
    logging.getLogger().handlers.clear()
    from app import app

    api = ContainerApi(app)
    # Lambda never ends a container's process this way, but a local run does: shut the app
    # down rather than leave its lifespan task pending at exit.
    atexit.register(api.close)
    return api


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _container_api()(event, context)
