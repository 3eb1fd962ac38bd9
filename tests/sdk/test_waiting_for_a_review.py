"""``--wait`` on an evaluation that asks for a person's grades stops where it waits for them.

No amount of polling brings the grades: the evaluate workflow's task waits for a task token
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token)
that only ``maas evaluations review`` returns. The waiter's ``until`` ends the wait there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from maas.cli.evaluations import REVIEW_STATE
from maas.sdk.waiters import wait_for_execution
from schemas.api import ExecutionAccepted, ExecutionView, StateVisitView, Workflow
from tests.docblocks import ROOT

NOW = datetime(2026, 12, 8, tzinfo=UTC)
ACCEPTED = ExecutionAccepted(
    workflow=Workflow.EVALUATE,
    execution_name="acme-eval-1",
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:maas-evaluate:acme-eval-1",
    status_url="/v1/executions/evaluate/acme-eval-1",
    started=True,
)


def view(status: str, *states: str) -> ExecutionView:
    path = [
        StateVisitView(
            name=state,
            state_type="Task",
            status="running" if last else "succeeded",
            entered_at=NOW,
            attempts=1,
        )
        for last, state in ((index == len(states) - 1, state) for index, state in enumerate(states))
    ]
    return ExecutionView(
        workflow=Workflow.EVALUATE,
        execution_name=ACCEPTED.execution_name,
        execution_arn=ACCEPTED.execution_arn,
        status=status,
        started_at=NOW,
        path=path,
    )


class Evaluation:
    """An evaluation that plans, scores, then waits for grades for as long as it is polled."""

    def __init__(self) -> None:
        self.views = [
            view("RUNNING", "Plan the evaluation"),
            view("RUNNING", "Plan the evaluation", "Score the shards"),
        ]
        self.polls = 0

    def get_execution(self, workflow: Workflow | str, name: str) -> ExecutionView:
        self.polls += 1
        if self.polls <= len(self.views):
            return self.views[self.polls - 1]
        return view("RUNNING", "Plan the evaluation", "Score the shards", REVIEW_STATE)


def awaiting_grades(current: ExecutionView) -> bool:
    return current.path[-1].name == REVIEW_STATE


def test_the_wait_ends_where_the_grades_are_awaited() -> None:
    evaluation = Evaluation()
    stopped = wait_for_execution(
        evaluation, ACCEPTED, until=awaiting_grades, sleep=lambda _: None, timeout=60
    )
    assert stopped.status == "RUNNING"
    assert stopped.path[-1].name == REVIEW_STATE
    assert evaluation.polls == 3


def test_until_is_not_asked_of_an_execution_that_ended() -> None:
    class Ended:
        def get_execution(self, workflow: Workflow | str, name: str) -> ExecutionView:
            return view("SUCCEEDED", "Plan the evaluation", REVIEW_STATE)

    def never(current: ExecutionView) -> bool:
        raise AssertionError("asked of an ended execution")

    assert wait_for_execution(Ended(), ACCEPTED, until=never).status == "SUCCEEDED"


def test_the_review_state_is_the_workflows_task_token_wait() -> None:
    definition = json.loads((ROOT / "state_machines" / "evaluate.json").read_text())
    states = definition["States"]
    assert states[REVIEW_STATE]["Resource"].endswith(".waitForTaskToken")
