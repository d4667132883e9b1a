"""infra/terraform checked against the code it deploys, offline: the tables against
stores/dynamodb/tables.py, the handlers against aws_lambda/, the event rules against
events/subscriptions.py, the environment variables against what config.py and aws_lambda/ read,
and the IAM policies against what the configuration declares. (infra/check adds terraform
validate, checkov and actionlint.)"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

from config import Settings
from ratelimits.dynamodb import TTL_ATTRIBUTE
from stores.dynamodb.outbox import OUTBOX_PARTITION
from stores.dynamodb.tables import PARTITION_KEY, SORT_KEY, STREAM_VIEW_TYPE, TABLES

ROOT = Path(__file__).resolve().parent.parent
TF_DIR = ROOT / "infra" / "terraform"
_OPTIONS = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)
# A reference to a resource, data source or ephemeral resource: aws_x.y, data.aws_x.y, ...
_REFERENCE = re.compile(r"(?<![\w.])(data\.|ephemeral\.)?(aws_\w+)\.(\w+)")
_LOCAL = re.compile(r"(?<![\w.])local\.(\w+)")
_CONDUIT_NAME = re.compile(r"\bCONDUIT_[A-Z0-9_]+\b")
# A name made per domain by an expression over the tables: "CONDUIT_${upper(domain)}_URL".
_CONDUIT_DOMAIN_NAME = re.compile(r"\bCONDUIT_\$\{upper\(domain\)\}(_[A-Z0-9_]+)\b")
# Modules whose code reads the environment the functions are deployed with.
_ENVIRONMENT_READERS = ("aws_lambda", "events")


@dataclass
class Config:
    """One Terraform configuration: blocks by kind, resources by (type, name)."""

    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    data: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    ephemeral: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for (t, name), body in self.resources.items() if t == kind}


def _load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        loaded: dict[str, Any] = hcl2.load(f, serialization_options=_OPTIONS)
    return loaded


def _typed_blocks(entries: list[dict[str, Any]]) -> Iterator[tuple[tuple[str, str], Any]]:
    for entry in entries:
        for kind, named in entry.items():
            for name, body in named.items():
                yield (kind, name), body


@pytest.fixture(scope="module")
def tf() -> Config:
    config = Config()
    files = sorted(TF_DIR.glob("*.tf"))
    assert files, f"no Terraform files in {TF_DIR}"
    for path in files:
        parsed = _load(path)
        for kind, target in (
            ("resource", config.resources),
            ("data", config.data),
            ("ephemeral", config.ephemeral),
        ):
            for key, body in _typed_blocks(parsed.get(kind, [])):
                assert key not in target, f"{kind} {key} declared twice"
                target[key] = body
        for block in parsed.get("locals", []):
            config.locals.update(block)
        for block in parsed.get("variable", []):
            config.variables.update(block)
    return config


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed value, dictionary keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _one(blocks: Any) -> dict[str, Any]:
    """A nested block (parsed as a list of one dictionary)."""
    assert isinstance(blocks, list), blocks
    assert len(blocks) == 1, blocks
    block: dict[str, Any] = blocks[0]
    return block


def _undeclared(expression: str, config: Config, seen: frozenset[str] = frozenset()) -> set[str]:
    """The references in `expression` to resources, data sources, ephemeral resources or locals
    that the configuration does not declare (locals are followed to what they reference)."""
    missing = set()
    for prefix, kind, name in _REFERENCE.findall(expression):
        table = {"data.": config.data, "ephemeral.": config.ephemeral, "": config.resources}[prefix]
        if (kind, name) not in table:
            missing.add(f"{prefix}{kind}.{name}")
    for name in _LOCAL.findall(expression):
        if name not in config.locals:
            missing.add(f"local.{name}")
        elif name not in seen:
            for text in _strings(config.locals[name]):
                missing |= _undeclared(text, config, seen | {name})
    return missing


# --- terraform fmt ---


@pytest.mark.slow  # runs the terraform CLI, which the fast run does not ask for
def test_terraform_files_are_formatted() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.fail(
            "the terraform CLI is not installed: it is needed to check infra/terraform "
            "(https://developer.hashicorp.com/terraform/install)"
        )
    result = subprocess.run(  # noqa: S603 (the terraform CLI with fixed arguments)
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TF_DIR)],
        capture_output=True,
        text=True,
        check=False,
        # No user CLI configuration: fmt needs none, and a missing one only adds a warning.
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, (
        f"run: terraform fmt -recursive infra/terraform\n{result.stdout}{result.stderr}"
    )


# --- DynamoDB tables: exactly stores/dynamodb/tables.py ---
#
# One resource, `aws_dynamodb_table.domain`, with an instance per key of local.table_indexes
# (domain => its indexes, [{name, hash_key, range_key}]); its attributes and indexes are dynamic
# blocks built from that list. python-hcl2 gives `for_each` as its expression text and each
# `dynamic "x"` block as {"x": {"for_each": ..., "content": [{...}]}} in a list under "dynamic".
# So the expressions are checked to be the ones below, and the data they iterate over to be
# TABLES.

# The attributes: the table's keys, then each index's, once each.
_ATTRIBUTES_FOR_EACH = (
    f'${{distinct(concat(["{PARTITION_KEY}", "{SORT_KEY}"]'
    ", flatten([for index in each.value : [index.hash_key, index.range_key]])))}"
)


def _table(tf: Config) -> dict[str, Any]:
    tables = tf.of_type("aws_dynamodb_table")
    assert set(tables) == {"domain", "rate_limits"}, (
        "one aws_dynamodb_table for_each over the domains, and the rate limit counters'"
    )
    return tables["domain"]


def _dynamic(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A block's `dynamic "name"` blocks, by name (each declared once)."""
    dynamic: dict[str, dict[str, Any]] = {}
    for entry in block.get("dynamic", []):
        for name, body in entry.items():
            assert name not in dynamic, f'dynamic "{name}" declared twice'
            dynamic[name] = body
    return dynamic


