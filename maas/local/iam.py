"""AWS's evaluation of identity-based policies, without AWS: what decides AccessDenied locally.

moto's own IAM checks stop at actions and plain resources (no ``Condition``, no policy
variables), and the tenant access role's statements are nothing but conditions and
variables (``dynamodb:LeadingKeys`` against ``TENANT#${aws:PrincipalTag/maas:tenant}``,
``aws:ResourceTag/maas:tenant``, S3 keys under ``${aws:PrincipalTag/maas:tenant}/``). This
module evaluates them as AWS does, following these pages of the IAM User Guide:

- "Policy evaluation logic" (reference_policies_evaluation-logic.html) and "The difference
  between explicit and implicit denies": within one account and for identity-based policies
  only, an explicit ``Deny`` wins, else an ``Allow`` that applies allows, else the request is
  implicitly denied.
- "IAM JSON policy elements: Condition operators"
  (reference_policies_elements_condition_operators.html): every operator of a ``Condition``
  and every key under it must hold, any one of a key's values may match; a key missing from
  the request context fails a positive operator and satisfies a negated one, except under
  ``...IfExists`` (missing: true) and ``Null``; ``ForAllValues:`` holds when every value of a
  multivalued key matches (so also when the key has none), ``ForAnyValue:`` when one does.
  The ARN operators compare each of the six colon-separated parts on its own.
- "IAM policy elements: Variables and tags" (reference_policies_variables.html): ``${key}``
  in ``Resource`` and in condition values is replaced by the request context's value of
  ``key``, ``${key, 'default'}`` falls back to the default, ``${*}``, ``${?}`` and ``${$}``
  stand for the literal characters; a variable with no value (the key absent, or
  multivalued) makes that resource or condition value match nothing.

Action names and condition key names compare case-insensitively, resources and values
case-sensitively, as AWS compares them. Only the ``2012-10-17`` policy language is evaluated
(the 2008 one has no variables), and operators the project's statements do not use
(numeric, date, IP, binary) are refused when a policy is loaded rather than evaluated wrong.

Examples
--------
>>> policy = Policy.from_document({
...     "Statement": [{
...         "Effect": "Allow",
...         "Action": "s3:GetObject",
...         "Resource": "arn:aws:s3:::art/${aws:PrincipalTag/maas:tenant}/*",
...     }]
... })
>>> context = {"aws:PrincipalTag/maas:tenant": ("acme",)}
>>> evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::art/acme/q.jsonl", context))
<Decision.ALLOW: 'allow'>
>>> evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::art/globex/q.jsonl", context))
<Decision.IMPLICIT_DENY: 'implicit-deny'>
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
#: ``${key, 'default'}``: a variable with a default value.
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
#: The variables that stand for a character the policy grammar gives a meaning to.
_LITERALS = {"*": "*", "?": "?", "$": "$"}
#: Operators that hold when the value matches none of the policy's values.
_NEGATED = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)
_ARN_PARTS = 6
#: Frames the text a variable put in a pattern: literal, whatever characters it holds.
_FRAME = "\x00"


class Decision(enum.Enum):
    """What the evaluation decided, and why (the denial message tells the two denies apart)."""

    ALLOW = "allow"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class Request:
    """One authorization: an action on one resource, in a request context.

    A call that touches several resources (a transaction over two tables) is several
    requests, and is allowed only if each is.
    """

    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _keys: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Condition key names are case-insensitive: look them up by their lower case.
        lowered = {key.lower(): values for key, values in self.context.items()}
        object.__setattr__(self, "_keys", lowered)

    def value(self, key: str) -> tuple[str, ...] | None:
        """The values of condition key ``key`` (names are case-insensitive), None if absent."""
        return self._keys.get(key.lower())


@dataclass(frozen=True)
class Condition:
    """One key of one operator of a statement's ``Condition`` block."""

    operator: str
    key: str
    values: tuple[str, ...]

    def holds(self, request: Request) -> bool:
        """Whether the request context satisfies this condition."""
        qualifier, base, if_exists = _split_operator(self.operator)
        present = request.value(self.key)
        if base == "null":
            # "true": the key must be absent; "false": present (with a value).
            wanted_absent = {value.lower() for value in self.values}
            return ("true" if not present else "false") in wanted_absent
        if not present:
            # Missing (or, for a multivalued key, empty): IfExists and ForAllValues hold,
            # ForAnyValue does not, and otherwise only a negated operator holds.
            if if_exists or qualifier == "forallvalues":
                return True
            return qualifier is None and base in _NEGATED
        policy_values = [
            value
            for value in (_substitute(raw, request) for raw in self.values)
            if value is not None
        ]
        matches = _matcher(base)

        def matches_one(value: str) -> bool:
            hit = any(matches(pattern, value) for pattern in policy_values)
            return not hit if base in _NEGATED else hit

        if qualifier == "forallvalues":
            return all(matches_one(value) for value in present)
        # ForAnyValue, and a single-valued key (its one value; a multivalued key under a
        # plain operator holds when any of its values does).
        return any(matches_one(value) for value in present)


