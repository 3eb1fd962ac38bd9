"""The vetted library of code assertions: parameterized kinds, never code a model wrote.

EvalGen asks a judge for Python assertions. Running code an LLM wrote is not something a
control plane may do, so the judge instead picks a *kind* from this library and proposes its
parameters as JSON; :func:`validate_assertion` checks them against the kind's pydantic model
before anything runs. Each kind's ``check`` is a pure function of one output.

Examples
--------
>>> from maas.evaluation.evalgen.records import EvalOutput
>>> spec = validate_assertion("max_words", {"limit": 5})
>>> spec.check(EvalOutput(id="1", input="q", output="one two three"))
True
>>> try:
...     validate_assertion("max_words", {"limit": 0})
... except InvalidAssertion as error:
...     print(error.message)
assertion 'max_words': limit: Input should be greater than 0 (got 0)
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from pydantic import ValidationError as PydanticValidationError

from maas.evaluation.evalgen.exceptions import InvalidAssertion

if TYPE_CHECKING:
    from maas.evaluation.evalgen.records import EvalOutput

#: Longest regular expression accepted; a long pattern from a judge is more likely a mistake.
MAX_PATTERN_LENGTH = 200

#: Phrases by which a model declines to answer; lower case, matched as substrings.
DEFAULT_REFUSAL_PHRASES = (
    "i cannot help",
    "i can't help",
    "i am unable to",
    "i'm unable to",
    "i cannot answer",
    "i can't answer",
    "as an ai",
    "i'm sorry, but",
    "i am sorry, but",
    "i do not have access",
    "i don't have access",
)

# Words too common to tell whether an output mentions what the reference is about.
_STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could do does for from had has have how if in into
    is it its may more most must no not of on or our should so such than that the their them
    then there these they this those to up was we were what when where which who will with
    within would you your yours
    """.split()  # noqa: SIM905 - a list of 70 quoted words reads worse
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*")


def words(text: str) -> list[str]:
    """The words of ``text`` as a reader would count them."""
    return _WORD.findall(text)


def key_terms(text: str) -> set[str]:
    """The lower-cased content words of ``text`` (stopwords and one-letter words left out)."""
    return {
        word.lower() for word in words(text) if len(word) > 1 and word.lower() not in _STOPWORDS
    }


class _Assertion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def check(self, output: EvalOutput) -> bool:
        """True when ``output`` passes."""
        raise NotImplementedError

    def describe(self) -> str:
        """The kind and its parameters, as a report shows them."""
        params = ", ".join(
            f"{name}={value!r}"
            for name, value in self.model_dump(exclude={"kind"}, exclude_defaults=True).items()
        )
        return f"{getattr(self, 'kind', type(self).__name__)}({params})"


class MaxWords(_Assertion):
    """At most ``limit`` words."""

    kind: Literal["max_words"] = "max_words"
    limit: int = Field(gt=0, le=10_000)

    def check(self, output: EvalOutput) -> bool:
        return len(words(output.output)) <= self.limit


class MinWords(_Assertion):
    """At least ``limit`` words."""

    kind: Literal["min_words"] = "min_words"
    limit: int = Field(gt=0, le=10_000)

    def check(self, output: EvalOutput) -> bool:
        return len(words(output.output)) >= self.limit


class _Pattern(_Assertion):
    pattern: str = Field(min_length=1, max_length=MAX_PATTERN_LENGTH)
    ignore_case: bool = True

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        return pattern

    def _search(self, text: str) -> bool:
        flags = re.IGNORECASE if self.ignore_case else 0
        return re.search(self.pattern, text, flags) is not None


class MatchesRegex(_Pattern):
    """The output matches ``pattern`` somewhere."""

    kind: Literal["matches_regex"] = "matches_regex"

    def check(self, output: EvalOutput) -> bool:
        return self._search(output.output)


class NotMatchesRegex(_Pattern):
    """The output matches ``pattern`` nowhere."""

    kind: Literal["not_matches_regex"] = "not_matches_regex"

    def check(self, output: EvalOutput) -> bool:
        return not self._search(output.output)


class MentionsReferenceTerms(_Assertion):
    """At least ``min_share`` of the reference's key terms appear in the output.

    Passes when the output has no reference: there is nothing to compare with.
    """

    kind: Literal["mentions_reference_terms"] = "mentions_reference_terms"
    min_share: float = Field(gt=0.0, le=1.0)

    def check(self, output: EvalOutput) -> bool:
        if not output.reference:
            return True
        wanted = key_terms(output.reference)
        if not wanted:
            return True
        return len(wanted & key_terms(output.output)) / len(wanted) >= self.min_share