def _table_indexes(tf: Config) -> dict[str, list[dict[str, str]]]:
    indexes: dict[str, list[dict[str, str]]] = tf.locals["table_indexes"]
    return indexes


def test_one_table_per_domain_named_after_it(tf: Config) -> None:
    table = _table(tf)
    assert table["for_each"] == "${local.table_indexes}"
    assert set(_table_indexes(tf)) == set(TABLES)
    assert table["name"] == "${local.prefix}-${each.key}"


def test_table_attributes_and_indexes_are_built_from_the_locals(tf: Config) -> None:
    table = _table(tf)
    # Only dynamic ones: a static block would be added to every table.
    assert "attribute" not in table
    assert "global_secondary_index" not in table
    dynamic = _dynamic(table)
    assert set(dynamic) == {"attribute", "global_secondary_index"}

    attribute = dynamic["attribute"]
    assert attribute["for_each"] == _ATTRIBUTES_FOR_EACH
    assert _one(attribute["content"]) == {"name": "${attribute.value}", "type": "S"}

    index = dynamic["global_secondary_index"]
    assert index["for_each"] == "${each.value}"
    assert _one(index["content"]) == {
        "name": "${global_secondary_index.value.name}",
        "hash_key": "${global_secondary_index.value.hash_key}",
        "range_key": "${global_secondary_index.value.range_key}",
        "projection_type": "ALL",
    }


@pytest.mark.parametrize("domain", sorted(TABLES))
def test_table_keys_and_indexes_are_the_design(tf: Config, domain: str) -> None:
    table = _table(tf)
    design = TABLES[domain]
    declared = _table_indexes(tf)[domain]

    assert (table["hash_key"], table["range_key"]) == (PARTITION_KEY, SORT_KEY)
    assert sorted((i["name"], i["hash_key"], i["range_key"]) for i in declared) == sorted(
        (i.name, i.partition_key, i.sort_key) for i in design.indexes
    )
    # What _ATTRIBUTES_FOR_EACH makes of them.
    attributes = [PARTITION_KEY, SORT_KEY] + [
        k for i in declared for k in (i["hash_key"], i["range_key"])
    ]
    assert sorted(dict.fromkeys(attributes)) == sorted(design.key_attributes())

    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert _one(table["point_in_time_recovery"])["enabled"] is True
    encryption = _one(table["server_side_encryption"])
    assert encryption["enabled"] is True
    assert encryption["kms_key_arn"] == "${aws_kms_key.main.arn}"
    assert table["deletion_protection_enabled"] == "${local.is_prod}"
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, STREAM_VIEW_TYPE)


