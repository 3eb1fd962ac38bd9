"""What the Lambda code asset imports exists in the Lambda runtime and the Powertools layer.

The functions ship ``functions/``, ``maas/`` (without the local runtime, the CLI and the
container code: packaging and serving) and
``schemas/`` as plain source; their dependencies come from the Python runtime (boto3) and
the Powertools layer (powertools, pydantic, the X-Ray SDK). An import of anything else would
pass every local test and fail on AWS at cold start.
"""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING

import pytest

from maas.manifest import PROJECT_ROOT

if TYPE_CHECKING:
    from pathlib import Path

#: Top-level packages the Lambda runtime or the Powertools layer provide.
PROVIDED = {
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "boto3",
    "botocore",
    "pydantic",
    "pydantic_core",
    "typing_extensions",
}
#: The asset's own packages.
SHIPPED = {"functions", "maas", "schemas"}
#: Parts of the repository the asset leaves out (see stacks/constructs/manifest_function.py).
LEFT_OUT = (
    "maas/local/",
    "maas/cli/",
    "maas/sdk/",
    "maas/packaging/",
    "maas/serving/",
    "maas/pipeline/local_embedder.py",
    "maas/evaluation/metrics.py",
    "maas/evaluation/scoring.py",
    "maas/evaluation/shard.py",
    "maas/evaluation/judges/local.py",
    "maas/evaluation/reward/",
    "maas/quantization/quantize.py",
    "maas/quantization/perplexity.py",
    "maas/quantization/package.py",
    "maas/workflow_build.py",
)


def asset_modules() -> list[Path]:
    files = []
    for package in sorted(SHIPPED):
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if not relative.startswith(LEFT_OUT):
                files.append(path)
    return files


def top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", asset_modules(), ids=lambda path: path.relative_to(PROJECT_ROOT).as_posix()
)
def test_every_asset_module_imports_only_what_lambda_provides(path: Path) -> None:
    foreign = top_level_imports(path) - sys.stdlib_module_names - PROVIDED - SHIPPED
    assert not foreign, f"{path.name} imports {sorted(foreign)}, which Lambda does not provide"


def test_the_asset_leaves_out_the_local_runtime_and_the_cli() -> None:
    shipped = {path.relative_to(PROJECT_ROOT).as_posix() for path in asset_modules()}
    assert not [name for name in shipped if name.startswith(LEFT_OUT)]
    assert "functions/plan_deployment.py" in shipped
