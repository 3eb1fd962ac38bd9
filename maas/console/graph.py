"""A state machine's definition as a graph: its states, and every way from one to the next.

The console draws each workflow as Step Functions' console does: a Start and an End, one
box per state, an arrow for each ``Next``, each ``Choices`` rule (labelled with its
condition), ``Default`` and ``Catch`` (labelled with the errors it catches), and a
``Parallel`` state's branches or a ``Map`` state's item processor drawn inside its box, each
a scope of its own with its own Start and End (a transition never leaves its scope). It reads
both query languages: a JSONPath rule's ``Variable`` and comparison, or a JSONata rule's
``Condition`` (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html).

Examples
--------
>>> graph = build_graph({"StartAt": "Go", "States": {"Go": {"Type": "Pass", "End": True}}})
>>> [(edge.kind.value, edge.source, edge.target) for edge in graph.edges]
[('start', 'start:root', 'state:Go'), ('end', 'state:Go', 'end:root')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

#: Types that end their scope by their nature.
_TERMINAL_TYPES: Final = frozenset({"Succeed", "Fail"})
#: Fields of a JSONPath Choice rule that are not its comparison.
_RULE_FIELDS: Final = frozenset({"Variable", "Next", "Comment", "And", "Or", "Not", "Assign"})


class EdgeKind(StrEnum):
    """Why an execution goes from one node to the next."""

    START = "start"
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    CATCH = "catch"
    END = "end"


@dataclass(frozen=True)
class Edge:
    """A transition between two nodes of one scope."""

    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass
class Node:
    """A state, or a scope's Start or End (``virtual``); ``scopes``: what a state nests."""

    id: str
    name: str
    type: str
    virtual: bool = False
    scopes: list[Scope] = field(default_factory=list)


@dataclass
class Scope:
    """A ``StartAt``/``States`` body: the machine, a Parallel branch or a Map's processor."""

    id: str
    nodes: dict[str, Node]
    edges: list[Edge]

    @property
    def start(self) -> str:
        """The id of the scope's Start node."""
        return f"start:{self.id}"

    @property
    def end(self) -> str:
        """The id of the scope's End node."""
        return f"end:{self.id}"

    def walk(self) -> list[Scope]:
        """This scope and every scope nested in it, outermost first."""
        found = [self]
        for node in self.nodes.values():
            for inner in node.scopes:
                found += inner.walk()
        return found


def state_id(name: str) -> str:
    """The node id of the state ``name`` (state names are unique in a whole machine)."""
    return f"state:{name}"


def build_graph(definition: dict[str, Any], scope_id: str = "root") -> Scope:
    """The graph of ``definition`` (a parsed ASL document, or one of its nested bodies).

    A transition to a state that does not exist is left out: Step Functions refuses such a
    definition (:func:`maas.asl.check_definition` names it), so no deployed machine has one.
    """
    states: dict[str, Any] = definition.get("States") or {}
    scope = Scope(scope_id, {}, [])
    scope.nodes[scope.start] = Node(scope.start, "Start", "Start", virtual=True)
    scope.nodes[scope.end] = Node(scope.end, "End", "End", virtual=True)
    for name, state in states.items():
        scope.nodes[state_id(name)] = Node(
            state_id(name), name, str(state.get("Type", "?")), scopes=_nested(name, state)
        )
    start_at = definition.get("StartAt")
    if isinstance(start_at, str) and start_at in states:
        scope.edges.append(Edge(scope.start, state_id(start_at), EdgeKind.START))
    for name, state in states.items():
        for target, kind, label in _transitions(state):
            if target is None:
                scope.edges.append(Edge(state_id(name), scope.end, kind, label))
            elif target in states:
                scope.edges.append(Edge(state_id(name), state_id(target), kind, label))
    return scope


def _nested(name: str, state: dict[str, Any]) -> list[Scope]:
    if state.get("Type") == "Parallel":
        return [
            build_graph(branch, f"{name}#branch{number}")
            for number, branch in enumerate(state.get("Branches") or [], start=1)
            if isinstance(branch, dict)
        ]
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            return [build_graph(processor, f"{name}#items")]
    return []


def _transitions(state: dict[str, Any]) -> list[tuple[str | None, EdgeKind, str]]:
    """(target, kind, label) for each way out of ``state``; target None: the scope's End."""
    found: list[tuple[str | None, EdgeKind, str]] = []
    if isinstance(state.get("Next"), str):
        found.append((state["Next"], EdgeKind.NEXT, ""))
    if state.get("End") is True or state.get("Type") in _TERMINAL_TYPES:
        found.append((None, EdgeKind.END, state.get("Type", "")))
    for rule in state.get("Choices") or []:
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            found.append((rule["Next"], EdgeKind.CHOICE, rule_label(rule)))
    if isinstance(state.get("Default"), str):
        found.append((state["Default"], EdgeKind.DEFAULT, "Default"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            errors = catcher.get("ErrorEquals") or []
            found.append((catcher["Next"], EdgeKind.CATCH, ", ".join(map(str, errors))))
    return found


def rule_label(rule: dict[str, Any]) -> str:
    """A Choice rule as one line: its JSONata ``Condition``, or its JSONPath comparison.

    Examples
    --------
    >>> rule_label({"Variable": "$.status", "StringEquals": "InService", "Next": "Done"})
    '$.status StringEquals "InService"'
    >>> rule_label({"Condition": "{% $status = 'InService' %}", "Next": "Done"})
    "$status = 'InService'"
    >>> rule_label({"Not": {"Variable": "$.x", "IsPresent": True}, "Next": "A"})
    'not ($.x IsPresent true)'
    """
    if "Condition" in rule:
        condition = rule["Condition"]
        if isinstance(condition, str):
            return condition.removeprefix("{%").removesuffix("%}").strip()
        return json.dumps(condition)
    for joiner in ("And", "Or"):
        if isinstance(rule.get(joiner), list):
            parts = [rule_label(inner) for inner in rule[joiner] if isinstance(inner, dict)]
            return f" {joiner.lower()} ".join(f"({part})" for part in parts)
    if isinstance(rule.get("Not"), dict):
        return f"not ({rule_label(rule['Not'])})"
    comparisons = [key for key in rule if key not in _RULE_FIELDS]
    subject = str(rule.get("Variable", ""))
    if not comparisons:
        return subject
    operator = comparisons[0]
    return f"{subject} {operator} {json.dumps(rule[operator], ensure_ascii=False)}".strip()


__all__ = ["Edge", "EdgeKind", "Node", "Scope", "build_graph", "rule_label", "state_id"]
