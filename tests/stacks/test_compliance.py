"""cfn-lint, cdk-nag and the observability aspect pass, and every acknowledgment is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks

from maas.manifest import PROJECT_ROOT
from stacks.control_plane import build

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane
    from tests.stacks.synthesis import Synthesized

pytestmark = pytest.mark.stacks

CFN_LINT = Path(sys.executable).with_name("cfn-lint")
DOCS = PROJECT_ROOT / "docs" / "stacks.md"


def _acknowledgments(app: cdk.App) -> dict[str, set[str]]:
    """Every acknowledged finding in the app, with the reasons given for it."""
    found: dict[str, set[str]] = {}
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for finding, reason in entry.data.items():
                    found.setdefault(finding.removeprefix("Annotation::"), set()).add(reason)
    return found


def test_synthesis_succeeds(synthesized: Synthesized) -> None:
    assert synthesized.error is None


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    report = AwsSolutionsChecks(verbose=True).validate_scope(synthesized.app)
    findings = [
        f"{violation.rule_name} at {[r.construct_path for r in violation.violating_resources]}"
        for violation in report.violations
    ]
    assert report.success, "\n".join(findings)


def test_cfn_lint_passes_every_template(synthesized: Synthesized) -> None:
    templates = sorted(str(path) for path in synthesized.outdir.glob("*.template.json"))
    assert len(templates) == 6  # foundation, packaging, lifecycle, observability, guardrails, api
    # From the project root, so that .cfnlintrc applies as it does for `make cfn-lint`.
    result = subprocess.run(
        [str(CFN_LINT), *templates], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_acknowledgment_has_a_reason_and_is_documented(synthesized: Synthesized) -> None:
    acknowledgments = _acknowledgments(synthesized.app)
    assert acknowledgments
    docs = DOCS.read_text()
    stage = synthesized.plane.config.name
    for finding, reasons in acknowledgments.items():
        assert all(len(reason) > 40 for reason in reasons), finding
        documented = finding.replace(f"maas-{stage}-", "maas-<stage>-")
        assert f"`{documented}`" in docs, f"{documented} is not in {DOCS.name}"


def test_app_exits_nonzero_on_a_finding_or_an_unobservable_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import app

    def build_with_flaws(scope: cdk.App, *, env: cdk.Environment | None = None) -> ControlPlane:
        plane = build(scope, env=env)
        iam.Role(
            plane.lifecycle,
            "TooBroad",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AdministratorAccess")
            ],
        )
        logs.CfnLogGroup(plane.lifecycle, "Forever")
        return plane

    monkeypatch.setattr(app, "build", build_with_flaws)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))

    assert app.main() == 1
    stderr = capsys.readouterr().err
    assert "AwsSolutions-IAM4" in stderr
    assert "log group that keeps events forever" in stderr