class NoRefusal(_Assertion):
    """No refusal phrase appears (case-insensitive)."""

    kind: Literal["no_refusal"] = "no_refusal"
    phrases: tuple[str, ...] = Field(default=DEFAULT_REFUSAL_PHRASES, min_length=1, max_length=50)

    def check(self, output: EvalOutput) -> bool:
        text = output.output.lower()
        return not any(phrase.lower() in text for phrase in self.phrases)


class ContainsAny(_Assertion):
    """At least one of ``terms`` appears (case-insensitive)."""

    kind: Literal["contains_any"] = "contains_any"
    terms: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1, max_length=50)

    def check(self, output: EvalOutput) -> bool:
        text = output.output.lower()
        return any(term.lower() in text for term in self.terms)


class ContainsNone(_Assertion):
    """None of ``terms`` appears (case-insensitive)."""

    kind: Literal["contains_none"] = "contains_none"
    terms: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1, max_length=50)

    def check(self, output: EvalOutput) -> bool:
        text = output.output.lower()
        return not any(term.lower() in text for term in self.terms)


class ValidJson(_Assertion):
    """The output parses as JSON (and, if ``object_only``, as a JSON object)."""

    kind: Literal["valid_json"] = "valid_json"
    object_only: bool = False

    def check(self, output: EvalOutput) -> bool:
        try:
            value = json.loads(output.output)
        except ValueError:
            return False
        return isinstance(value, dict) or not self.object_only


class MaxSentences(_Assertion):
    """At most ``limit`` sentences (split at ``.``, ``!`` and ``?``)."""

    kind: Literal["max_sentences"] = "max_sentences"
    limit: int = Field(gt=0, le=1000)

    def check(self, output: EvalOutput) -> bool:
        sentences = [part for part in re.split(r"[.!?]+", output.output) if part.strip()]
        return len(sentences) <= self.limit


class LatinScript(_Assertion):
    """At least ``min_share`` of the letters are Latin script.

    A cheap language check: an answer due in English (or another Latin-script language) that
    came back in another script fails it.
    """

    kind: Literal["latin_script"] = "latin_script"
    min_share: float = Field(default=0.9, gt=0.0, le=1.0)

    def check(self, output: EvalOutput) -> bool:
        letters = [char for char in output.output if char.isalpha()]
        if not letters:
            return False
        latin = sum(1 for char in letters if char.isascii() or "\u00c0" <= char <= "\u024f")
        return latin / len(letters) >= self.min_share


AssertionSpec = Annotated[
    MaxWords
    | MinWords
    | MatchesRegex
    | NotMatchesRegex
    | MentionsReferenceTerms
    | NoRefusal
    | ContainsAny
    | ContainsNone
    | ValidJson
    | MaxSentences
    | LatinScript,
    Field(discriminator="kind"),
]

_SPEC: TypeAdapter[AssertionSpec] = TypeAdapter(AssertionSpec)

#: Every vetted kind, by name, with its model (whose docstring and fields a judge is shown).
ASSERTION_KINDS: dict[str, type[_Assertion]] = {
    model.model_fields["kind"].default: model
    for model in (
        MaxWords,
        MinWords,
        MatchesRegex,
        NotMatchesRegex,
        MentionsReferenceTerms,
        NoRefusal,
        ContainsAny,
        ContainsNone,
        ValidJson,
        MaxSentences,
        LatinScript,
    )
}


def validate_assertion(kind: str, params: dict[str, Any]) -> AssertionSpec:
    """The assertion of ``kind`` with ``params``, or :class:`InvalidAssertion` saying why not."""
    if kind not in ASSERTION_KINDS:
        raise InvalidAssertion(
            f"assertion {kind!r}: not a vetted kind; known kinds: {', '.join(ASSERTION_KINDS)}"
        )
    if "kind" in params and params["kind"] != kind:
        raise InvalidAssertion(f"assertion {kind!r}: params name another kind {params['kind']!r}")
    try:
        return _SPEC.validate_python({**params, "kind": kind})
    except PydanticValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'][1:]) or 'params'}: "
            f"{problem['msg']} (got {problem['input']!r})"
            for problem in error.errors()
        )
        raise InvalidAssertion(f"assertion {kind!r}: {problems}") from None


def catalog() -> str:
    """The kinds and their parameters, one line each, for a judge's prompt."""
    lines = []
    for name, model in ASSERTION_KINDS.items():
        fields = ", ".join(
            f"{field}: {info.annotation.__name__ if isinstance(info.annotation, type) else 'list'}"
            for field, info in model.model_fields.items()
            if field != "kind"
        )
        summary = (model.__doc__ or "").strip().splitlines()[0]
        lines.append(f"- {name}({fields}): {summary}")
    return "\n".join(lines)


__all__ = [
    "ASSERTION_KINDS",
    "DEFAULT_REFUSAL_PHRASES",
    "MAX_PATTERN_LENGTH",
    "AssertionSpec",
    "catalog",
    "key_terms",
    "validate_assertion",
    "words",
]
