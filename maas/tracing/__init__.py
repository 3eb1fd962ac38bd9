"""Tracing of served requests with AWS X-Ray: one subsegment per pipeline stage.

:class:`RequestTrace` wraps a request, :meth:`RequestTrace.stage` each of its stages
(``prompt``, ``embedding``, ``retrieval``, ``generation``, ``guardrail``), and
:func:`current_trace_header` gives the ``X-Amzn-Trace-Id`` value that carries the trace into
a downstream call. What is recorded, and how to read it, is in ``docs/tracing.md``.
"""

from __future__ import annotations

from maas.tracing.annotations import (
    PROMPT_METADATA_LIMIT,
    AnnotationValue,
    check_key,
    compact_documents,
    truncate_prompt,
)
from maas.tracing.request import (
    STAGES,
    TRACE_HEADER,
    RequestTrace,
    StageName,
    StageTrace,
    current_trace_header,
    trace_header_of,
)

__all__ = [
    "PROMPT_METADATA_LIMIT",
    "STAGES",
    "TRACE_HEADER",
    "AnnotationValue",
    "RequestTrace",
    "StageName",
    "StageTrace",
    "check_key",
    "compact_documents",
    "current_trace_header",
    "trace_header_of",
    "truncate_prompt",
]
