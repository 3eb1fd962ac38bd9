"""The records of reward-model data: a human ranking and the pairwise rows made from it.

A :class:`Ranking` is what a person produced: one prompt and its completions, best first.
The rows a reward model trains on come from it in one of two shapes, both from the seed's
"Model Evaluation" section:

- :class:`PreferencePair`, the seed's table: (prompt, preferred, non-preferred, rewards
  [1, 0]), one row per unordered pair of completions;
- :class:`OrderedPair`, the seed's graph: (prompt, completion j, completion k, rewards), one
  row per *ordered* pair, rewards [1, 0] when j is ranked above k and [0, 1] when below.

Ties are not supported: a ranking lists each completion at its own rank. A tie states no
preference, so it would give no row in either shape; a rater who cannot separate two
completions keeps one of them (or neither) rather than inventing an order.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Text = Annotated[str, Field(min_length=1)]

#: The rewards [r_j, r_k] of a row: which of its two completions a person preferred.
Rewards = tuple[Literal[1], Literal[0]] | tuple[Literal[0], Literal[1]]


class Ranking(BaseModel):
    """One prompt and its completions as a person ranked them, best first, without ties.

    Examples
    --------
    >>> Ranking(prompt="2+2?", completions=("4", "5")).completions[0]
    '4'
    >>> from pydantic import ValidationError
    >>> try:
    ...     Ranking(prompt="2+2?", completions=("4", " 4"))
    ... except ValidationError as error:
    ...     print(error.errors()[0]["msg"])
    Value error, completion 2 repeats completion 1 ('4'): ties are not supported
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Text
    completions: tuple[Text, ...] = Field(
        min_length=2, description="The completions, best first (rank 1 first); no ties."
    )

    @field_validator("completions")
    @classmethod
    def _each_once(cls, completions: tuple[str, ...]) -> tuple[str, ...]:
        # Whitespace alone does not make a different answer; such a repeat is a tie in disguise.
        seen: dict[str, int] = {}
        for rank, completion in enumerate(completions, start=1):
            key = completion.strip()
            if key in seen:
                raise ValueError(
                    f"completion {rank} repeats completion {seen[key]} ({key!r}): "
                    "ties are not supported"
                )
            seen[key] = rank
        return completions


class PreferencePair(BaseModel):
    """A row of the seed's table: the preferred completion first, rewards always [1, 0]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Text
    preferred: Text
    non_preferred: Text
    rewards: tuple[Literal[1], Literal[0]] = (1, 0)

    @model_validator(mode="after")
    def _two_completions(self) -> PreferencePair:
        if self.preferred.strip() == self.non_preferred.strip():
            raise ValueError("preferred and non_preferred are the same completion")
        return self


class OrderedPair(BaseModel):
    """An edge of the seed's graph: two completions in either order and which one won."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: Text
    completion_j: Text
    completion_k: Text
    rewards: Rewards = Field(description="[1, 0]: j is ranked above k; [0, 1]: below.")

    @model_validator(mode="after")
    def _two_completions(self) -> OrderedPair:
        if self.completion_j.strip() == self.completion_k.strip():
            raise ValueError("completion_j and completion_k are the same completion")
        return self

    def as_preference(self) -> PreferencePair:
        """The same judgement as a table row, the preferred completion first."""
        preferred, non_preferred = (
            (self.completion_j, self.completion_k)
            if self.rewards == (1, 0)
            else (self.completion_k, self.completion_j)
        )
        return PreferencePair(prompt=self.prompt, preferred=preferred, non_preferred=non_preferred)


__all__ = ["OrderedPair", "PreferencePair", "Ranking", "Rewards"]
