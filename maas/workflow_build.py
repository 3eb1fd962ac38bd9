"""Build the deployed state machine definitions from their readable sources.

Why this exists: the workflows share their retry policies, the role their endpoint calls are
made as, and the step that finds it; written into each definition by hand, one change to a
retry policy was dozens of edits. The sources (``state_machines/sources/<name>.yaml``) say
each shared thing once, by name, in ``state_machines/sources/shared.yaml``:

- ``Retry: [lambda, event-not-published]``: each name one policy of ``retry``;
- ``Credentials: tenant``: the ``credentials`` entry of that name;
- a state ``{$use: act-for-tenant, Next: ...}``: the ``states`` entry of that name, with the
  state's own fields merged in: a mapping into the shared mapping, key by key and as deep as
  both go (so a state names only the payload fields of its own), anything else replacing the
  shared value. A shared state may itself ``$use`` another, so one step's common shape (the
  event publisher's function and retries) is written once and its kinds (an endpoint's event,
  with the tenant's context) extend it;
- ``Catch: [rejected]``: each name one catcher of ``catch`` (``{$use: rejected, Next: ...}``
  adds or replaces fields, as for a state). A catcher without ``Next`` goes on to the state's
  own ``Next``: the failure is noted (or ignored) and the workflow continues as if it had not
  happened, which is what ``carry-on`` says of a step that need not succeed.

A shared entry may be written once per query language (``{JSONPath: ..., JSONata: ...}``):
a state gets the variant of its own ``QueryLanguage``, else its machine's (JSONPath unless the
machine says otherwise), so ``$tenantRole`` is read as ``RoleArn.$`` in a JSONPath state and
as ``{% $tenantRole %}`` in a JSONata one.

Everything else is Amazon States Language as Step Functions reads it. ``make workflows``
(``python -m maas.workflow_build``) writes ``state_machines/<name>.json``, which is what the
stacks deploy and the local runtime runs; ``--check`` fails when a written file is not what
its source builds (a test runs it), so the two cannot part ways.

Examples
--------
>>> shared = Shared(retry={"lambda": {"ErrorEquals": ["Lambda.ServiceException"]}})
>>> build_definition(
...     {"StartAt": "Go", "States": {"Go": {"Type": "Pass", "Retry": ["lambda"], "End": True}}},
...     shared,
... )["States"]["Go"]["Retry"]
[{'ErrorEquals': ['Lambda.ServiceException']}]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from maas.asl import check_definition
from maas.manifest import PROJECT_ROOT

if TYPE_CHECKING:
    from pathlib import Path

#: Where the sources are, and where the definitions they build go.
SOURCES = PROJECT_ROOT / "state_machines" / "sources"
DEFINITIONS = PROJECT_ROOT / "state_machines"
#: The file of what the sources share.
SHARED_FILE = "shared.yaml"
#: The field of a state (or catcher) that names a shared one.
USE = "$use"
#: Step Functions' query languages; a machine that names none is JSONPath.
QUERY_LANGUAGES = ("JSONPath", "JSONata")
#: The order a built state's fields are written in, as the Step Functions documentation lists
#: them (https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html): what
#: the state is and does, then where it goes. A field not listed keeps its place after these.
FIELD_ORDER = (
    "Type",
    "Comment",
    "QueryLanguage",
    "Resource",
    "Credentials",
    "Arguments",
    "Items",
    "MaxConcurrency",
    "ItemSelector",
    "ItemProcessor",
    "Branches",
    "Seconds",
    "Choices",
    "Default",
    "TimeoutSeconds",
    "HeartbeatSeconds",
    "Retry",
    "Assign",
    "Output",
    "Error",
    "Cause",
    "Next",
    "End",
    "Catch",
)


class SourceError(ValueError):
    """A source names something ``shared.yaml`` does not hold, or builds an invalid machine."""


@dataclass(frozen=True)
class Shared:
    """What the sources share, by name (``shared.yaml``)."""

    retry: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    catch: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Shared:
        """The shared things of ``path``."""
        document = yaml.safe_load(path.read_text()) or {}
        return cls(
            retry=document.get("retry", {}),
            credentials=document.get("credentials", {}),
            states=document.get("states", {}),
            catch=document.get("catch", {}),
        )


def build_definition(source: dict[str, Any], shared: Shared) -> dict[str, Any]:
    """The definition ``source`` stands for, every shared name replaced by what it names."""
    # Through JSON, not deepcopy: a YAML alias would stay one object, built twice.
    built: dict[str, Any] = json.loads(json.dumps(source))
    _build_states(built["States"], shared, built.get("QueryLanguage", QUERY_LANGUAGES[0]))
    return built


def _variant(entry: dict[str, Any], language: str, what: str) -> dict[str, Any]:
    """``entry`` as a state of ``language`` uses it: its variant when written per language."""
    if entry and set(entry) <= set(QUERY_LANGUAGES):
        if language not in entry:
            raise SourceError(f"{what} has no {language} variant")
        entry = entry[language]
    return copy.deepcopy(entry)


def merge(shared: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """``shared`` with ``own`` merged in: mappings key by key, as deep as both go; anything else
    (a list, a string) replaced by ``own``'s.

    Examples
    --------
    >>> merge({"Arguments": {"FunctionName": "f", "Payload": {"a": 1}}, "Retry": ["lambda"]},
    ...       {"Arguments": {"Payload": {"b": 2}}, "Retry": []})
    {'Arguments': {'FunctionName': 'f', 'Payload': {'a': 1, 'b': 2}}, 'Retry': []}
    """
    merged = dict(shared)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _shared_state(
    state: str, used: str, shared: Shared, language: str, seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The shared state ``used`` as ``language`` reads it, every ``$use`` of its own resolved."""
    if used not in shared.states:
        raise SourceError(f"state {state!r}: no shared state {used!r}")
    if used in seen:
        raise SourceError(f"state {state!r}: shared state {used!r} uses itself")
    entry = _variant(shared.states[used], language, f"state {state!r}: shared state {used!r}")
    if USE not in entry:
        return entry
    base = _shared_state(state, entry.pop(USE), shared, language, (*seen, used))
    return merge(base, entry)