def test_every_domain_has_its_store_url(tf: Config) -> None:
    # Over the table's instances, so over the domains (test_one_table_per_domain_named_after_it).
    assert tf.locals["store_url_env"] == (
        "${{for domain, table in aws_dynamodb_table.domain : "
        'domain => {"CONDUIT_${upper(domain)}_URL" = "dynamodb://${table.name}"}}}'
    )
    assert tf.locals["table_arns"] == (
        "${{for domain, table in aws_dynamodb_table.domain : domain => table.arn}}"
    )


def test_the_rate_limit_table_is_the_counters_design(tf: Config) -> None:
    table = tf.resources[("aws_dynamodb_table", "rate_limits")]
    assert (table["hash_key"], table["range_key"]) == (PARTITION_KEY, SORT_KEY)
    assert table["attribute"] == [
        {"name": PARTITION_KEY, "type": "S"},
        {"name": SORT_KEY, "type": "S"},
    ]
    assert _one(table["ttl"]) == {"attribute_name": TTL_ATTRIBUTE, "enabled": True}
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert _one(table["server_side_encryption"])["kms_key_arn"] == "${aws_kms_key.main.arn}"
    api = tf.locals["api_environment"]
    assert "dynamodb://${aws_dynamodb_table.rate_limits.name}" in api


# --- Lambda handlers: real functions in the repository ---


def _handler_exists(handler: str) -> str | None:
    """None if `module.function` names a top-level function of a module in the repository,
    else what is wrong."""
    module, _, function = handler.rpartition(".")
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None:
        return f"no module {module}"
    origin = Path(spec.origin)
    if ROOT not in origin.parents:
        return f"{module} is not the repository's ({origin})"
    tree = ast.parse(origin.read_text(), filename=str(origin))
    defined = (
        {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        }
        | {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        | {
            node.target.id
            for node in tree.body
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
        }
    )
    return None if function in defined else f"{origin.relative_to(ROOT)} defines no {function}"


def test_handler_check_finds_missing_handlers() -> None:
    assert _handler_exists("config.Settings") is None
    assert _handler_exists("config.no_such_handler") is not None
    assert _handler_exists("no_such_package.handler") is not None


def test_function_handlers_exist(tf: Config) -> None:
    functions = tf.of_type("aws_lambda_function")
    assert {name: f["handler"] for name, f in functions.items()} == {
        "api": "aws_lambda.api.handler",
        "consumer": "aws_lambda.consumer.handler",
        "outbox": "aws_lambda.outbox.handler",
    }
    problems = {name: _handler_exists(f["handler"]) for name, f in functions.items()}
    assert {name: p for name, p in problems.items() if p} == {}


def test_functions_run_the_package_with_tracing(tf: Config) -> None:
    for name, function in tf.of_type("aws_lambda_function").items():
        assert function["runtime"] == "python3.11", name
        assert function["architectures"] == ["x86_64"], name
        assert function["filename"] == "${var.lambda_zip}", name
        assert function["source_code_hash"] == "${local.source_code_hash}", name
        assert _one(function["tracing_config"])["mode"] == "Active", name
    assert tf.locals["source_code_hash"] == "${filebase64sha256(var.lambda_zip)}"


def test_the_api_sends_its_spans_to_the_adot_collector_when_given_one(tf: Config) -> None:
    """docs/aws.md: the layer runs the collector; the app's OTLP exporter sends to it."""
    api = tf.of_type("aws_lambda_function")["api"]
    assert "var.otel_collector_layer_arn" in str(api["layers"])
    environment = tf.locals["api_environment"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in environment
    assert "http://localhost:4318" in environment


# --- Events: exactly events/subscriptions.py ---


def _subscriptions() -> dict[str, list[str]]:
    """Each consumer's events by detail-type (the event class name, events/wire.py)."""
    subscriptions = importlib.import_module("events.subscriptions")
    wire = importlib.import_module("events.wire")
    consumers: Mapping[str, tuple[type, ...]] = subscriptions.CONSUMERS
    return {d: sorted(wire.detail_type(e) for e in events) for d, events in consumers.items()}


def test_consumers_are_the_subscriptions(tf: Config) -> None:
    declared = {domain: sorted(names) for domain, names in tf.locals["consumers"].items()}
    assert declared == _subscriptions()
    assert set(tf.locals["consumers"]) <= set(TABLES), "a consumer is a domain with a store"


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("aws_cloudwatch_event_rule", "consumer"),
        ("aws_cloudwatch_event_target", "consumer"),
        ("aws_sqs_queue", "events"),
        ("aws_sqs_queue", "events_dlq"),
        ("aws_sqs_queue_policy", "events"),
        ("aws_lambda_function", "consumer"),
        ("aws_lambda_event_source_mapping", "consumer"),
        ("aws_iam_role", "consumer"),
        ("aws_iam_role_policy", "consumer"),
        ("aws_cloudwatch_metric_alarm", "events_dlq"),
    ],
)
def test_one_of_each_per_consumer(tf: Config, kind: str, name: str) -> None:
    assert tf.resources[(kind, name)]["for_each"] == "${local.consumers}"


