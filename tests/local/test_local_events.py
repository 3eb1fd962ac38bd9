"""EventBridge on the local runtime: rules deliver to state machines and functions too."""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest

from maas.executions import read_execution
from maas.local.events import DEFAULT_EVENT_BUS, put_service_event
from tests.local import handlers
from tests.local.support import unique, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction

    Delivered = Callable[..., list[ExecutionSnapshot]]

DETAIL = {"endpoint_name": "chat", "size": 2}
RESOURCES = ["arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat"]
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

#: A state machine whose output is its input: what the rule delivered.
ECHO_MACHINE: dict[str, Any] = {
    "StartAt": "Echo",
    "States": {"Echo": {"Type": "Pass", "End": True}},
}


@pytest.fixture
def source() -> str:
    """The event source of this test's events and rules (no other test uses it)."""
    return unique("test.maas")


@pytest.fixture(scope="module")
def add_rule(runtime: LocalRuntime) -> Callable[..., str]:
    """Put a rule with these targets on the runtime's bus; return its name."""
    events = runtime.client("events")

    def add(pattern: dict[str, Any], *targets: dict[str, Any]) -> str:
        name = unique("rule")
        events.put_rule(
            Name=name, EventBusName=runtime.resources.event_bus, EventPattern=json.dumps(pattern)
        )
        events.put_targets(
            Rule=name,
            EventBusName=runtime.resources.event_bus,
            Targets=[{"Id": f"target-{index}", **target} for index, target in enumerate(targets)],
        )
        return name

    return add


@pytest.fixture
def echo_rule(
    source: str,
    create_state_machine: Callable[[dict[str, Any]], str],
    add_rule: Callable[..., str],
) -> Callable[..., str]:
    """A rule (on this test's source unless a pattern is given) whose target is a fresh
    :data:`ECHO_MACHINE` with these target fields; returns the state machine's ARN."""

    def add(pattern: dict[str, Any] | None = None, **target: Any) -> str:
        machine = create_state_machine(ECHO_MACHINE)
        add_rule(pattern or {"source": [source]}, {"Arn": machine, **target})
        return machine

    return add


@pytest.fixture
def publish(runtime: LocalRuntime, source: str) -> Callable[..., None]:
    """Put one event on the runtime's bus, from this test's source unless told otherwise."""
    events = runtime.client("events")

    def put(
        detail: dict[str, Any], *, detail_type: str = "EndpointReady", source: str = source
    ) -> None:
        response = events.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "Resources": RESOURCES,
                    "EventBusName": runtime.resources.event_bus,
                }
            ]
        )
        assert response["FailedEntryCount"] == 0, response

    return put


@pytest.fixture(scope="module")
def delivered(runtime: LocalRuntime) -> Delivered:
    """Wait until the state machine has ``count`` stopped executions; return them."""
    stepfunctions = runtime.client("stepfunctions")

    def executions(state_machine_arn: str, count: int = 1) -> list[ExecutionSnapshot]:
        def stopped() -> list[ExecutionSnapshot] | None:
            listed = stepfunctions.list_executions(stateMachineArn=state_machine_arn)["executions"]
            snapshots = [read_execution(stepfunctions, item["executionArn"]) for item in listed]
            done = [snapshot for snapshot in snapshots if snapshot.done]
            return done if len(done) >= count else None

        return wait_until(stopped)  # type: ignore[no-any-return]

    return executions


# State machine targets


def test_a_state_machine_target_starts_an_execution_whose_input_is_the_event(
    runtime: LocalRuntime,
    source: str,
    echo_rule: Callable[..., str],
    publish: Callable[..., None],
    delivered: Delivered,
) -> None:
    machine = echo_rule()

    publish(DETAIL)

    [execution] = delivered(machine)
    event = execution.output
    assert execution.status == "SUCCEEDED"
    assert event["source"] == source
    assert event["detail-type"] == "EndpointReady"
    assert event["detail"] == DETAIL
    assert event["account"] == runtime.settings.account_id
    assert event["region"] == runtime.settings.region
    assert event["resources"] == RESOURCES
    assert ISO_SECONDS.match(event["time"]), event["time"]
    assert "ingestion-time" not in event