@dataclass(frozen=True)
class Statement:
    """One statement: its effect, what it names (or excepts), its conditions."""

    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]
    sid: str | None = None

    @classmethod
    def from_json(cls, statement: Mapping[str, Any]) -> Statement:
        """Parse one element of a policy's ``Statement``; refuse what is not understood."""
        effect = statement["Effect"]
        if effect not in ("Allow", "Deny"):
            raise ValueError(f"Effect must be Allow or Deny, not {effect!r}")
        not_action = "NotAction" in statement
        not_resource = "NotResource" in statement
        conditions = tuple(
            Condition(operator=operator, key=key, values=_strings(values))
            for operator, keys in (statement.get("Condition") or {}).items()
            for key, values in keys.items()
        )
        for condition in conditions:
            _matcher(_split_operator(condition.operator)[1])  # refuses unknown operators
        return cls(
            effect=effect,
            actions=_strings(statement["NotAction" if not_action else "Action"]),
            not_action=not_action,
            resources=_strings(statement["NotResource" if not_resource else "Resource"]),
            not_resource=not_resource,
            conditions=conditions,
            sid=statement.get("Sid"),
        )

    def applies(self, request: Request) -> bool:
        """Whether the statement matches the request's action, resource and context."""
        action_named = any(_action_matches(pattern, request.action) for pattern in self.actions)
        if action_named == self.not_action:
            return False
        resource_named = any(
            _glob(resolved, request.resource)
            for resolved in (_substitute(pattern, request) for pattern in self.resources)
            if resolved is not None
        )
        if resource_named == self.not_resource:
            return False
        return all(condition.holds(request) for condition in self.conditions)


@dataclass(frozen=True)
class Policy:
    """A policy document's statements."""

    statements: tuple[Statement, ...]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Policy:
        """Parse a policy document (``{"Version": ..., "Statement": [...]}``)."""
        version = document.get("Version", "2012-10-17")
        if version != "2012-10-17":
            # The 2008 grammar has no policy variables: ${...} would be literal text.
            raise ValueError(f"only policy language version 2012-10-17 is evaluated: {version}")
        statements = document["Statement"]
        if isinstance(statements, dict):
            statements = [statements]
        return cls(tuple(Statement.from_json(statement) for statement in statements))


def evaluate(policies: Iterable[Policy], request: Request) -> Decision:
    """AWS's decision for ``request`` under identity-based ``policies`` (one account)."""
    allowed = False
    for policy in policies:
        for statement in policy.statements:
            if statement.applies(request):
                if statement.effect == "Deny":
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


# --- Matching --------------------------------------------------------------------------------


def _strings(value: str | bool | Sequence[str | bool]) -> tuple[str, ...]:
    """A policy element's one value or list of values, as texts."""
    values = [value] if isinstance(value, str | bool) else list(value)
    # JSON booleans (a Bool condition written as true) compare as their JSON text.
    return tuple(str(item).lower() if isinstance(item, bool) else item for item in values)