def test_each_rule_matches_its_consumers_events(tf: Config) -> None:
    rule = tf.resources[("aws_cloudwatch_event_rule", "consumer")]
    # each.value: the consumer's event class names (local.consumers), as detail-type.
    assert rule["event_pattern"] == '${jsonencode({"detail-type" = each.value})}'
    assert rule["event_bus_name"] == "${aws_cloudwatch_event_bus.main.name}"


def test_queues_and_their_dead_letter_queues(tf: Config) -> None:
    queue = tf.resources[("aws_sqs_queue", "events")]
    dlq = tf.resources[("aws_sqs_queue", "events_dlq")]
    assert queue["name"] == "${local.prefix}-${each.key}-events"
    subscriptions = importlib.import_module("events.subscriptions")
    assert queue["name"] == subscriptions.queue_name("${local.prefix}", "${each.key}")
    assert dlq["name"] == "${local.prefix}-${each.key}-events-dlq"
    assert "aws_sqs_queue.events_dlq[each.key].arn" in queue["redrive_policy"]
    assert re.search(r"maxReceiveCount\s*=\s*5\b", queue["redrive_policy"])
    for q in (queue, dlq):
        assert q["kms_master_key_id"] == "${aws_kms_key.main.arn}"

    policy = tf.data[("aws_iam_policy_document", "events_queue")]
    statement = _one(policy["statement"])
    assert statement["actions"] == ["sqs:SendMessage"]
    assert _one(statement["condition"])["values"] == [
        "${aws_cloudwatch_event_rule.consumer[each.key].arn}"
    ]

    mapping = tf.resources[("aws_lambda_event_source_mapping", "consumer")]
    assert mapping["event_source_arn"] == "${aws_sqs_queue.events[each.key].arn}"
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]


def test_every_table_stream_feeds_the_outbox_relay_its_new_outbox_items(tf: Config) -> None:
    mapping = tf.resources[("aws_lambda_event_source_mapping", "outbox")]
    assert mapping["for_each"] == "${aws_dynamodb_table.domain}"
    assert mapping["event_source_arn"] == "${each.value.stream_arn}"
    assert mapping["function_name"] == "${aws_lambda_function.outbox.arn}"
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert tf.locals["outbox_partition"] == OUTBOX_PARTITION
    pattern = _one(_one(mapping["filter_criteria"])["filter"])["pattern"]
    assert '"INSERT"' in pattern
    assert "local.outbox_partition" in pattern
    failures = _one(_one(mapping["destination_config"])["on_failure"])
    assert failures["destination_arn"] == "${aws_sqs_queue.outbox_dlq.arn}"
    dlq = tf.resources[("aws_sqs_queue", "outbox_dlq")]
    assert dlq["kms_master_key_id"] == "${aws_kms_key.main.arn}"


# --- Environment variables: only names the code reads; never the secret itself ---