def test_each_delivery_starts_its_own_execution(
    echo_rule: Callable[..., str], publish: Callable[..., None], delivered: Delivered
) -> None:
    machine = echo_rule()

    publish({"n": 1})
    publish({"n": 2})

    executions = delivered(machine, 2)
    assert len({execution.arn for execution in executions}) == 2
    assert sorted(execution.output["detail"]["n"] for execution in executions) == [1, 2]


def test_input_path_hands_the_target_part_of_the_event(
    echo_rule: Callable[..., str], publish: Callable[..., None], delivered: Delivered
) -> None:
    machine = echo_rule(InputPath="$.detail")

    publish(DETAIL)

    [execution] = delivered(machine)
    assert execution.output == DETAIL


def test_an_input_transformer_builds_the_target_input_from_the_event(
    echo_rule: Callable[..., str], publish: Callable[..., None], delivered: Delivered
) -> None:
    machine = echo_rule(
        InputTransformer={
            "InputPathsMap": {"endpoint": "$.detail.endpoint_name", "kind": "$.detail-type"},
            "InputTemplate": '{"endpoint_name": <endpoint>, "because": <kind>}',
        }
    )

    publish(DETAIL)

    [execution] = delivered(machine)
    assert execution.output == {"endpoint_name": "chat", "because": "EndpointReady"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{"says": "<endpoint> is <kind>"}', {"says": "chat is EndpointReady"}),
        ('{"detail": <detail>, "sizes": [1, <size>]}', {"detail": DETAIL, "sizes": [1, 2]}),
        ('"<endpoint> is \\"<kind>\\""', 'chat is "EndpointReady"'),
        ('{"event": <aws.events.event.json>}', {"event": {"detail": DETAIL}}),
    ],
    ids=["inside-a-string", "objects-and-numbers", "a-json-string", "the-whole-event"],
)
def test_an_input_transformer_fills_placeholders_as_json_values_or_as_text(
    template: str,
    expected: Any,
    echo_rule: Callable[..., str],
    publish: Callable[..., None],
    delivered: Delivered,
) -> None:
    paths = {
        "endpoint": "$.detail.endpoint_name",
        "kind": "$.detail-type",
        "detail": "$.detail",
        "size": "$.detail.size",
    }
    machine = echo_rule(InputTransformer={"InputPathsMap": paths, "InputTemplate": template})

    publish(DETAIL)

    [execution] = delivered(machine)
    if isinstance(expected, dict) and "event" in expected:
        assert execution.output["event"]["detail"] == DETAIL
        assert execution.output["event"]["resources"] == RESOURCES
    else:
        assert execution.output == expected


def test_a_constant_input_replaces_the_event(
    echo_rule: Callable[..., str], publish: Callable[..., None], delivered: Delivered
) -> None:
    machine = echo_rule(Input='{"action": "sweep"}')

    publish(DETAIL)

    [execution] = delivered(machine)
    assert execution.output == {"action": "sweep"}


# Matching: moto's matcher decides


def test_an_event_that_does_not_match_the_pattern_delivers_nothing(
    runtime: LocalRuntime,
    source: str,
    echo_rule: Callable[..., str],
    publish: Callable[..., None],
    delivered: Delivered,
) -> None:
    machine = echo_rule(
        {"source": [{"prefix": source}], "detail-type": [{"anything-but": "EndpointDeleted"}]}
    )

    publish({"n": "wrong source"}, source=f"other.{source}")
    publish({"n": "excluded detail-type"}, detail_type="EndpointDeleted")
    publish({"n": "matches"}, source=f"{source}.deploy")

    [execution] = delivered(machine)
    assert execution.output["detail"] == {"n": "matches"}
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert len(listed["executions"]) == 1


# Function targets


def test_a_function_target_is_invoked_asynchronously_with_the_event(
    source: str,
    deploy_function: Callable[..., LocalFunction],
    add_rule: Callable[..., str],
    publish: Callable[..., None],
    log_messages: Callable[[str], list[str]],
) -> None:
    function = deploy_function("print_event")
    add_rule({"source": [source]}, {"Arn": function.arn})
    rendezvous = unique("delivery")
    handlers.RENDEZVOUS[rendezvous] = threading.Barrier(2)

    publish({"rendezvous": rendezvous})
    # Had PutEvents run the handler before answering, the handler would still be waiting.
    handlers.RENDEZVOUS[rendezvous].wait(timeout=5)

    def received() -> dict[str, Any] | None:
        for message in log_messages(function.log_group):
            if message.startswith('{"received"'):
                return json.loads(message)["received"]  # type: ignore[no-any-return]
        return None

    event = wait_until(received)
    assert event["source"] == source
    assert event["detail"] == {"rendezvous": rendezvous}
    assert ISO_SECONDS.match(event["time"]), event["time"]


