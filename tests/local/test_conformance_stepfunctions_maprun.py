"""Map Runs of a Distributed Map and their child executions, as AWS documents them.

- Distributed Map: https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
  (each item runs as a child workflow execution of the Map Run; the Map Run's state machine
  is ``stateMachine:<machine>/<label>``).
- DescribeMapRun: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html
  (``executionCounts`` and ``itemCounts``; ``redriveCount`` is 0 for a Map Run never
  redriven; errors ``InvalidArn`` and ``ResourceNotFound``).
- ListMapRuns: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html
  (pages with ``maxResults`` and ``nextToken``; ``ExecutionDoesNotExist``).
- UpdateMapRun: https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateMapRun.html
  (``toleratedFailurePercentage`` 0 to 100, ``ValidationException`` beyond).
- ListExecutions: https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
  ("You can specify either a mapRunArn or a stateMachineArn, but not both"; ``mapRunArn``
  lists the Map Run's child executions, each with ``mapRunArn`` and ``itemCount``;
  ``redriveFilter`` is ``REDRIVEN`` or ``NOT_REDRIVEN``).
- DescribeExecution: https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
  (``mapRunArn``: "the Map Run which dispatched this execution").
- Failure thresholds: https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html
  (the Map Run fails with ``States.ExceedToleratedFailureThreshold`` once its failed items
  exceed the tolerated count or percentage, 0 by default; the cause's wording is the
  runtime's).

AWS words ``InvalidArn`` "Invalid Arn: 'Invalid ARN prefix: <arn>'" for what is not an ARN
and "Invalid Arn: 'Resource type not valid in this context: <type>'" for another
resource's; the ``ResourceNotFound`` message ("Resource not found: '<arn>'") is moto's,
not one recorded from AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from maas.local.stepfunctions_maprun import exceeds_threshold

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime

#: A Distributed Map over ``$.items``: each child gets ``{"v": item}`` and fails for 2.
_DISTRIBUTED: dict[str, Any] = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "Label": "fan",
            "MaxConcurrency": 1,
            "ItemSelector": {"v.$": "$$.Map.Item.Value"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Two",
                "States": {
                    "Two": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.v", "NumericEquals": 2, "Next": "Fail"}],
                        "Default": "Done",
                    },
                    "Fail": {"Type": "Fail", "Error": "Item.Two", "Cause": "two"},
                    "Done": {"Type": "Pass", "End": True},
                },
            },
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def machine(create_state_machine: Callable[[dict[str, Any]], str]) -> str:
    return create_state_machine(_DISTRIBUTED)


@pytest.fixture(scope="module")
def parent_run(machine: str, run_execution: Callable[..., ExecutionSnapshot]) -> ExecutionSnapshot:
    """A finished execution whose Map Run had items 1, 2 (failed) and 3."""
    return run_execution(machine, {"items": [1, 2, 3]})


@pytest.fixture(scope="module")
def parent(parent_run: ExecutionSnapshot) -> str:
    return parent_run.arn


@pytest.fixture(scope="module")
def map_run(runtime: LocalRuntime, parent: str) -> str:
    runs = runtime.client("stepfunctions").list_map_runs(executionArn=parent)["mapRuns"]
    assert len(runs) == 1
    return str(runs[0]["mapRunArn"])


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def test_list_map_runs_names_the_run_and_its_state_machine(
    runtime: LocalRuntime, machine: str, parent: str, map_run: str
) -> None:
    (run,) = runtime.client("stepfunctions").list_map_runs(executionArn=parent)["mapRuns"]

    assert run["executionArn"] == parent
    assert run["mapRunArn"].startswith(machine.replace(":stateMachine:", ":mapRun:") + "/fan:")
    assert run["stateMachineArn"] == f"{machine}/fan"
    assert run["stopDate"] >= run["startDate"]


def test_describe_map_run_counts_each_child_once_in_its_final_status(
    runtime: LocalRuntime, parent: str, map_run: str
) -> None:
    described = runtime.client("stepfunctions").describe_map_run(mapRunArn=map_run)

    assert described["executionArn"] == parent
    assert described["maxConcurrency"] == 1
    assert described["redriveCount"] == 0
    counts = described["executionCounts"]
    # A failed child is failed, not also still running.
    assert (counts["total"], counts["succeeded"], counts["failed"], counts["running"]) == (
        3,
        2,
        1,
        0,
    )
    assert counts["pending"] == counts["aborted"] == counts["timedOut"] == 0
    items = described["itemCounts"]
    assert (items["total"], items["succeeded"], items["failed"], items["running"]) == (3, 2, 1, 0)


def test_list_executions_of_a_map_run_lists_its_children_newest_first(
    runtime: LocalRuntime, machine: str, map_run: str
) -> None:
    children = runtime.client("stepfunctions").list_executions(mapRunArn=map_run)["executions"]

    assert len(children) == 3
    assert [child["startDate"] for child in children] == sorted(
        (child["startDate"] for child in children), reverse=True
    )
    for child in children:
        assert child["mapRunArn"] == map_run
        assert child["stateMachineArn"] == f"{machine}/fan"
        assert child["executionArn"] == (
            f"{machine.replace(':stateMachine:', ':execution:')}/fan:{child['name']}"
        )
        assert child["itemCount"] == 1
    assert sorted(child["status"] for child in children) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]


def test_describe_execution_of_a_child_answers_its_map_run_input_and_outcome(
    runtime: LocalRuntime, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    children = stepfunctions.list_executions(mapRunArn=map_run)["executions"]
    described = {
        child["executionArn"]: stepfunctions.describe_execution(executionArn=child["executionArn"])
        for child in children
    }

    by_input = {answer["input"]: answer for answer in described.values()}
    assert set(by_input) == {'{"v": 1}', '{"v": 2}', '{"v": 3}'}  # after ItemSelector
    failed = by_input['{"v": 2}']
    assert (failed["status"], failed["error"], failed["cause"]) == ("FAILED", "Item.Two", "two")
    assert "output" not in failed
    done = by_input['{"v": 3}']
    assert (done["status"], done["output"]) == ("SUCCEEDED", '{"v": 3}')
    for answer in described.values():
        assert answer["mapRunArn"] == map_run
        assert answer["stopDate"] >= answer["startDate"]


def test_list_executions_of_a_map_run_filters_by_status_and_pages(
    runtime: LocalRuntime, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")

    failed = stepfunctions.list_executions(mapRunArn=map_run, statusFilter="FAILED")
    first = stepfunctions.list_executions(mapRunArn=map_run, maxResults=2)
    rest = stepfunctions.list_executions(
        mapRunArn=map_run, maxResults=2, nextToken=first["nextToken"]
    )
    pages = stepfunctions.get_paginator("list_executions").paginate(
        mapRunArn=map_run, PaginationConfig={"PageSize": 1}
    )

    assert [child["status"] for child in failed["executions"]] == ["FAILED"]
    assert len(first["executions"]) == 2
    assert len(rest["executions"]) == 1
    assert "nextToken" not in rest
    assert len({e["executionArn"] for page in pages for e in page["executions"]}) == 3


def test_nothing_is_redriven_so_only_not_redriven_lists_children(
    runtime: LocalRuntime, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")

    redriven = stepfunctions.list_executions(mapRunArn=map_run, redriveFilter="REDRIVEN")
    not_redriven = stepfunctions.list_executions(mapRunArn=map_run, redriveFilter="NOT_REDRIVEN")

    assert redriven["executions"] == []
    assert len(not_redriven["executions"]) == 3


def test_list_executions_takes_a_state_machine_or_a_map_run_not_neither_nor_both(
    runtime: LocalRuntime, machine: str, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")

    with pytest.raises(ClientError) as neither:
        stepfunctions.list_executions()
    with pytest.raises(ClientError) as both:
        stepfunctions.list_executions(stateMachineArn=machine, mapRunArn=map_run)

    assert _error(neither) == (
        "ValidationException",
        "1 validation error detected: Must provide a StateMachine ARN or MapRun ARN",
    )
    assert _error(both)[0] == "ValidationException"


def test_the_parent_state_machine_lists_only_its_own_executions(
    runtime: LocalRuntime, machine: str, parent: str
) -> None:
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=machine)

    assert [execution["executionArn"] for execution in listed["executions"]] == [parent]


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        ("nope", "Invalid Arn: 'Invalid ARN prefix: nope'"),
        (
            "arn:aws:states:us-east-1:123456789012:execution:m:e",
            "Invalid Arn: 'Resource type not valid in this context: execution'",
        ),
    ],
)
def test_a_map_run_arn_that_is_not_one_is_invalid_arn(
    runtime: LocalRuntime, arn: str, message: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")

    calls: list[Callable[[], object]] = [
        lambda: stepfunctions.describe_map_run(mapRunArn=arn),
        lambda: stepfunctions.update_map_run(mapRunArn=arn, maxConcurrency=2),
        lambda: stepfunctions.list_executions(mapRunArn=arn),
    ]
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert _error(raised) == ("InvalidArn", message)


def test_a_map_run_that_does_not_exist_is_resource_not_found(
    runtime: LocalRuntime, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    missing = map_run[:-4] + "0000"

    calls: list[Callable[[], object]] = [
        lambda: stepfunctions.describe_map_run(mapRunArn=missing),
        lambda: stepfunctions.update_map_run(mapRunArn=missing, maxConcurrency=2),
        lambda: stepfunctions.list_executions(mapRunArn=missing),
    ]
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert _error(raised) == ("ResourceNotFound", f"Resource not found: '{missing}'")


def test_list_map_runs_of_a_missing_execution_is_execution_does_not_exist(
    runtime: LocalRuntime, parent: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").list_map_runs(executionArn=parent + "x")

    assert _error(raised)[0] == "ExecutionDoesNotExist"


def test_list_map_runs_pages(
    runtime: LocalRuntime,
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> None:
    # Two Distributed Maps in a row: two Map Runs of one execution.
    def fan(label: str, **after: Any) -> dict[str, Any]:
        return {
            "Type": "Map",
            "Label": label,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Done",
                "States": {"Done": {"Type": "Pass", "End": True}},
            },
            **after,
        }

    machine = create_state_machine(
        {
            "StartAt": "Fan",
            "States": {"Fan": fan("fan", Next="Again"), "Again": fan("again", End=True)},
        }
    )
    execution = run_execution(machine, [1]).arn
    stepfunctions = runtime.client("stepfunctions")

    page = stepfunctions.list_map_runs(executionArn=execution, maxResults=1)
    rest = stepfunctions.list_map_runs(
        executionArn=execution, maxResults=1, nextToken=page["nextToken"]
    )
    with pytest.raises(ClientError) as foreign:
        # A token issued to another request (ListMapRuns') is not this one's.
        stepfunctions.list_executions(
            mapRunArn=page["mapRuns"][0]["mapRunArn"], nextToken=page["nextToken"]
        )

    assert len(page["mapRuns"]) == len(rest["mapRuns"]) == 1
    assert page["mapRuns"][0]["mapRunArn"] != rest["mapRuns"][0]["mapRunArn"]
    assert "nextToken" not in rest
    assert _error(foreign)[0] == "InvalidToken"


def test_update_map_run_changes_what_describe_answers(
    runtime: LocalRuntime, machine: str, run_execution: Callable[..., ExecutionSnapshot]
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    # A run of its own: the other tests read the shared one's settings.
    execution = run_execution(machine, {"items": [1]}).arn
    (run,) = stepfunctions.list_map_runs(executionArn=execution)["mapRuns"]
    map_run = run["mapRunArn"]

    stepfunctions.update_map_run(
        mapRunArn=map_run, maxConcurrency=4, toleratedFailureCount=1, toleratedFailurePercentage=50
    )
    described = stepfunctions.describe_map_run(mapRunArn=map_run)

    assert described["maxConcurrency"] == 4
    assert described["toleratedFailureCount"] == 1
    assert described["toleratedFailurePercentage"] == 50.0


def test_update_map_run_beyond_100_percent_is_a_validation_error(
    runtime: LocalRuntime, map_run: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").update_map_run(
            mapRunArn=map_run, toleratedFailurePercentage=101
        )

    assert _error(raised) == (
        "ValidationException",
        "1 validation error detected: Value '101' at 'toleratedFailurePercentage' failed to "
        "satisfy constraint: Member must have value less than or equal to 100",
    )


def test_a_failed_child_past_the_default_threshold_fails_the_map_run(
    runtime: LocalRuntime, parent_run: ExecutionSnapshot, map_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    events = stepfunctions.get_execution_history(executionArn=parent_run.arn)["events"]

    assert parent_run.status == "FAILED"
    assert parent_run.error == "States.ExceedToleratedFailureThreshold"
    assert stepfunctions.describe_map_run(mapRunArn=map_run)["status"] == "FAILED"
    (failed,) = [event for event in events if event["type"] == "MapRunFailed"]
    assert failed["mapRunFailedEventDetails"]["error"] == "States.ExceedToleratedFailureThreshold"


def test_the_threshold_failure_can_be_caught(
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> None:
    fan = dict(
        _DISTRIBUTED["States"]["Fan"],
        End=False,
        Next="Done",
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Caught"}],
    )
    fan.pop("End")
    machine = create_state_machine(
        {
            "StartAt": "Fan",
            "States": {
                "Fan": fan,
                "Done": {"Type": "Pass", "End": True},
                "Caught": {"Type": "Pass", "Result": "caught", "End": True},
            },
        }
    )

    execution = run_execution(machine, {"items": [1, 2]})

    assert (execution.status, execution.output) == ("SUCCEEDED", "caught")


def test_a_tolerated_failure_count_lets_the_map_run_succeed(
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> None:
    fan = dict(_DISTRIBUTED["States"]["Fan"], ToleratedFailureCount=1)
    machine = create_state_machine({"StartAt": "Fan", "States": {"Fan": fan}})

    execution = run_execution(machine, {"items": [1, 2, 3]})

    assert execution.status == "SUCCEEDED"
    # The succeeded children's results (what stands for the failed one is not pinned here).
    assert {"v": 1} in execution.output
    assert {"v": 3} in execution.output


@pytest.mark.parametrize(
    ("failed", "total", "count", "percentage", "fails"),
    [
        (0, 3, 0, 0.0, False),
        (1, 3, 0, 0.0, True),  # the defaults tolerate nothing
        (1, 3, 1, 0.0, False),  # a count alone: within it
        (2, 3, 1, 0.0, True),
        (1, 4, 0, 25.0, False),  # a percentage alone: at it, not past it
        (2, 4, 0, 25.0, True),
        (2, 4, 2, 25.0, True),  # both: past either fails it
        (2, 4, 1, 50.0, True),
    ],
)
def test_a_map_run_fails_past_either_threshold(
    failed: int, total: int, count: int, percentage: float, fails: bool
) -> None:
    assert exceeds_threshold(failed, total, count, percentage) is fails
