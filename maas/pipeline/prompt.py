"""The prompt stage: the endpoint's template filled with the question and retrieved passages.

Passages are numbered in rank order, ``[1] Title: text``, so that an answer can cite them.
The template is filled by substitution, not by ``str.format``: a placeholder's value is put
in as it is, and nothing of a template is evaluated. It was checked where it was configured
(``schemas.pipeline.PipelineSpec``: bare ``{question}`` and ``{context}`` only), and one
stored before that check is read back plain (``EndpointPipeline``), so rendering cannot fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.pipeline import template_parts

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
    >>> render_prompt("{{literal}} {question}", "{context}?", [])
    '{literal} {context}?'
    """
    values = {"question": question, "context": format_contexts(contexts)}
    return "".join(
        literal + ("" if found is None else values.get(found.field, found.written))
        for literal, found in template_parts(template)
    )


__all__ = ["format_contexts", "render_prompt"]