# Targets moto delivers itself


def test_a_log_group_target_on_the_same_rule_still_receives_the_event(
    runtime: LocalRuntime,
    source: str,
    echo_rule: Callable[..., str],
    publish: Callable[..., None],
    log_messages: Callable[[str], list[str]],
) -> None:
    log_group = f"/maas/test/{unique('events')}"
    runtime.client("logs").create_log_group(logGroupName=log_group)
    group_arn = f"arn:aws:logs:us-east-1:{runtime.settings.account_id}:log-group:{log_group}"
    machine = echo_rule()
    rule = runtime.client("events").list_rule_names_by_target(
        TargetArn=machine, EventBusName=runtime.resources.event_bus
    )["RuleNames"][0]
    runtime.client("events").put_targets(
        Rule=rule,
        EventBusName=runtime.resources.event_bus,
        Targets=[{"Id": "log-group", "Arn": group_arn}],
    )

    publish(DETAIL)

    [message] = wait_until(lambda: log_messages(log_group))
    logged = json.loads(message)
    assert logged["source"] == source
    assert logged["detail"] == DETAIL
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert len(listed["executions"]) == 1


# Deliveries that fail


def test_a_delivery_that_fails_is_kept_with_its_rule_and_target(
    runtime: LocalRuntime,
    source: str,
    add_rule: Callable[..., str],
    publish: Callable[..., None],
) -> None:
    missing = f"arn:aws:states:us-east-1:{runtime.settings.account_id}:stateMachine:missing"
    rule = add_rule({"source": [source]}, {"Arn": missing})

    publish(DETAIL)

    failures = [failure for failure in runtime.events.failed_deliveries if failure.rule == rule]
    assert [failure.target_arn for failure in failures] == [missing]
    assert "StateMachineDoesNotExist" in failures[0].error


def test_a_disabled_rule_delivers_nothing(
    runtime: LocalRuntime,
    source: str,
    create_state_machine: Callable[[dict[str, Any]], str],
    add_rule: Callable[..., str],
    *,
    publish: Callable[..., None],
    delivered: Delivered,
) -> None:
    disabled = create_state_machine(ECHO_MACHINE)
    enabled = create_state_machine(ECHO_MACHINE)
    rule = add_rule({"source": [source]}, {"Arn": disabled})
    add_rule({"source": [source]}, {"Arn": enabled})
    runtime.client("events").disable_rule(Name=rule, EventBusName=runtime.resources.event_bus)

    publish(DETAIL)

    delivered(enabled)
    stepfunctions = runtime.client("stepfunctions")
    assert stepfunctions.list_executions(stateMachineArn=disabled)["executions"] == []


# AWS services' own events: the default bus


def test_a_service_event_reaches_the_rules_of_the_default_bus_only(
    runtime: LocalRuntime,
    source: str,
    create_state_machine: Callable[[dict[str, Any]], str],
    delivered: Delivered,
) -> None:
    events = runtime.client("events")
    on_default = create_state_machine(ECHO_MACHINE)
    on_plane = create_state_machine(ECHO_MACHINE)
    for bus, machine in ((DEFAULT_EVENT_BUS, on_default), (runtime.resources.event_bus, on_plane)):
        name = unique("rule")
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": machine}])

    put_service_event(
        events, source=source, detail_type="Thing State Change", detail=DETAIL, resources=RESOURCES
    )

    (execution,) = delivered(on_default)
    event = execution.output
    assert (event["source"], event["detail-type"], event["detail"]) == (
        source,
        "Thing State Change",
        DETAIL,
    )
    assert event["resources"] == RESOURCES
    stepfunctions = runtime.client("stepfunctions")
    assert stepfunctions.list_executions(stateMachineArn=on_plane)["executions"] == []
