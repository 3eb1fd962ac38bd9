"""docs/events.md's code, run as written, against the page's own sample event and pattern.

The CDK block is a stack's constructor body (it names ``self``): it runs inside one, and the
synthesized rule must carry the page's event pattern. The handler block is called with the
page's sample event. The ``aws events put-events`` block needs the AWS CLI and an account (it
is marked as not run); its entry's detail is still checked to be a valid request.
"""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from schemas.events import EndpointInService
from schemas.lifecycle import LifecycleRequest
from tests.docblocks import containing, page_blocks, runs

if TYPE_CHECKING:
    from constructs import Construct

PAGE = "docs/events.md"
(CDK_RULE,) = runs(PAGE, "python", containing("events.Rule("))
(HANDLER,) = runs(PAGE, "python", containing("def handler("))
(SAMPLE,) = [
    block for block in page_blocks(PAGE) if block.info == "json" and '"version"' in block.text
]
(PATTERN,) = [
    block for block in page_blocks(PAGE) if block.info == "json" and '"version"' not in block.text
]


def test_the_cdk_rule_synthesizes_with_the_pages_pattern() -> None:
    import aws_cdk as cdk
    from aws_cdk.assertions import Match, Template

    class Subscriber(cdk.Stack):
        def __init__(self, scope: Construct, construct_id: str) -> None:
            super().__init__(scope, construct_id)
            exec(compile(CDK_RULE.text, CDK_RULE.where, "exec"), {"self": self})  # the page's

    stack = Subscriber(cdk.App(), "Subscriber")
    template = Template.from_stack(stack)

    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": json.loads(PATTERN.text),
            "Targets": [
                Match.object_like(
                    {"RetryPolicy": {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 8}}
                )
            ],
        },
    )
    template.resource_count_is("AWS::SQS::Queue", 1)


def test_the_handler_validates_the_pages_sample_event() -> None:
    scope: dict[str, Any] = {}
    exec(compile(HANDLER.text, HANDLER.where, "exec"), scope)  # the page's own code
    event = json.loads(SAMPLE.text)

    assert scope["handler"](event, None) is None
    assert EndpointInService.model_validate(event["detail"]).endpoint_name == "chat"


def test_the_put_events_entry_is_a_valid_lifecycle_request() -> None:
    (block,) = [block for block in page_blocks(PAGE) if "put-events" in block.text]
    assert block.not_run
    arguments = shlex.split(block.text.replace("\\\n", " "))
    entries = json.loads(arguments[arguments.index("--entries") + 1])

    (entry,) = entries
    assert entry["DetailType"] == "LifecycleRequested"
    request = LifecycleRequest.model_validate_json(entry["Detail"])
    assert request.tenant_id == "acme"
