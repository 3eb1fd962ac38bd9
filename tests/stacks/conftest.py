"""Synthesize the CDK app once for every stack test, the way ``app.py`` does.

Synthesis takes seconds, so it happens once per session (and, through the scheduler in
``tests/conftest.py``, in one worker). A synthesis that fails (cdk-nag, the observability aspect)
does not error the fixture: the tests that need templates fail with the reason, and the
compliance tests say which findings caused it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

cdk = pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")

from aws_cdk.assertions import Template  # noqa: E402

from maas.manifest import PROJECT_ROOT  # noqa: E402
from stacks.config import read_cdk_json_context  # noqa: E402
from stacks.control_plane import build  # noqa: E402
from tests.stacks.synthesis import Synthesized  # noqa: E402

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app of the default stage, synthesized into a temporary cdk.out."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(context=read_cdk_json_context(PROJECT_ROOT / "cdk.json"), outdir=str(outdir))
    plane = build(app)
    try:
        assembly = app.synth()
    except RuntimeError as exc:
        return Synthesized(app=app, plane=plane, outdir=outdir, assembly=None, error=str(exc))
    return Synthesized(app=app, plane=plane, outdir=outdir, assembly=assembly, error=None)


@pytest.fixture(scope="session")
def plane(synthesized: Synthesized) -> ControlPlane:
    """The stage's stacks."""
    return synthesized.plane


@pytest.fixture(scope="session")
def foundation_json(synthesized: Synthesized) -> dict[str, Any]:
    """The foundation stack's template."""
    return synthesized.template_dict(synthesized.plane.foundation)


@pytest.fixture(scope="session")
def packaging_json(synthesized: Synthesized) -> dict[str, Any]:
    """The packaging stack's template."""
    return synthesized.template_dict(synthesized.plane.packaging)


@pytest.fixture(scope="session")
def lifecycle_json(synthesized: Synthesized) -> dict[str, Any]:
    """The lifecycle stack's template."""
    return synthesized.template_dict(synthesized.plane.lifecycle)


@pytest.fixture(scope="session")
def foundation(foundation_json: dict[str, Any]) -> Template:
    """The foundation stack's template, for assertions."""
    return Template.from_json(foundation_json)


@pytest.fixture(scope="session")
def packaging(packaging_json: dict[str, Any]) -> Template:
    """The packaging stack's template, for assertions."""
    return Template.from_json(packaging_json)


@pytest.fixture(scope="session")
def lifecycle(lifecycle_json: dict[str, Any]) -> Template:
    """The lifecycle stack's template, for assertions."""
    return Template.from_json(lifecycle_json)


@pytest.fixture(scope="session")
def observability_json(synthesized: Synthesized) -> dict[str, Any]:
    """The observability stack's template."""
    return synthesized.template_dict(synthesized.plane.observability)


@pytest.fixture(scope="session")
def guardrails_json(synthesized: Synthesized) -> dict[str, Any]:
    """The guardrails stack's template."""
    return synthesized.template_dict(synthesized.plane.guardrails)


@pytest.fixture(scope="session")
def api_json(synthesized: Synthesized) -> dict[str, Any]:
    """The API stack's template."""
    return synthesized.template_dict(synthesized.plane.api)
