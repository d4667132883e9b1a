"""The API on AWS Lambda: API Gateway HTTP API events (payload format 2.0, shaped as API
Gateway sends them) through `aws_lambda.api`, on DynamoDB in moto's in-process AWS; the JWT
secret from SSM; and the container's own entry point, `handler`, in a fresh process the way
Lambda runs it."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import jwt
import pytest
from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

from app import create_app
from auth.tokens import TokenService
from aws_lambda.api import ContainerApi, jwt_secret_from_ssm
from config import ConfigError, Settings
from stores.factory import OpenStores
from tests import aws
from tests.conftest import run_python, separate_sqlite_files

# slow: left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.usefixtures("cheap_password_hashing"), pytest.mark.slow]

ORIGIN = "https://conduit.example.com"
SSM_SECRET = "a-secret-kept-in-ssm-and-long-enough-for-production"
_request_ids = count(1)


@dataclass
class FakeContext:
    """What Lambda passes as `context`; Mangum hands it to the app untouched."""

    function_name: str = "conduit-api"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:conduit-api"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name: str = "/aws/lambda/conduit-api"
    log_stream_name: str = "2026/05/09/[$LATEST]0123456789abcdef"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def http_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: Mapping[str, str] | None = None,
    body: Any = None,
    base64_body: bool = False,
    cookies: list[str] | None = None,
) -> dict[str, Any]:
    """An event as API Gateway's HTTP API sends it to a `$default` route (payload 2.0)."""
    n = next(_request_ids)
    raw_body = None if body is None else json.dumps(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "accept": "application/json",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "pytest",
            "x-amzn-trace-id": f"Root=1-67891233-abcdef01234567890123456{n:x}",
            "x-forwarded-for": "203.0.113.7",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **({} if raw_body is None else {"content-type": "application/json"}),
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "pytest",
            },
            "requestId": f"JKJaXmPLvHcESHA={n}",
            "routeKey": "$default",
            "stage": "$default",
            "time": "09/May/2026:07:35:25 +0000",
            "timeEpoch": 1778312125000,
        },
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = dict(p.split("=", 1) for p in query.split("&"))
    if cookies:
        event["cookies"] = cookies
    if raw_body is not None:
        event["body"] = base64.b64encode(raw_body.encode()).decode() if base64_body else raw_body
    return event


def call(api: ContainerApi, method: str, path: str, **kwargs: Any) -> Answer:
    response = api(http_event(method, path, **kwargs), FakeContext())
    return answer_of(response)


def answer_of(response: dict[str, Any]) -> Answer:
    raw = response.get("body", "")
    if response["isBase64Encoded"]:
        raw = base64.b64decode(raw).decode()
    headers = response.get("headers", {})
    is_json = headers.get("content-type", "").startswith("application/json")
    return Answer(response["statusCode"], headers, json.loads(raw) if is_json and raw else raw)


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Token {token}"}


def register(api: ContainerApi, name: str) -> str:
    user = {"username": name, "email": f"{name}@example.com", "password": "password123"}
    answer = call(api, "POST", "/api/users", body={"user": user})
    assert answer.status == 201, answer.body
    token: str = answer.body["user"]["token"]
    return token


@pytest.fixture(scope="module")
def lambda_api() -> Iterator[ContainerApi]:
    """One container's API on DynamoDB tables it creates on its first event (development)."""
    with aws.in_process_aws():
        settings = Settings(domain_url_overrides=aws.fresh_table_urls())
        api = ContainerApi(create_app(settings))
        try:
            yield api
        finally:
            api.close()


# --- GraphQL ---------------------------------------------------------------------------------

REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { token user { username email } } }"""


def test_graphql_register_then_query_as_the_new_user(lambda_api: ContainerApi) -> None:
    variables = {"input": {"username": "gql", "email": "gql@example.com", "password": "pw123456"}}
    registered = call(
        lambda_api, "POST", "/graphql", body={"query": REGISTER, "variables": variables}
    )
    assert registered.status == 200
    assert "errors" not in registered.body
    payload = registered.body["data"]["register"]
    assert payload["user"] == {"username": "gql", "email": "gql@example.com"}

    viewer = call(
        lambda_api,
        "POST",
        "/graphql",
        body={"query": "{ viewer { username } }"},
        headers={"authorization": f"Bearer {payload['token']}"},
    )
    assert viewer.status == 200
    assert viewer.body["data"] == {"viewer": {"username": "gql"}}


# --- REST ------------------------------------------------------------------------------------


def test_tags_are_read_with_a_get(lambda_api: ContainerApi) -> None:
    answer = call(lambda_api, "GET", "/api/tags")
    assert answer.status == 200
    assert isinstance(answer.body["tags"], list)
    assert answer.headers["x-request-id"]  # the app's own middleware ran


def test_register_then_read_the_current_user_with_the_token(lambda_api: ContainerApi) -> None:
    token = register(lambda_api, "rest")
    answer = call(lambda_api, "GET", "/api/user", headers=auth(token))
    assert answer.status == 200
    assert answer.body["user"]["username"] == "rest"
    assert answer.body["user"]["token"]


def test_publish_an_article_then_find_it_by_tag(lambda_api: ContainerApi) -> None:
    token = register(lambda_api, "author")
    article = {"title": "On Lambda", "description": "d", "body": "b", "tagList": ["lambda"]}
    published = call(
        lambda_api, "POST", "/api/articles", body={"article": article}, headers=auth(token)
    )
    assert published.status == 201, published.body
    assert published.body["article"]["slug"] == "on-lambda"
    assert published.body["article"]["author"]["username"] == "author"

    # The query string arrives as API Gateway sends it, in rawQueryString.
    tagged = call(lambda_api, "GET", "/api/articles", query="tag=lambda&limit=5")
    assert tagged.status == 200
    assert [a["slug"] for a in tagged.body["articles"]] == ["on-lambda"]
    assert call(lambda_api, "GET", "/api/articles", query="tag=none").body["articlesCount"] == 0


def test_a_base64_encoded_body_is_decoded(lambda_api: ContainerApi) -> None:
    register(lambda_api, "encoded")
    credentials = {"user": {"email": "encoded@example.com", "password": "password123"}}
    answer = call(lambda_api, "POST", "/api/users/login", body=credentials, base64_body=True)
    assert answer.status == 200, answer.body
    assert answer.body["user"]["username"] == "encoded"


def test_cookies_the_api_does_not_use_do_no_harm(lambda_api: ContainerApi) -> None:
    answer = call(lambda_api, "GET", "/api/tags", cookies=["session=abc", "theme=dark"])
    assert answer.status == 200


def test_cors_preflight_is_answered(lambda_api: ContainerApi) -> None:
    answer = call(
        lambda_api,
        "OPTIONS",
        "/api/articles",
        headers={
            "origin": ORIGIN,
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
        },
    )
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()


def test_an_unknown_article_is_a_realworld_404(lambda_api: ContainerApi) -> None:
    answer = call(lambda_api, "GET", "/api/articles/no-such-article")
    assert (answer.status, answer.body) == (404, {"errors": {"article": ["not found"]}})


def test_an_invalid_registration_is_a_realworld_422(lambda_api: ContainerApi) -> None:
    answer = call(lambda_api, "POST", "/api/users", body={"user": {"username": "x"}})
    assert answer.status == 422
    assert answer.body == {"errors": {"email": ["can't be blank"], "password": ["can't be blank"]}}


def test_a_missing_token_is_401(lambda_api: ContainerApi) -> None:
    answer = call(lambda_api, "GET", "/api/user")
    assert (answer.status, answer.body) == (401, {"errors": {"token": ["is missing"]}})


# --- the JWT secret from SSM -----------------------------------------------------------------


def test_the_jwt_secret_comes_from_the_ssm_parameter(tmp_path: Path) -> None:
    with aws.in_process_aws():
        boto3.client("ssm").put_parameter(
            Name="/conduit/jwt-secret", Value=SSM_SECRET, Type="SecureString"
        )
        env = {"CONDUIT_JWT_SECRET_PARAMETER": "/conduit/jwt-secret"}
        secret = jwt_secret_from_ssm(env)
    assert secret == {"CONDUIT_JWT_SECRET": SSM_SECRET}

    urls = separate_sqlite_files(tmp_path).domain_url_overrides
    settings = Settings.from_env(
        {**env, **secret, **{f"CONDUIT_{d.upper()}_URL": u for d, u in urls.items()}}
    )
    api = ContainerApi(create_app(settings))
    try:
        token = register(api, "ssm")
        user_id = int(jwt.decode(token, SSM_SECRET, algorithms=["HS256"])["sub"])
        mine = TokenService(SSM_SECRET, 3600).issue(user_id, 0)
        assert call(api, "GET", "/api/user", headers=auth(mine)).status == 200
        other = TokenService("another-secret-just-as-long-as-the-real-one", 3600).issue(user_id, 0)
        assert call(api, "GET", "/api/user", headers=auth(other)).status == 401
    finally:
        api.close()


def test_no_ssm_parameter_means_no_ssm_call() -> None:
    assert jwt_secret_from_ssm({"CONDUIT_JWT_SECRET": "from-the-environment"}) == {}


def test_a_secret_in_both_places_is_a_config_error() -> None:
    env = {"CONDUIT_JWT_SECRET": SSM_SECRET, "CONDUIT_JWT_SECRET_PARAMETER": "/conduit/jwt"}
    with pytest.raises(ConfigError, match="set only one"):
        jwt_secret_from_ssm(env)


# --- the container's entry point, as Lambda runs it ------------------------------------------

# Runs `handler` on the events in argv[1] in a fresh interpreter, as a Lambda container would,
# and prints the responses and which test-only packages that pulled in.
CONTAINER = """
import json, sys
from aws_lambda.api import handler
responses = [handler(event, None) for event in json.loads(sys.argv[1])]
test_only = [m for m in ("moto", "pytest") if m in sys.modules]
print(json.dumps({"responses": responses, "test_only": test_only}))
"""


def test_a_production_container_takes_its_secret_from_ssm_and_serves_dynamodb() -> None:
    """Production mode, with the secret only in SSM (without it importing `app` would refuse
    to start) and the tables made beforehand, as Terraform makes them."""
    urls = aws.fresh_table_urls()
    with aws.moto_server() as endpoint:
        reach = {**aws.FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}
        with mock.patch.dict(os.environ, reach):
            boto3.client("ssm").put_parameter(
                Name="/conduit/prod/jwt", Value=SSM_SECRET, Type="SecureString"
            )
            asyncio.run(_create_tables(urls))
        env = {
            **reach,
            "CONDUIT_ENV": "production",
            "CONDUIT_JWT_SECRET_PARAMETER": "/conduit/prod/jwt",
            **{f"CONDUIT_{d.upper()}_URL": url for d, url in urls.items()},
        }
        user = {"username": "prod", "email": "prod@example.com", "password": "password123"}
        events = [
            http_event("POST", "/api/users", body={"user": user}),
            http_event("GET", "/api/tags"),
        ]
        result = run_python("-c", CONTAINER, json.dumps(events), env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    registered, tags = (answer_of(r) for r in out["responses"])
    assert registered.status == 201, registered.body
    jwt.decode(registered.body["user"]["token"], SSM_SECRET, algorithms=["HS256"])
    assert (tags.status, tags.body) == (200, {"tags": []})
    # The package deployed to Lambda has neither: importing one would fail there.
    assert out["test_only"] == []
    assert SSM_SECRET not in result.stderr


async def _create_tables(urls: Mapping[str, str]) -> None:
    stores = OpenStores(urls)
    try:
        await stores.prepare(migrate=True)
    finally:
        await stores.close()


def test_importing_the_handler_module_builds_nothing_and_imports_no_test_tools() -> None:
    """Lambda's init phase imports the module; the app is built on the first event, so the
    import stays cheap (measured by bench/cold_start.py) and cannot fail on configuration."""
    modules = ("app", "boto3", "sqlalchemy", "moto", "pytest")
    script = f"import sys, aws_lambda.api; print([m for m in {modules} if m in sys.modules])"
    result = run_python("-c", script, env={"CONDUIT_ENV": "production"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