def _split_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAllValues:StringLikeIfExists`` -> ("forallvalues", "stringlike", True)."""
    qualifier, _, base = operator.rpartition(":")
    qualifier_lower = qualifier.lower() or None
    if qualifier_lower not in (None, "forallvalues", "foranyvalue"):
        raise ValueError(f"unknown set operator {qualifier!r} in {operator!r}")
    base_lower = base.lower()
    if_exists = base_lower.endswith("ifexists") and base_lower != "null"
    return qualifier_lower, base_lower.removesuffix("ifexists"), if_exists


def _matcher(base: str) -> Callable[[str, str], bool]:
    """How a policy value (first) is compared with a request value, per operator."""
    matchers: dict[str, Callable[[str, str], bool]] = {
        "stringequals": lambda pattern, value: _plain(pattern) == value,
        "stringnotequals": lambda pattern, value: _plain(pattern) == value,
        "stringequalsignorecase": _equals_ignore_case,
        "stringnotequalsignorecase": _equals_ignore_case,
        "stringlike": _glob,
        "stringnotlike": _glob,
        "arnequals": _arn_like,
        "arnlike": _arn_like,
        "arnnotequals": _arn_like,
        "arnnotlike": _arn_like,
        "bool": _equals_ignore_case,
        "null": str.__eq__,
    }
    try:
        return matchers[base]
    except KeyError:
        raise ValueError(f"condition operator {base!r} is not evaluated locally") from None


def _plain(pattern: str) -> str:
    """A substituted value without the frames :func:`_substitute` put around variables."""
    return pattern.replace(_FRAME, "")


def _equals_ignore_case(pattern: str, value: str) -> bool:
    return _plain(pattern).lower() == value.lower()


def _action_matches(pattern: str, action: str) -> bool:
    """Actions are ``service:Name``, compared case-insensitively, with ``*`` and ``?``."""
    return _glob(pattern.lower(), action.lower())


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: the six parts of the ARN, each matched on its own."""
    pattern_parts = _split_unframed(pattern, ":", _ARN_PARTS - 1)
    value_parts = value.split(":", _ARN_PARTS - 1)
    if len(pattern_parts) != _ARN_PARTS or len(value_parts) != _ARN_PARTS:
        return False
    return all(_glob(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _split_unframed(text: str, separator: str, max_splits: int) -> list[str]:
    """``text.split(separator, max_splits)``, but never inside a variable's framed value."""
    parts: list[str] = []
    start, framed = 0, False
    for index, char in enumerate(text):
        if char == _FRAME:
            framed = not framed
        elif char == separator and not framed and len(parts) < max_splits:
            parts.append(text[start:index])
            start = index + 1
    return [*parts, text[start:]]


def _glob(pattern: str, value: str) -> bool:
    """``*`` any run of characters (``/`` and ``:`` included), ``?`` any one; else literal."""
    if "*" not in pattern and "?" not in pattern and _FRAME not in pattern:
        return pattern == value
    return _compiled(pattern).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    # A NUL-framed run is text a variable put there: literal, whatever it holds.
    parts = []
    for index, chunk in enumerate(pattern.split(_FRAME)):
        if index % 2:
            parts.append(re.escape(chunk))
        else:
            parts.append(
                "".join(
                    ".*" if char == "*" else "." if char == "?" else re.escape(char)
                    for char in chunk
                )
            )
    return re.compile("".join(parts), re.DOTALL)


def _substitute(text: str, request: Request) -> str | None:
    """``text`` with its policy variables replaced; None when one has no value.

    A value a variable puts in is framed with NUL characters so that a ``*`` in, say, a tag
    value stays a literal character for :func:`_glob`; ``${*}`` is the one way to write a
    literal ``*``. Texts without variables come back unchanged.
    """
    if "${" not in text:
        return text
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1)
        if name in _LITERALS:
            return f"{_FRAME}{_LITERALS[name]}{_FRAME}"
        default = _DEFAULT.match(name)
        key = default.group(1) if default else name.strip()
        values = request.value(key)
        if values is not None and len(values) == 1:
            return f"{_FRAME}{values[0]}{_FRAME}"
        if default:
            return f"{_FRAME}{default.group(2)}{_FRAME}"
        unresolved = True
        return ""

    substituted = _VARIABLE.sub(replace, text)
    return None if unresolved else substituted


__all__ = ["Condition", "Decision", "Policy", "Request", "Statement", "evaluate"]
