"""Contextual grounding, locally: how much of a completion its source and query account for.

Bedrock scores grounding (is the completion supported by the grounding source?) and
relevance (does it answer the query?) with a model, from 0 to 1, and blocks a completion
scoring below the filter's threshold. Locally both are word overlaps, over content words
(lower-cased, English stop words removed, a final -s dropped, numbers kept since a changed
figure is the commonest unsupported claim):

- grounding: the share of the completion's content words found in the source;
- relevance: the share of the query's content words found in the completion.

What this cannot do, and Bedrock can: accept a faithful paraphrase in other words, catch a
contradiction made of the source's own words ("is not" for "is"), or judge an answer that is
relevant without repeating the question's words.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

_WORD = re.compile(r"\w+")


def _singular(word: str) -> str:
    # The crudest English stemmer, enough for "costs" to meet "cost" and "years" "year".
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    """The distinct content words of ``text``, without a final -s.

    Examples
    --------
    >>> sorted(content_words("The warranty lasts 2 years."))
    ['2', 'last', 'warranty', 'year']
    """
    return {
        _singular(word) for word in _WORD.findall(text.lower()) if word not in ENGLISH_STOP_WORDS
    }


def _share_found(words: set[str], among: set[str]) -> float:
    # Nothing to account for is fully accounted for.
    return len(words & among) / len(words) if words else 1.0


def grounding_score(source: str, completion: str) -> float:
    """The share of the completion's content words that the source contains.

    Examples
    --------
    >>> grounding_score("The warranty lasts 2 years.", "The warranty lasts 5 years.")
    0.75
    """
    return _share_found(content_words(completion), content_words(source))


def relevance_score(query: str, completion: str) -> float:
    """The share of the query's content words that the completion takes up.

    Examples
    --------
    >>> relevance_score("How long is the warranty?", "The warranty lasts 2 years.")
    0.5
    """
    return _share_found(content_words(query), content_words(completion))


__all__ = ["content_words", "grounding_score", "relevance_score"]
