"""The quantize_model state machine's role: what the packaging workflow's role may do, no more.

It runs the same Batch job (the packager's queue and definition, under its tenant's session)
and the same registration functions; only its first step's function is its own
(``PlanQuantization``, whose permissions ``test_iam_scoping.py`` lists with every function's).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.stacks.cfn_template import logical_id_of, policy_statements

if TYPE_CHECKING:
    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks


def _statements(template: dict[str, Any], plane: ControlPlane, machine_id: str) -> set[str]:
    machine = plane.lifecycle.state_machines[machine_id].state_machine
    role = template["Resources"][logical_id_of(machine)]["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return {
        json.dumps(statement, sort_keys=True) for statement in policy_statements(template, role)
    }


def _function_names(statements: set[str]) -> set[str]:
    return {text for text in statements if "lambda:InvokeFunction" in text}


def test_it_submits_and_follows_the_jobs_the_packaging_workflow_does(
    lifecycle_json: dict[str, Any], plane: ControlPlane
) -> None:
    quantize = _statements(lifecycle_json, plane, "QuantizeModel")
    package = _statements(lifecycle_json, plane, "PackageModel")
    # Everything but the functions it invokes (its plan is PlanQuantization) is the same.
    assert quantize - _function_names(quantize) == package - _function_names(package)
    [invoke] = [json.loads(text) for text in _function_names(quantize)]
    invoked = json.dumps(invoke["Resource"])
    assert "PlanQuantization" in invoked
    assert "PlanPackaging" not in invoked
