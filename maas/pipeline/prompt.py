"""The prompt stage: the endpoint's template filled with the question and retrieved passages.

Passages are numbered in rank order, ``[1] Title: text``, so that an answer can cite them.
The template was checked where it was configured (``schemas.pipeline.PipelineSpec``), so
rendering cannot meet an unknown placeholder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from maas.pipeline.results import RetrievedContext


def format_contexts(contexts: Sequence[RetrievedContext]) -> str:
    """The passages as the ``{context}`` placeholder receives them: numbered, one per line.

    Examples
    --------
    >>> from maas.pipeline.results import RetrievedContext
    >>> print(format_contexts([
    ...     RetrievedContext(id="a", text="Paris is in France.", score=0.9, title="Paris"),
    ...     RetrievedContext(id="b", text="Lyon too.", score=0.5),
    ... ]))
    [1] Paris: Paris is in France.
    [2] Lyon too.
    """
    lines = []
    for rank, context in enumerate(contexts, start=1):
        title = f"{context.title}: " if context.title else ""
        lines.append(f"[{rank}] {title}{context.text}")
    return "\n".join(lines)


def render_prompt(template: str, question: str, contexts: Sequence[RetrievedContext]) -> str:
    """``template`` with ``{question}`` and ``{context}`` filled in.

    Examples
    --------
    >>> render_prompt("Q: {question}\\n{context}", "Why?", [])
    'Q: Why?\\n'
    """
    return template.format(question=question, context=format_contexts(contexts))


__all__ = ["format_contexts", "render_prompt"]