class _RecordingEnvironment(dict[str, str]):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return super().__contains__(key)


def _names_read_by_code() -> set[str]:
    environment = _RecordingEnvironment()
    Settings.from_env(environment)
    names = {n for n in environment.read if n.startswith("CONDUIT_")}
    for package in _ENVIRONMENT_READERS:
        for path in sorted((ROOT / package).glob("**/*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            # Docstrings mention names; only the code's own strings count as reading them.
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(
                    node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
                )
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                ):
                    names |= set(_CONDUIT_NAME.findall(node.value))
    return names


def _function_environment_names(tf: Config) -> dict[str, set[str]]:
    names = {}
    for name, function in tf.of_type("aws_lambda_function").items():
        variables = _one(function["environment"])["variables"]
        texts = list(_strings(variables))
        followed: set[str] = set()
        while locals_ := {n for t in texts for n in _LOCAL.findall(t)} - followed:
            for local in locals_:
                texts += _strings(tf.locals[local])
            followed |= locals_
        names[name] = {n for text in texts for n in _CONDUIT_NAME.findall(text)} | {
            f"CONDUIT_{domain.upper()}{suffix}"
            for text in texts
            for suffix in _CONDUIT_DOMAIN_NAME.findall(text)
            for domain in _table_indexes(tf)
        }
    return names


def test_functions_set_only_variables_the_code_reads(tf: Config) -> None:
    set_names = set().union(*_function_environment_names(tf).values())
    assert set_names, "no CONDUIT_* variable found on the functions"
    unread = set_names - _names_read_by_code()
    assert not unread, (
        f"set on the functions but read by neither config.py nor aws_lambda/: {unread}"
    )


def test_api_environment(tf: Config) -> None:
    names = _function_environment_names(tf)["api"]
    domains = {f"CONDUIT_{d.upper()}_URL" for d in TABLES}
    wanted = {"CONDUIT_ENV", "CONDUIT_EVENT_BUS", "CONDUIT_JWT_SECRET_PARAMETER"} | domains
    assert wanted <= names
    api = tf.locals["api_environment"]
    assert 'CONDUIT_ENV = "production"' in api or '"CONDUIT_ENV": "production"' in api, api
    assert "CONDUIT_JWT_SECRET_PARAMETER = aws_ssm_parameter.jwt_secret.name" in api
    assert "eventbridge://${aws_cloudwatch_event_bus.main.name}" in api


def test_outbox_relay_environment(tf: Config) -> None:
    names = _function_environment_names(tf)["outbox"]
    domains = {f"CONDUIT_{d.upper()}_URL" for d in TABLES}
    assert {"CONDUIT_ENV", "CONDUIT_EVENT_BUS"} | domains <= names
    assert "CONDUIT_JWT_SECRET_PARAMETER" not in names, "the relay signs no token"


def test_consumer_environment(tf: Config) -> None:
    names = _function_environment_names(tf)["consumer"]
    # aws_lambda/consumer.py opens every domain's store, and names its domain.
    assert {f"CONDUIT_{d.upper()}_URL" for d in TABLES} | {"CONDUIT_CONSUMER"} <= names
    assert "CONDUIT_JWT_SECRET_PARAMETER" not in names, "a consumer signs no token"
    consumer = tf.resources[("aws_lambda_function", "consumer")]
    assert "CONDUIT_CONSUMER = each.key" in _one(consumer["environment"])["variables"]


def test_the_jwt_secret_is_never_in_configuration(tf: Config) -> None:
    names = set().union(*_function_environment_names(tf).values())
    assert "CONDUIT_JWT_SECRET" not in names, "the secret is read from SSM, not the environment"

    parameter = tf.resources[("aws_ssm_parameter", "jwt_secret")]
    assert parameter["type"] == "SecureString"
    assert "value" not in parameter, "a literal value would be kept in the state"
    assert parameter["value_wo"].startswith("${ephemeral.")
    assert parameter["key_id"] == "${aws_kms_key.main.arn}"

    for name, variable in tf.variables.items():
        if re.search(r"secret|password|token|private_key", name) and variable["type"] != "number":
            assert "default" not in variable, f"variable {name} has a default"


# --- IAM: every statement names declared resources; wildcards only where AWS needs them ---


def test_reference_check_finds_undeclared_references(tf: Config) -> None:
    assert _undeclared("${aws_kms_key.main.arn}", tf) == set()
    assert _undeclared("${data.aws_caller_identity.current.account_id}", tf) == set()
    assert _undeclared("${aws_kms_key.nope.arn}/x", tf) == {"aws_kms_key.nope"}
    assert _undeclared("${data.aws_kms_key.main.arn}", tf) == {"data.aws_kms_key.main"}
    assert _undeclared("${local.nope}", tf) == {"local.nope"}


def _statements(tf: Config) -> Iterator[tuple[str, dict[str, Any]]]:
    for (kind, name), document in tf.data.items():
        if kind == "aws_iam_policy_document":
            for statement in document["statement"]:
                yield f"{name}/{statement.get('sid', '?')}", statement


def test_policy_statements_reference_declared_resources(tf: Config) -> None:
    checked = 0
    for where, statement in _statements(tf):
        if "resources" not in statement:  # a trust policy: principals, no resources
            assert "principals" in statement, where
            continue
        resources = statement["resources"]
        texts = [resources] if isinstance(resources, str) else resources
        assert texts, f"{where}: no resources"
        missing = set().union(*(_undeclared(text, tf) for text in texts))
        assert not missing, f"{where} references undeclared {missing}"
        checked += 1
    assert checked >= 10


def test_wildcard_resources_only_where_aws_needs_them(tf: Config) -> None:
    for where, statement in _statements(tf):
        if statement.get("resources") != ["*"]:
            continue
        actions = statement["actions"]
        xray_only = all(a.startswith("xray:") for a in actions)
        assert xray_only or "condition" in statement, f"{where}: unconditioned '*' for {actions}"


def _role_statements(tf: Config, document: str, function: str) -> dict[str, dict[str, Any]]:
    """The statements of a role's policy document by sid, with those it takes from the shared
    `function` document (source_policy_documents) for `function` (an HCL key expression)."""
    own = tf.data[("aws_iam_policy_document", document)]
    assert own["source_policy_documents"] == [
        f"${{data.aws_iam_policy_document.function[{function}].json}}"
    ]
    statements: dict[str, dict[str, Any]] = {}
    shared = tf.data[("aws_iam_policy_document", "function")]["statement"]
    for statement in shared + own["statement"]:
        # AWS's provider lets a document's statement replace a source's with the same sid.
        assert statement["sid"] not in statements, f"{document}: two statements {statement['sid']}"
        statements[statement["sid"]] = statement
    return statements


def test_every_function_role_uses_the_key_and_writes_its_own_logs_and_traces(tf: Config) -> None:
    shared = tf.data[("aws_iam_policy_document", "function")]
    # One document per function, keyed like the log groups, so each.key names its own group.
    assert shared["for_each"] == "${local.function_names}"
    assert tf.resources[("aws_cloudwatch_log_group", "lambda")]["for_each"] == shared["for_each"]
    statements = {s["sid"]: s for s in shared["statement"]}
    assert set(statements) == {"UseKey", "WriteOwnLogs", "WriteTraces"}
    assert statements["UseKey"]["actions"] == ["kms:Decrypt"]
    assert statements["UseKey"]["resources"] == ["${aws_kms_key.main.arn}"]
    assert statements["WriteOwnLogs"]["resources"] == [
        "${aws_cloudwatch_log_group.lambda[each.key].arn}:*"
    ]
    assert all(a.startswith("xray:") for a in statements["WriteTraces"]["actions"])


def test_api_role_reaches_its_tables_bus_secret_and_key_only(tf: Config) -> None:
    statements = _role_statements(tf, "api", '"api"')
    tables = statements["OwnTablesAndIndexes"]["resources"]
    assert "values(local.table_arns)" in tables
    assert "/index/*" in tables
    # Its events go through the outbox: the relay publishes them.
    assert "PublishDomainEvents" not in statements
    assert statements["ReadJwtSecret"] == {
        "sid": "ReadJwtSecret",
        "actions": ["ssm:GetParameter"],
        "resources": ["${aws_ssm_parameter.jwt_secret.arn}"],
    }
    assert statements["UseKey"]["resources"] == ["${aws_kms_key.main.arn}"]
    assert not any(a.endswith(":*") for s in statements.values() for a in s["actions"])


def test_consumer_roles_reach_their_own_table_and_queue_only(tf: Config) -> None:
    statements = _role_statements(tf, "consumer", "each.key")
    assert statements["OwnTableAndIndexes"]["resources"] == [
        "${local.table_arns[each.key]}",
        "${local.table_arns[each.key]}/index/*",
    ]
    # No other table, not even its description: a consumer opens its own domain's store alone.
    resources = [r for s in statements.values() for r in s["resources"]]
    assert not [r for r in resources if "table_arns" in r and "[each.key]" not in r]
    assert statements["OwnQueue"]["resources"] == ["${aws_sqs_queue.events[each.key].arn}"]
    assert sorted(statements["OwnQueue"]["actions"]) == [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
    ]


def test_outbox_relay_role_reads_the_streams_and_publishes_to_the_bus_only(tf: Config) -> None:
    statements = _role_statements(tf, "outbox", '"outbox"')
    assert "values(local.table_arns)" in statements["OwnTablesAndIndexes"]["resources"]
    assert statements["ReadTableStreams"]["resources"] == (
        "${[for table in aws_dynamodb_table.domain : table.stream_arn]}"
    )
    assert statements["PublishDomainEvents"] == {
        "sid": "PublishDomainEvents",
        "actions": ["events:PutEvents"],
        "resources": ["${aws_cloudwatch_event_bus.main.arn}"],
    }
    assert statements["FailedBatchesToQueue"]["resources"] == ["${aws_sqs_queue.outbox_dlq.arn}"]
    assert not any(a.endswith(":*") for s in statements.values() for a in s["actions"])


def test_deploy_role_trusts_this_repository_only(tf: Config) -> None:
    statement = _one(tf.data[("aws_iam_policy_document", "deploy_assume")]["statement"])
    conditions = {c["variable"]: c for c in statement["condition"]}
    host = "${local.github_oidc_host}"
    assert conditions[f"{host}:aud"]["values"] == ["sts.amazonaws.com"]
    assert conditions[f"{host}:sub"]["test"] == "StringEquals"
    assert conditions[f"{host}:sub"]["values"] == "${local.github_subjects}"
    subjects = tf.locals["github_subjects"]
    assert subjects
    assert all(s.startswith("repo:${var.github_repository}:") for s in subjects)


# --- Variables and tfvars ---


def test_environment_is_validated(tf: Config) -> None:
    validation = _one(tf.variables["environment"]["validation"])
    assert '["dev", "prod"]' in validation["condition"]


@pytest.mark.parametrize("path", sorted((TF_DIR / "environments").glob("*.tfvars")), ids=str)
def test_tfvars_set_only_declared_variables(tf: Config, path: Path) -> None:
    values = _load(path)
    assert set(values) <= set(tf.variables), set(values) - set(tf.variables)
    assert values["environment"] == path.stem


def test_both_environments_have_tfvars() -> None:
    assert sorted(p.stem for p in (TF_DIR / "environments").glob("*.tfvars")) == ["dev", "prod"]


# --- Edge ---


def test_routes_and_stage(tf: Config) -> None:
    assert tf.locals["api_routes"] == (
        '${toset(["ANY /graphql", "ANY /api/{proxy+}", "GET /health", "GET /ready"])}'
    )
    integration = tf.resources[("aws_apigatewayv2_integration", "api")]
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_uri"] == "${aws_lambda_function.api.invoke_arn}"
    stage = tf.resources[("aws_apigatewayv2_stage", "default")]
    assert stage["name"] == "$default"
    settings = _one(stage["default_route_settings"])
    assert settings["throttling_rate_limit"] == "${var.throttling_rate_limit}"
    assert settings["throttling_burst_limit"] == "${var.throttling_burst_limit}"
    access_log = _one(stage["access_log_settings"])
    assert access_log["destination_arn"] == "${aws_cloudwatch_log_group.api_access.arn}"
    assert access_log["format"].startswith("${jsonencode(")
