"""What the static ASL checker reports, one kind of mistake per test."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.asl import check_definition
from maas.manifest import PROJECT_ROOT

if TYPE_CHECKING:
    from pathlib import Path

STATE_MACHINE_FILES = sorted((PROJECT_ROOT / "state_machines").glob("*.json"))

LAMBDA_RETRIER: dict[str, Any] = {
    "ErrorEquals": ["Lambda.ServiceException", "Lambda.TooManyRequestsException"],
    "MaxAttempts": 3,
}
CATCH_ALL: dict[str, Any] = {"ErrorEquals": ["States.ALL"], "Next": "Failed"}


def machine(start_at: str, **states: dict[str, Any]) -> dict[str, Any]:
    """A definition with these states, each keyword one state's name."""
    return {"Comment": "test", "StartAt": start_at, "States": states}


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **fields}


def succeed() -> dict[str, Any]:
    return {"Type": "Succeed"}


def fail() -> dict[str, Any]:
    return {"Type": "Fail", "Error": "Failed"}


# Sound definitions


@pytest.mark.parametrize("path", STATE_MACHINE_FILES, ids=lambda path: path.name)
def test_every_state_machine_file_has_no_problems(path: Path) -> None:
    assert check_definition(json.loads(path.read_text(encoding="utf-8"))) == []


def test_there_are_state_machine_files_to_check() -> None:
    assert STATE_MACHINE_FILES


def test_a_sound_definition_with_every_kind_of_transition_has_no_problems() -> None:
    definition = machine(
        "Work",
        Work=task(Retry=[LAMBDA_RETRIER], Catch=[CATCH_ALL], Next="Choose"),
        Choose={
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Failed",
        },
        Done=succeed(),
        Failed=fail(),
    )

    assert check_definition(definition) == []


# Transitions


def test_start_at_naming_no_state_is_reported() -> None:
    problems = check_definition(machine("Begin", Start=succeed()))

    assert problems == ['StartAt "Begin" names no state in the state machine']


def test_missing_next_target_is_reported() -> None:
    definition = machine("Create model", **{"Create model": task(Next="Clean-up")})

    assert check_definition(definition) == [
        'state "Create model": Next "Clean-up" names no state in the state machine'
    ]


def test_choice_default_to_nowhere_is_reported() -> None:
    definition = machine(
        "Choose",
        Choose={
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
            "Default": "Elsewhere",
        },
        Done=succeed(),
    )

    assert check_definition(definition) == [
        'state "Choose": Default "Elsewhere" names no state in the state machine'
    ]


def test_choice_rule_to_nowhere_is_reported_with_its_index() -> None:
    definition = machine(
        "Choose",
        Choose={
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"},
                {"Variable": "$.ok", "BooleanEquals": False, "Next": "Nowhere"},
            ],
            "Default": "Done",
        },
        Done=succeed(),
    )

    assert check_definition(definition) == [
        'state "Choose": Choices[1].Next "Nowhere" names no state in the state machine'
    ]


def test_catch_to_nowhere_is_reported_with_its_index() -> None:
    definition = machine(
        "Work",
        Work=task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Clean up"}], End=True),
    )

    assert check_definition(definition) == [
        'state "Work": Catch[0].Next "Clean up" names no state in the state machine'
    ]


def test_unreachable_state_is_reported() -> None:
    definition = machine("Work", Work=task(End=True), Orphan=succeed())

    assert check_definition(definition) == ['state "Orphan": is not reachable from StartAt "Work"']


def test_state_reached_only_through_a_catch_is_reachable() -> None:
    definition = machine("Work", Work=task(Catch=[CATCH_ALL], End=True), Failed=fail())

    assert check_definition(definition) == []


def test_unreachable_states_are_not_listed_when_start_at_is_wrong() -> None:
    definition = machine("Begin", Work=task(Next="Done"), Done=succeed())

    assert check_definition(definition) == ['StartAt "Begin" names no state in the state machine']


# A way out


@pytest.mark.parametrize("state_type", ["Task", "Pass", "Wait"])
def test_state_with_neither_next_nor_end_is_reported(state_type: str) -> None:
    state: dict[str, Any] = {"Type": state_type}
    if state_type == "Wait":
        state["Seconds"] = 5

    assert check_definition(machine("Step", Step=state)) == [
        f'state "Step": a {state_type} state needs Next or "End": true'
    ]


def test_state_with_both_next_and_end_is_reported() -> None:
    definition = machine("Work", Work=task(Next="Done", End=True), Done=succeed())

    assert check_definition(definition) == [
        'state "Work": has both Next and End; a state either moves on or ends'
    ]


@pytest.mark.parametrize("terminal", [succeed(), fail()], ids=["Succeed", "Fail"])
def test_succeed_and_fail_states_need_no_way_out(terminal: dict[str, Any]) -> None:
    assert check_definition(machine("End", End=terminal)) == []


def test_choice_without_choices_is_reported() -> None:
    definition = machine("Choose", Choose={"Type": "Choice", "Default": "Done"}, Done=succeed())

    assert check_definition(definition) == [
        'state "Choose": a Choice state needs at least one rule in Choices'
    ]


def test_choice_rule_without_next_is_reported() -> None:
    definition = machine(
        "Choose",
        Choose={
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True}],
            "Default": "Done",
        },
        Done=succeed(),
    )

    assert check_definition(definition) == ['state "Choose": Choices[0] has no Next']


def test_unknown_state_type_is_reported() -> None:
    definition = machine("Step", Step={"Type": "Sleep", "End": True})

    assert check_definition(definition) == ['state "Step": unknown Type "Sleep"']


