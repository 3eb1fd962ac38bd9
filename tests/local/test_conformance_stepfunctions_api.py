"""The Step Functions API that reads executions, as AWS documents it.

- GetExecutionHistory:
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
  ("maxResults ... The default is 100 and the maximum allowed page size is 1000. A value of
  0 uses the default"; "reverseOrder: Lists events in descending order of their
  timeStamp"; "Using an expired pagination token will return an HTTP 400 InvalidToken
  error").
- ListExecutions:
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
  (``statusFilter`` is one of ``ExecutionStatus``; ``maxResults`` is 0 to 1000).
- CreateStateMachine / UpdateStateMachine:
  https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html
  (``InvalidDefinition``: "The provided Amazon States Language definition is not valid",
  worded "Invalid State Machine Definition: '<reason>'").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


def _passes(count: int) -> dict[str, Any]:
    """A machine of ``count`` Pass states in a row: 2 * count + 2 history events."""
    states: dict[str, Any] = {
        f"P{index}": {"Type": "Pass", "Next": f"P{index + 1}"} for index in range(count)
    }
    states[f"P{count - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "P0", "States": states}


@pytest.fixture(scope="module")
def short_run(
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> str:
    """A stopped execution with 6 history events (two Pass states)."""
    snapshot = run_execution(create_state_machine(_passes(2)))
    assert snapshot.status == "SUCCEEDED"
    return snapshot.arn


@pytest.fixture(scope="module")
def long_run(
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> str:
    """A stopped execution with 122 history events: more than one default page."""
    snapshot = run_execution(create_state_machine(_passes(60)))
    assert snapshot.status == "SUCCEEDED"
    return snapshot.arn


def _ids(page: dict[str, Any]) -> list[int]:
    return [event["id"] for event in page["events"]]


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


# GetExecutionHistory


def test_history_pages_100_events_by_default(runtime: LocalRuntime, long_run: str) -> None:
    stepfunctions = runtime.client("stepfunctions")

    first = stepfunctions.get_execution_history(executionArn=long_run)
    second = stepfunctions.get_execution_history(
        executionArn=long_run, nextToken=first["nextToken"]
    )

    assert _ids(first) == list(range(1, 101))
    assert _ids(second) == list(range(101, 123))
    assert "nextToken" not in second


def test_max_results_zero_uses_the_default_page(runtime: LocalRuntime, long_run: str) -> None:
    page = runtime.client("stepfunctions").get_execution_history(
        executionArn=long_run, maxResults=0
    )

    assert len(page["events"]) == 100
    assert page["nextToken"]


def test_max_results_up_to_1000_returns_the_whole_history(
    runtime: LocalRuntime, long_run: str
) -> None:
    page = runtime.client("stepfunctions").get_execution_history(
        executionArn=long_run, maxResults=1000
    )

    assert _ids(page) == list(range(1, 123))
    assert "nextToken" not in page


def test_reverse_order_lists_the_newest_event_first_page_by_page(
    runtime: LocalRuntime, short_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    pages: list[list[int]] = []
    token: str | None = None
    while True:
        page = stepfunctions.get_execution_history(
            executionArn=short_run,
            reverseOrder=True,
            maxResults=4,
            **({"nextToken": token} if token else {}),
        )
        pages.append(_ids(page))
        token = page.get("nextToken")
        if token is None:
            break

    assert pages == [[6, 5, 4, 3], [2, 1]]
    assert (
        stepfunctions.get_execution_history(executionArn=short_run, reverseOrder=True)["events"][0][
            "type"
        ]
        == "ExecutionSucceeded"
    )


def test_the_sdk_paginator_reads_every_event_once(runtime: LocalRuntime, long_run: str) -> None:
    # maas.executions.read_execution reads histories this way: paging must lose nothing.
    paginator = runtime.client("stepfunctions").get_paginator("get_execution_history")

    ids = [
        event["id"]
        for page in paginator.paginate(executionArn=long_run, PaginationConfig={"PageSize": 7})
        for event in page["events"]
    ]

    assert ids == list(range(1, 123))


@pytest.mark.parametrize("token", ["not-a-token", "eyJub3QiOiAib3VycyJ9", "%%%"])
def test_a_token_the_service_did_not_issue_is_invalid_token(
    runtime: LocalRuntime, short_run: str, token: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").get_execution_history(
            executionArn=short_run, nextToken=token
        )

    assert _error(raised)[0] == "InvalidToken"


def test_a_token_of_another_execution_or_order_is_invalid_token(
    runtime: LocalRuntime, short_run: str, long_run: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    token = stepfunctions.get_execution_history(executionArn=long_run, maxResults=1)["nextToken"]

    with pytest.raises(ClientError) as other_execution:
        stepfunctions.get_execution_history(executionArn=short_run, nextToken=token)
    with pytest.raises(ClientError) as other_order:
        stepfunctions.get_execution_history(
            executionArn=long_run, reverseOrder=True, nextToken=token
        )

    assert _error(other_execution)[0] == "InvalidToken"
    assert _error(other_order)[0] == "InvalidToken"


def test_more_than_1000_results_is_a_validation_error(
    runtime: LocalRuntime, short_run: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").get_execution_history(
            executionArn=short_run, maxResults=1001
        )

    code, message = _error(raised)
    assert code == "ValidationException"
    assert message == (
        "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000"
    )


def test_the_history_of_a_missing_execution_is_execution_does_not_exist(
    runtime: LocalRuntime, short_run: str
) -> None:
    missing = short_run.rsplit(":", 1)[0] + ":no-such-execution"

    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").get_execution_history(executionArn=missing)

    assert _error(raised)[0] == "ExecutionDoesNotExist"


# ListExecutions


@pytest.fixture(scope="module")
def mixed_machine(
    runtime: LocalRuntime,
    create_state_machine: Callable[[dict[str, Any]], str],
    run_execution: Callable[..., ExecutionSnapshot],
) -> str:
    """A machine with 3 succeeded and 2 failed executions (input ``{"fail": true}`` fails)."""
    arn = create_state_machine(
        {
            "StartAt": "Choose",
            "States": {
                "Choose": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
                    "Default": "Done",
                },
                "Fail": {"Type": "Fail", "Error": "Told", "Cause": "asked to"},
                "Done": {"Type": "Succeed"},
            },
        }
    )
    for fail in (False, True, False, True, False):
        run_execution(arn, {"fail": fail})
    return arn


def test_status_filter_lists_only_executions_in_that_status_across_pages(
    runtime: LocalRuntime, mixed_machine: str
) -> None:
    paginator = runtime.client("stepfunctions").get_paginator("list_executions")

    def listed(status: str) -> list[str]:
        pages = paginator.paginate(
            stateMachineArn=mixed_machine,
            statusFilter=status,
            PaginationConfig={"PageSize": 1},
        )
        return [item["status"] for page in pages for item in page["executions"]]

    assert listed("SUCCEEDED") == ["SUCCEEDED"] * 3
    assert listed("FAILED") == ["FAILED"] * 2
    assert listed("RUNNING") == []


def test_an_unknown_status_filter_is_a_validation_error(
    runtime: LocalRuntime, mixed_machine: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").list_executions(
            stateMachineArn=mixed_machine, statusFilter="DONE"
        )

    code, message = _error(raised)
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value 'DONE' at 'statusFilter' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )


def test_listing_more_than_1000_executions_a_page_is_a_validation_error(
    runtime: LocalRuntime, mixed_machine: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").list_executions(
            stateMachineArn=mixed_machine, maxResults=1001
        )

    assert _error(raised)[0] == "ValidationException"


def test_a_list_token_used_with_another_filter_is_invalid_token(
    runtime: LocalRuntime, mixed_machine: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    token = stepfunctions.list_executions(stateMachineArn=mixed_machine, maxResults=1)["nextToken"]

    with pytest.raises(ClientError) as raised:
        stepfunctions.list_executions(
            stateMachineArn=mixed_machine, statusFilter="FAILED", nextToken=token
        )

    assert _error(raised)[0] == "InvalidToken"


def test_executions_list_newest_first(runtime: LocalRuntime, mixed_machine: str) -> None:
    listed = runtime.client("stepfunctions").list_executions(stateMachineArn=mixed_machine)
    starts = [item["startDate"] for item in listed["executions"]]

    assert starts == sorted(starts, reverse=True)
    assert len(starts) == 5


# InvalidDefinition


@pytest.mark.parametrize(
    ("definition", "reason"),
    [
        ("{", "INVALID_JSON_DESCRIPTION: "),
        ('{"StartAt": "A", "States": {"A": {"Type": "Bogus"}}}', "SCHEMA_VALIDATION_FAILED: "),
    ],
)
def test_a_definition_that_is_not_valid_is_invalid_definition(
    runtime: LocalRuntime, definition: str, reason: str
) -> None:
    stepfunctions = runtime.client("stepfunctions")
    name = f"invalid-{len(reason)}"

    with pytest.raises(ClientError) as raised:
        stepfunctions.create_state_machine(
            name=name, definition=definition, roleArn=runtime.resources.roles["StateMachineRole"]
        )

    code, message = _error(raised)
    assert code == "InvalidDefinition"
    assert message.startswith(f"Invalid State Machine Definition: '{reason}")
    listed = stepfunctions.list_state_machines()["stateMachines"]
    assert name not in {machine["name"] for machine in listed}


def test_updating_to_a_definition_that_is_not_valid_is_invalid_definition(
    runtime: LocalRuntime, create_state_machine: Callable[[dict[str, Any]], str]
) -> None:
    arn = create_state_machine(_passes(1))

    with pytest.raises(ClientError) as raised:
        runtime.client("stepfunctions").update_state_machine(stateMachineArn=arn, definition="[")

    assert _error(raised)[0] == "InvalidDefinition"
