"""Rules deliver to state machines and functions with retries and a dead-letter queue.

This synthesizes the app with two more rules: one with both kinds of target (it starts
``Teardown`` and invokes ``PublishEvent``) on the control plane's bus, and one that listens
to an AWS service's own events on the account's default bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

cdk = pytest.importorskip("aws_cdk", reason="the stack tests need the cdk extra")

from aws_cdk.assertions import Match, Template  # noqa: E402

from maas.manifest import (  # noqa: E402
    MANIFEST,
    PROJECT_ROOT,
    RuleBus,
    RuleSpec,
    function_arn,
    state_machine_arn,
)
from stacks.config import read_cdk_json_context  # noqa: E402
from stacks.control_plane import build  # noqa: E402

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.stacks

RULE = RuleSpec(
    id="TeardownRequestedRule",
    description="Tear an endpoint down when asked on the bus.",
    event_pattern={"source": ["maas"], "detail-type": ["TeardownRequested"]},
    targets=(state_machine_arn("Teardown"), function_arn("PublishEvent")),
)
SERVICE_RULE = RuleSpec(
    id="ServiceStateRule",
    description="Hear an AWS service's own events.",
    event_pattern={"source": ["aws.sagemaker"], "detail-type": ["Test State Change"]},
    targets=(function_arn("PublishEvent"),),
    bus=RuleBus.DEFAULT,
)


@pytest.fixture(scope="module")
def lifecycle(tmp_path_factory: pytest.TempPathFactory) -> Template:
    monkeypatch = pytest.MonkeyPatch()
    extended = MANIFEST.model_copy(update={"rules": (*MANIFEST.rules, RULE, SERVICE_RULE)})
    monkeypatch.setattr("stacks.lifecycle.MANIFEST", extended)
    try:
        outdir: Path = tmp_path_factory.mktemp("cdk.out")
        app = cdk.App(
            context=read_cdk_json_context(PROJECT_ROOT / "cdk.json"),
            outdir=str(outdir),
        )
        plane = build(app)
        # cdk-nag runs here: an unacknowledged finding on the queue or the roles fails it.
        assembly = app.synth()
        template: dict[str, Any] = assembly.get_stack_by_name(plane.lifecycle.stack_name).template
    finally:
        monkeypatch.undo()
    return Template.from_json(template)


def test_each_target_retries_then_dead_letters(lifecycle: Template) -> None:
    lifecycle.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {"source": ["maas"], "detail-type": ["TeardownRequested"]},
            "Targets": Match.array_with(
                [
                    Match.object_like(
                        {
                            "DeadLetterConfig": {"Arn": Match.any_value()},
                            "RetryPolicy": {
                                "MaximumRetryAttempts": 8,
                                "MaximumEventAgeInSeconds": 86400,
                            },
                            "RoleArn": Match.any_value(),
                        }
                    )
                ]
            ),
        },
    )


def test_the_dead_letter_queue_is_encrypted_and_tls_only(lifecycle: Template) -> None:
    lifecycle.has_resource_properties(
        "AWS::SQS::Queue", {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1209600}
    )
    lifecycle.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_eventbridge_may_invoke_the_function_target(lifecycle: Template) -> None:
    lifecycle.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com"},
    )


def test_a_rule_on_the_control_plane_bus_names_it(lifecycle: Template) -> None:
    (rule,) = lifecycle.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventPattern": RULE.event_pattern}}
    ).values()
    assert "EventBusName" in rule["Properties"]


def test_a_rule_for_aws_service_events_listens_on_the_default_bus(lifecycle: Template) -> None:
    (rule,) = lifecycle.find_resources(
        "AWS::Events::Rule", {"Properties": {"EventPattern": SERVICE_RULE.event_pattern}}
    ).values()
    # CloudFormation puts a rule without a bus name on the account's default bus.
    assert "EventBusName" not in rule["Properties"]
