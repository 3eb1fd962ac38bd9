"""cfn-lint's state machine rules on each workflow's plain definition.

CDK puts a definition into the template as a ``Fn::Join`` of strings, and cfn-lint does not
look inside a definition built by an intrinsic function, so linting the synthesized templates
never checks the workflows themselves. Here each definition goes into a minimal template as
a JSON object, every ``${Slot}`` filled with a well-formed value of the kind the manifest
says it is, and cfn-lint (rule E3601 among all the others) must find nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from maas.asl import check_definition
from maas.manifest import MANIFEST, Ref, RefKind, StateMachineSpec

cfnlint_api = pytest.importorskip("cfnlint.api", reason="cfn-lint comes with the cdk extra")

ACCOUNT = "123456789012"
REGION = "us-east-1"
STATE_MACHINE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/maas-state-machine"
SLOT = re.compile(r"\$\{([A-Za-z0-9]+)\}")


#: What a slot of each kind is filled with; ``{name}`` is a name derived from its target.
DUMMY_VALUE_FORMATS: dict[RefKind, str] = {
    RefKind.FUNCTION_ARN: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}",
    RefKind.STATE_MACHINE_ARN: f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{{name}}",
    RefKind.ROLE_ARN: f"arn:aws:iam::{ACCOUNT}:role/{{name}}",
    RefKind.LOG_GROUP_ARN: f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{name}}",
    RefKind.TABLE_NAME: "{name}",
    RefKind.BUCKET_NAME: "{name}",
    RefKind.EVENT_BUS_NAME: "{name}",
    RefKind.JOB_QUEUE_ARN: f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/{{name}}",
    RefKind.JOB_DEFINITION_ARN: f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/{{name}}:1",
}


def dummy_value(ref: Ref) -> str:
    """A syntactically valid stand-in for what ``ref`` resolves to when deployed."""
    if ref.kind is RefKind.SETTING:
        return MANIFEST.setting(ref.target).default
    return DUMMY_VALUE_FORMATS[ref.kind].format(name=f"maas-{ref.target.lower()}")


def filled_definition(spec: StateMachineSpec) -> dict[str, Any]:
    """The state machine's definition with every slot filled, as a deployment would."""

    def fill(slot: re.Match[str]) -> str:
        ref = spec.substitutions.get(slot[1])
        assert ref is not None, f"{spec.definition}: slot {slot[0]} has no substitution"
        return dummy_value(ref)

    definition: dict[str, Any] = json.loads(SLOT.sub(fill, spec.definition_text()))
    return definition


def template_with(definition: dict[str, Any]) -> str:
    """A CloudFormation template of one state machine whose Definition is a JSON object."""
    return json.dumps(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {
                "StateMachine": {
                    "Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {
                        "StateMachineType": "STANDARD",
                        "Definition": definition,
                        "RoleArn": STATE_MACHINE_ROLE_ARN,
                    },
                }
            },
        }
    )


def lint_messages(definition: dict[str, Any]) -> list[str]:
    """Every cfn-lint match on the template of ``definition``, as ``rule-id: message``."""
    matches = cfnlint_api.lint(template_with(definition), regions=[REGION])
    return [f"{match.rule.id}: {match.message}" for match in matches]


@pytest.mark.parametrize(
    ("broken_state", "expected"),
    [
        (
            {"Type": "Choice", "Default": "Done"},
            "E3601: 'Choices' is a required property",
        ),
        (
            {"Type": "Sleep", "Next": "Done"},
            "E3601: 'Sleep' is not one of",
        ),
    ],
    ids=["choice-without-choices", "unknown-state-type"],
)
def test_cfn_lint_reports_a_broken_definition_given_as_an_object(
    broken_state: dict[str, Any], expected: str
) -> None:
    definition = {
        "StartAt": "Broken",
        "States": {"Broken": broken_state, "Done": {"Type": "Succeed"}},
    }

    messages = lint_messages(definition)

    assert any(message.startswith(expected) for message in messages), messages


#: cfn-lint 1.x's JSONata schema takes an expression for a Wait state's ``Seconds`` only, and
#: wants a number for a Task's ``TimeoutSeconds``; Step Functions takes a JSONata expression
#: there too in a JSONata state (the Task state's TimeoutSeconds,
#: https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html; CDK's
#: ``Timeout.jsonata`` writes one). Only that message, for an expression, is not a finding.
JSONATA_NUMBER_GAP = re.compile(r"^E3601: '\{%.*%\}' is not of type 'number'$")


@pytest.mark.parametrize("spec", MANIFEST.state_machines, ids=lambda spec: spec.id)
def test_state_machine_definition_passes_cfn_lint(spec: StateMachineSpec) -> None:
    definition = filled_definition(spec)
    assert check_definition(definition, allow_slots=False) == []

    messages = lint_messages(definition)
    assert [message for message in messages if not JSONATA_NUMBER_GAP.match(message)] == []


def test_cfn_lint_still_checks_a_number_that_is_not_an_expression() -> None:
    state = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "Call",
        "States": {"Call": {**state, "TimeoutSeconds": "ten"}},
    }

    messages = lint_messages(definition)

    assert "E3601: 'ten' is not of type 'number'" in messages
    assert not any(JSONATA_NUMBER_GAP.match(message) for message in messages)