def _in_order(state: dict[str, Any]) -> dict[str, Any]:
    known = [key for key in FIELD_ORDER if key in state]
    return {key: state[key] for key in [*known, *(key for key in state if key not in known)]}


def _build_states(states: dict[str, Any], shared: Shared, machine_language: str) -> None:
    for name, written in list(states.items()):
        state = written
        language = written.get("QueryLanguage", machine_language)
        if USE in written:
            used = written.pop(USE)
            state = merge(_shared_state(name, used, shared, language), written)
            language = state.get("QueryLanguage", machine_language)
        if "Retry" in state:
            state["Retry"] = [_retry(name, policy, shared) for policy in state["Retry"]]
        if "Catch" in state:
            state["Catch"] = [
                _catcher(name, catcher, shared, language, state.get("Next"))
                for catcher in state["Catch"]
            ]
        if isinstance(state.get("Credentials"), str):
            if state["Credentials"] not in shared.credentials:
                raise SourceError(f"state {name!r}: no shared credentials {state['Credentials']!r}")
            state["Credentials"] = _variant(
                shared.credentials[state["Credentials"]],
                language,
                f"state {name!r}: shared credentials {state['Credentials']!r}",
            )
        for branch in state.get("Branches", []):
            _build_states(branch["States"], shared, language)
        for processor in ("ItemProcessor", "Iterator"):
            if processor in state:
                _build_states(state[processor]["States"], shared, language)
        states[name] = _in_order(state)


def _retry(state: str, policy: Any, shared: Shared) -> dict[str, Any]:
    if not isinstance(policy, str):
        raise SourceError(
            f"state {state!r}: a retry policy is named, and written once in {SHARED_FILE}"
        )
    if policy not in shared.retry:
        raise SourceError(f"state {state!r}: no shared retry policy {policy!r}")
    return copy.deepcopy(shared.retry[policy])


def _catcher(
    state: str, catcher: Any, shared: Shared, language: str, then: str | None
) -> dict[str, Any]:
    # A catcher written out stays as written; a name (or ``$use``) is the shared one.
    if isinstance(catcher, str):
        catcher = {USE: catcher}
    built = dict(catcher)
    if USE in catcher:
        own = {key: value for key, value in catcher.items() if key != USE}
        used = catcher[USE]
        if used not in shared.catch:
            raise SourceError(f"state {state!r}: no shared catcher {used!r}")
        built = {
            **_variant(shared.catch[used], language, f"state {state!r}: catcher {used!r}"),
            **own,
        }
    if "Next" not in built:
        if then is None:
            raise SourceError(f"state {state!r}: a catcher without Next, in a state without one")
        built["Next"] = then
    return built


def render(definition: dict[str, Any]) -> str:
    """A definition as its deployed file holds it."""
    return json.dumps(definition, indent=2) + "\n"


def build_all(sources: Path = SOURCES) -> dict[str, str]:
    """Each definition's file name and text, built from every source in ``sources``."""
    shared = Shared.load(sources / SHARED_FILE)
    built: dict[str, str] = {}
    for path in sorted(sources.glob("*.yaml")):
        if path.name == SHARED_FILE:
            continue
        try:
            definition = build_definition(yaml.safe_load(path.read_text()), shared)
        except SourceError as error:
            raise SourceError(f"{path.name}: {error}") from None
        problems = check_definition(definition)
        if problems:
            raise SourceError(f"{path.name}: " + "; ".join(problems))
        built[f"{path.stem}.json"] = render(definition)
    return built


def write_definitions(
    sources: Path = SOURCES, definitions: Path = DEFINITIONS, *, check: bool = False
) -> list[str]:
    """The names of the definitions in ``definitions`` that are not what ``sources`` build,
    written anew unless ``check``."""
    stale = []
    for name, text in build_all(sources).items():
        target = definitions / name
        if target.exists() and target.read_text() == text:
            continue
        stale.append(name)
        if not check:
            target.write_text(text)
    return stale


def main(argv: list[str] | None = None) -> int:
    """Write the definitions, or with ``--check`` say which differ from their sources."""
    parser = argparse.ArgumentParser(prog="python -m maas.workflow_build", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if a definition is stale"
    )
    arguments = parser.parse_args(argv)
    stale = write_definitions(check=arguments.check)
    if arguments.check and stale:
        print(f"stale, rebuild with `make workflows`: {', '.join(stale)}", file=sys.stderr)
        return 1
    for name in stale:
        print(f"wrote state_machines/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "Shared",
    "SourceError",
    "build_all",
    "build_definition",
    "main",
    "merge",
    "render",
    "write_definitions",
]
