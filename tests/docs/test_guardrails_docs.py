"""docs/guardrails.md's code, run as written, each value it shows in a comment checked.

The first block runs from the repository's folder (it reads the bundled policy); the second
with a local runtime in this process, whose emulated SSM and Bedrock its default clients
reach, as they reach AWS's.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import pytest

from maas.guardrails.config import DEFAULT_POLICY
from maas.local import LocalRuntime
from tests.docblocks import ROOT, containing, runs
from tests.docs.support import run_code, shown_values
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator

PAGE = "docs/guardrails.md"
(LOCAL,) = runs(PAGE, "python", containing("LocalGuardrail("))
(STAGE,) = runs(PAGE, "python", containing("resolve_guardrail("))


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        yield local


def test_the_local_engine_masks_as_the_page_shows() -> None:
    assert len(shown_values(LOCAL)) == 3
    with contextlib.chdir(ROOT):
        scope = run_code(LOCAL)
    assert scope["response"].to_bedrock()["action"] == "GUARDRAIL_INTERVENED"


def test_the_stages_guardrail_blocks_as_the_page_shows(runtime: LocalRuntime) -> None:
    assert FAST.setting_values()["stage_name"] == "dev"
    assert len(shown_values(STAGE)) == 1
    scope = run_code(STAGE)
    # No tenant parameter for acme: the stage's default guardrail answered.
    default = json.loads(DEFAULT_POLICY.read_text())
    assert scope["prompt"].text == default["blockedInputMessaging"]
