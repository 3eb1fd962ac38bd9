"""A static checker of Amazon States Language definitions.

It finds the mistakes that make Step Functions refuse a definition, or that leave a state
no execution can reach, before anything is deployed or run: transitions to states that do
not exist, states with no way out, ``States.ALL`` in the wrong place, and substitution
slots left unfilled. Parallel branches and Map item processors are checked as the scopes
they are: a transition never leaves its branch.

It checks structure, not meaning: JSONPath, intrinsic functions and service parameters are
for cfn-lint's schema and for Step Functions itself.

Examples
--------
>>> check_definition({"StartAt": "Go", "States": {"Go": {"Type": "Pass", "Next": "Stop"}}})
['state "Go": Next "Stop" names no state in the state machine']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["check_definition"]

#: Every state type of the language.
_STATE_TYPES: Final = frozenset(
    {"Task", "Pass", "Wait", "Choice", "Parallel", "Map", "Succeed", "Fail"}
)
#: Types that end or branch by their nature; every other state needs ``Next`` or ``End``.
_NO_NEXT_TYPES: Final = frozenset({"Choice", "Succeed", "Fail"})
#: The wildcard error name, which must stand alone in the last retrier or catcher.
_ALL_ERRORS: Final = "States.ALL"
#: A ``${Name}`` slot that a deployment fills (CDK substitutions or the local runtime).
_SLOT: Final = re.compile(r"\$\{[^}]*\}")
#: Fields that hold nested scopes, by state type; they are checked as scopes, not as values.
_NESTED_SCOPE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "Parallel": ("Branches",),
    "Map": ("ItemProcessor", "Iterator"),
}


def check_definition(definition: dict[str, Any], *, allow_slots: bool = True) -> list[str]:
    """Find the structural problems of a state machine definition.

    Parameters
    ----------
    definition
        The definition, parsed from its JSON.
    allow_slots
        Whether ``${Name}`` substitution slots may remain. Files on disk keep theirs, so
        this is true by default; pass ``False`` for a definition that is about to be
        deployed or run.

    Returns
    -------
    list of str
        One readable line per problem, in the order of the definition; empty when the
        definition is sound. Each line starts with where the problem is, nested states as
        ``state "Outer" > branch 1 > state "Inner"``.

    Examples
    --------
    >>> check_definition({
    ...     "StartAt": "Choose",
    ...     "States": {
    ...         "Choose": {
    ...             "Type": "Choice",
    ...             "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Done"}],
    ...             "Default": "Elsewhere",
    ...         },
    ...         "Done": {"Type": "Succeed"},
    ...         "Forgotten": {"Type": "Succeed"},
    ...     },
    ... })  # doctest: +NORMALIZE_WHITESPACE
    ['state "Choose": Default "Elsewhere" names no state in the state machine',
     'state "Forgotten": is not reachable from StartAt "Choose"']
    >>> check_definition(
    ...     {"StartAt": "Call", "States": {"Call": {
    ...         "Type": "Task", "Resource": "${WorkFunctionArn}", "End": True}}},
    ...     allow_slots=False,
    ... )
    ['state "Call": Resource has the unfilled slot ${WorkFunctionArn}']
    """
    checker = _Checker(allow_slots=allow_slots)
    checker.check_scope(definition, location="", scope="the state machine")
    return checker.problems


def _quote(value: Any) -> str:
    # JSON quoting shows a name exactly, and shows a non-string (a typo'd list, a number) as such.
    return json.dumps(value, ensure_ascii=False)


@dataclass
class _Checker:
    """Walks a definition scope by scope, collecting problems."""

    allow_slots: bool
    problems: list[str] = field(default_factory=list)
    #: Where each state name was first seen: names must be unique in the whole machine.
    first_seen: dict[str, str] = field(default_factory=dict)

    def report(self, location: str, message: str) -> None:
        self.problems.append(f"{location}: {message}" if location else message)

    def check_scope(self, body: Any, *, location: str, scope: str) -> None:
        """Check a ``StartAt``/``States`` body: the machine, a branch or an item processor."""
        if not isinstance(body, dict):
            self.report(location, "must be an object with StartAt and States")
            return
        for key, value in body.items():
            if key != "States":
                self.check_slots(value, location, key)
        states = body.get("States")
        if not isinstance(states, dict) or not states:
            self.report(location, "States must be an object with at least one state")
            return
        start_at = body.get("StartAt")
        if not isinstance(start_at, str) or start_at not in states:
            self.report(location, f"StartAt {_quote(start_at)} names no state in {scope}")
            # Without a start every state is unreachable: one problem says it all.
            start_at = None
        for name, state in states.items():
            self.check_state(name, state, states, location=location, scope=scope)
        if start_at is not None:
            reachable = _reachable(start_at, states)
            for name in states:
                if name not in reachable:
                    self.report(
                        _state_location(location, name),
                        f"is not reachable from StartAt {_quote(start_at)}",
                    )

    def check_state(
        self, name: str, state: Any, states: dict[str, Any], *, location: str, scope: str
    ) -> None:
        """Check one state, then the scopes nested in it."""
        here = _state_location(location, name)
        if name in self.first_seen:
            self.report(
                here,
                f"reuses the name of {self.first_seen[name]}; "
                "state names must be unique in the whole state machine",
            )
        else:
            self.first_seen[name] = here
        if not isinstance(state, dict):
            self.report(here, "must be an object")
            return
        state_type = state.get("Type")
        if state_type not in _STATE_TYPES:
            self.report(
                here, f"unknown Type {_quote(state_type)}" if "Type" in state else "has no Type"
            )

        for label, target in _transitions(state):
            if not isinstance(target, str) or target not in states:
                self.report(here, f"{label} {_quote(target)} names no state in {scope}")
        self.check_way_out(here, state_type, state)
        for handlers_field, handler_kind in (("Retry", "retrier"), ("Catch", "catcher")):
            self.check_error_handlers(here, handlers_field, handler_kind, state.get(handlers_field))

        nested = _NESTED_SCOPE_FIELDS.get(state_type, ()) if isinstance(state_type, str) else ()
        for key, value in state.items():
            if key not in nested:
                self.check_slots(value, here, key)
        if state_type == "Parallel":
            self.check_branches(here, state.get("Branches"))
        elif state_type == "Map":
            self.check_item_processor(here, state)

    def check_way_out(self, here: str, state_type: Any, state: dict[str, Any]) -> None:
        """A state either moves on or ends, unless its type decides that itself."""
        if state_type == "Choice":
            choices = state.get("Choices")
            if not isinstance(choices, list) or not choices:
                self.report(here, "a Choice state needs at least one rule in Choices")
                return
            for index, rule in enumerate(choices):
                if not isinstance(rule, dict) or "Next" not in rule:
                    self.report(here, f"Choices[{index}] has no Next")
            return
        if state_type not in _STATE_TYPES or state_type in _NO_NEXT_TYPES:
            return
        moves_on = "Next" in state
        ends = state.get("End") is True
        if not moves_on and not ends:
            self.report(here, f'a {state_type} state needs Next or "End": true')
        elif moves_on and ends:
            self.report(here, "has both Next and End; a state either moves on or ends")

    def check_error_handlers(self, here: str, field_name: str, kind: str, handlers: Any) -> None:
        """``States.ALL`` matches every error, so anything after it, or beside it, is dead."""
        if not isinstance(handlers, list):
            return
        last = len(handlers) - 1
        for index, handler in enumerate(handlers):
            errors = handler.get("ErrorEquals") if isinstance(handler, dict) else None
            if not isinstance(errors, list) or _ALL_ERRORS not in errors:
                continue
            if len(errors) > 1:
                self.report(
                    here,
                    f"{field_name}[{index}] lists {_ALL_ERRORS} with other errors; "
                    f"{_ALL_ERRORS} must appear alone",
                )
            if index != last:
                self.report(
                    here,
                    f"{field_name}[{index}] matches {_ALL_ERRORS} but is not the last {kind}",
                )

    def check_branches(self, here: str, branches: Any) -> None:
        """Each branch of a Parallel state is a scope of its own."""
        if not isinstance(branches, list) or not branches:
            self.report(here, "a Parallel state needs at least one branch in Branches")
            return
        for number, branch in enumerate(branches, start=1):
            self.check_scope(branch, location=f"{here} > branch {number}", scope="this branch")

    def check_item_processor(self, here: str, state: dict[str, Any]) -> None:
        """A Map state's processor (``ItemProcessor``, or the older ``Iterator``) is a scope."""
        for key in _NESTED_SCOPE_FIELDS["Map"]:
            if key in state:
                self.check_scope(state[key], location=f"{here} > {key}", scope=f"this {key}")
                return
        self.report(here, "a Map state needs an ItemProcessor")

    def check_slots(self, value: Any, location: str, path: str) -> None:
        """Report every ``${Name}`` slot in ``value``, keys included, unless slots are allowed."""
        if self.allow_slots:
            return
        if isinstance(value, str):
            for slot in _SLOT.findall(value):
                self.report(location, f"{path} has the unfilled slot {slot}")
        elif isinstance(value, dict):
            for key, item in value.items():
                for slot in _SLOT.findall(key):
                    self.report(location, f"{path} has the unfilled slot {slot} in a key")
                self.check_slots(item, location, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.check_slots(item, location, f"{path}[{index}]")


def _state_location(scope_location: str, name: str) -> str:
    state = f"state {_quote(name)}"
    return f"{scope_location} > {state}" if scope_location else state


def _transitions(state: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every field that names a next state, labelled as a person would look it up."""
    transitions: list[tuple[str, Any]] = []
    if "Next" in state:
        transitions.append(("Next", state["Next"]))
    if "Default" in state:
        transitions.append(("Default", state["Default"]))
    for field_name in ("Choices", "Catch"):
        entries = state.get(field_name)
        if isinstance(entries, list):
            transitions.extend(
                (f"{field_name}[{index}].Next", entry["Next"])
                for index, entry in enumerate(entries)
                if isinstance(entry, dict) and "Next" in entry
            )
    return transitions


def _reachable(start_at: str, states: dict[str, Any]) -> set[str]:
    """The names of the states an execution can get to from ``start_at``."""
    reached = {start_at}
    pending = [start_at]
    while pending:
        state = states[pending.pop()]
        if not isinstance(state, dict):
            continue
        for _, target in _transitions(state):
            if isinstance(target, str) and target in states and target not in reached:
                reached.add(target)
                pending.append(target)
    return reached
