"""The GitHub Actions workflows: they parse, run the commands the README and dev.py define,
and deploy with OIDC credentials only. (infra/check also runs actionlint on them.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
# owner/repo@vN (a major version) or a workflow of this repository.
_PINNED = re.compile(r"^([\w.-]+/[\w./-]+@v\d+|\./[\w./-]+)$")


def _load(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def _triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as the boolean True.
    triggers = workflow["on"] if "on" in workflow else workflow[True]
    assert isinstance(triggers, dict)
    return triggers


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job.get("steps", []) if "uses" in step]


def _readme_command(comment: str) -> str:
    """The README's command whose comment starts with `comment` (in its "Two commands")."""
    for line in (ROOT / "README.md").read_text().splitlines():
        command, _, note = line.partition("#")
        if note.strip().startswith(comment) and command.strip().startswith("python3 dev.py"):
            return command.strip()
    raise AssertionError(f"the README lists no command for {comment!r}")


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return _load("ci.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return _load("deploy.yml")


def test_every_workflow_parses_and_pins_actions_to_a_major_version() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["ci.yml", "deploy.yml"]
    for path in files:
        workflow = _load(path.name)
        assert workflow["jobs"], path.name
        assert {"push", "pull_request"} <= set(_triggers(workflow)), path.name
        for name, job in workflow["jobs"].items():
            for uses in _uses(job):
                assert _PINNED.match(uses), f"{path.name} {name}: {uses} is not pinned to vN"


def test_ci_runs_the_readme_test_and_lint_commands(ci: dict[str, Any]) -> None:
    test_command = _readme_command("the test suite")
    assert test_command == "python3 dev.py test"
    runs = [run for job in ci["jobs"].values() for run in _runs(job)]
    assert any(run.startswith(test_command) for run in runs), runs
    assert "python3 dev.py lint" in runs
    assert "bash infra/check" in runs


def test_ci_tests_on_postgresql_15_and_python_311(ci: dict[str, Any]) -> None:
    job = next(j for j in ci["jobs"].values() if any("dev.py test" in r for r in _runs(j)))
    postgres = job["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "5432:5432" in postgres["ports"]
    python = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@")]
    assert python
    assert python[0]["with"]["python-version"] == "3.11"
    # tests/test_terraform.py runs terraform fmt.
    assert any(u.startswith("hashicorp/setup-terraform@") for u in _uses(job))


def test_local_ci_runs_the_infra_check() -> None:
    assert "bash infra/check" in (ROOT / ".ci" / "run").read_text().splitlines()


def test_deploy_packages_with_dev_py(deploy: dict[str, Any]) -> None:
    package = deploy["jobs"]["package"]
    assert "python3 dev.py package" in _runs(package)
    upload = next(s for s in package["steps"] if s.get("uses", "").startswith("actions/upload-"))
    assert upload["with"]["path"] == "dist/lambda.zip"


def test_aws_jobs_use_oidc_with_least_permissions(deploy: dict[str, Any]) -> None:
    assert deploy["permissions"] == {"contents": "read"}
    aws_jobs = {
        name: job
        for name, job in deploy["jobs"].items()
        if any(u.startswith("aws-actions/configure-aws-credentials@") for u in _uses(job))
    }
    assert set(aws_jobs) == {"plan", "apply-dev", "apply-prod"}
    for name, job in aws_jobs.items():
        assert job["permissions"] == {"id-token": "write", "contents": "read"}, name
        credentials = next(
            s for s in job["steps"] if s["uses"].startswith("aws-actions/configure-aws-")
        )
        assert "role-to-assume" in credentials["with"], name
        assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials["with"])


def test_plan_on_pull_requests_apply_on_main_behind_environments(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert any(r.startswith("terraform plan") for r in _runs(jobs["plan"]))
    assert any(
        s.get("uses", "").startswith("actions/upload-artifact@") for s in jobs["plan"]["steps"]
    )

    assert "refs/heads/main" in jobs["apply-dev"]["if"]
    assert "apply-dev" in jobs["apply-prod"]["needs"]
    for environment in ("dev", "prod"):
        job = jobs[f"apply-{environment}"]
        assert job["environment"] == environment
        runs = _runs(job)
        assert any(f"-var-file=environments/{environment}.tfvars" in r for r in runs)
        assert "terraform apply -lock-timeout=5m tfplan" in runs