# Nested scopes


def parallel(*branches: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Parallel", "Branches": list(branches), **fields}


def inline_map(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Map", "ItemsPath": "$.shards", "ItemProcessor": processor, **fields}


def test_parallel_branch_next_to_a_state_outside_the_branch_is_reported() -> None:
    definition = machine(
        "Fan out",
        **{
            "Fan out": parallel(
                machine("Score", Score=task(End=True)),
                machine("Embed", Embed=task(Next="Aggregate")),
                Next="Aggregate",
            ),
            "Aggregate": succeed(),
        },
    )

    assert check_definition(definition) == [
        'state "Fan out" > branch 2 > state "Embed": Next "Aggregate" names no state in this branch'
    ]


def test_unreachable_state_inside_a_map_is_reported_in_its_scope() -> None:
    definition = machine(
        "Shards",
        Shards=inline_map(
            machine("Score", Score=task(End=True), Unused=succeed()),
            End=True,
        ),
    )

    assert check_definition(definition) == [
        'state "Shards" > ItemProcessor > state "Unused": is not reachable from StartAt "Score"'
    ]


def test_map_item_processor_start_at_naming_no_state_is_reported() -> None:
    definition = machine(
        "Shards",
        Shards=inline_map(machine("Score shard", Score=task(End=True)), End=True),
    )

    assert check_definition(definition) == [
        'state "Shards" > ItemProcessor: StartAt "Score shard" names no state in this ItemProcessor'
    ]


def test_legacy_map_iterator_is_checked_as_a_scope() -> None:
    definition = machine(
        "Shards",
        Shards={"Type": "Map", "Iterator": machine("Score", Score=task()), "End": True},
    )

    assert check_definition(definition) == [
        'state "Shards" > Iterator > state "Score": a Task state needs Next or "End": true'
    ]


def test_map_in_a_parallel_branch_is_checked_at_its_depth() -> None:
    definition = machine(
        "Fan out",
        **{
            "Fan out": parallel(
                machine(
                    "Shards",
                    Shards=inline_map(
                        machine("Score", Score=task(Next="Gone")),
                        End=True,
                    ),
                ),
                End=True,
            ),
        },
    )

    assert check_definition(definition) == [
        'state "Fan out" > branch 1 > state "Shards" > ItemProcessor > state "Score": '
        'Next "Gone" names no state in this ItemProcessor'
    ]


def test_state_name_used_in_two_scopes_is_reported() -> None:
    definition = machine(
        "Fan out",
        **{
            "Fan out": parallel(machine("Done", Done=succeed()), Next="Done"),
            "Done": succeed(),
        },
    )

    assert check_definition(definition) == [
        'state "Done": reuses the name of state "Fan out" > branch 1 > state "Done"; '
        "state names must be unique in the whole state machine"
    ]


def test_parallel_without_branches_is_reported() -> None:
    definition = machine("Fan out", **{"Fan out": parallel(End=True)})

    assert check_definition(definition) == [
        'state "Fan out": a Parallel state needs at least one branch in Branches'
    ]


# States.ALL


def test_states_all_in_a_retrier_before_the_last_is_reported() -> None:
    definition = machine(
        "Work",
        Work=task(Retry=[{"ErrorEquals": ["States.ALL"]}, LAMBDA_RETRIER], End=True),
    )

    assert check_definition(definition) == [
        'state "Work": Retry[0] matches States.ALL but is not the last retrier'
    ]


def test_states_all_in_a_catcher_before_the_last_is_reported() -> None:
    definition = machine(
        "Work",
        Work=task(
            Catch=[CATCH_ALL, {"ErrorEquals": ["Maas.NotFound"], "Next": "Failed"}],
            End=True,
        ),
        Failed=fail(),
    )

    assert check_definition(definition) == [
        'state "Work": Catch[0] matches States.ALL but is not the last catcher'
    ]


def test_states_all_beside_other_errors_is_reported() -> None:
    definition = machine(
        "Work",
        Work=task(
            Catch=[{"ErrorEquals": ["Maas.NotFound", "States.ALL"], "Next": "Failed"}],
            End=True,
        ),
        Failed=fail(),
    )

    assert check_definition(definition) == [
        'state "Work": Catch[0] lists States.ALL with other errors; States.ALL must appear alone'
    ]


# Substitution slots


def slotted() -> dict[str, Any]:
    return machine(
        "Plan",
        Plan=task(
            Parameters={"FunctionName": "${PlanFunctionArn}", "Payload.$": "$"},
            Next="Shards",
        ),
        Shards=inline_map(
            machine(
                "Score",
                Score=task(Parameters={"FunctionName": "${ScoreFunctionArn}"}, End=True),
            ),
            End=True,
        ),
    )


def test_slots_are_allowed_by_default() -> None:
    assert check_definition(slotted()) == []


def test_unfilled_slots_are_reported_when_not_allowed() -> None:
    assert check_definition(slotted(), allow_slots=False) == [
        'state "Plan": Parameters.FunctionName has the unfilled slot ${PlanFunctionArn}',
        'state "Shards" > ItemProcessor > state "Score": Parameters.FunctionName has the '
        "unfilled slot ${ScoreFunctionArn}",
    ]


def test_a_definition_with_its_slots_filled_passes_when_slots_are_not_allowed() -> None:
    text = json.dumps(slotted())
    for slot in ("PlanFunctionArn", "ScoreFunctionArn"):
        text = text.replace(
            "${" + slot + "}", f"arn:aws:lambda:us-east-1:123456789012:function:{slot}"
        )

    assert check_definition(json.loads(text), allow_slots=False) == []
