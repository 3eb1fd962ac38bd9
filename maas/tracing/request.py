"""One served request as an X-Ray trace: a segment, and a subsegment per pipeline stage.

The serving pipeline wraps each request in a :class:`RequestTrace` and each of its stages
in :meth:`RequestTrace.stage`. What lands in X-Ray (or the local runtime's collector):

- a segment named after the service (``maas-serving`` unless told), continuing the caller's
  trace when a trace header came with the request, with the annotations ``model``,
  ``version``, ``tenant`` and, when known, ``endpoint``;
- under it one subsegment per stage, named ``prompt``, ``embedding``, ``retrieval``,
  ``generation`` or ``guardrail``, each with the same model/version/tenant annotations plus
  ``latency_ms`` and what the stage reports: ``tokens_in``/``tokens_out``, ``k``,
  ``document_ids``/``document_scores`` (see :mod:`maas.tracing.annotations`), and the
  rendered prompt as metadata (``maas.prompt``, truncated);
- a stage that raises is marked as a fault (or an error) with the exception, as the SDK
  marks any subsegment, and the exception goes on.

When a request already runs inside a traced entity on this thread (a Lambda handler that
Powertools' ``Tracer`` traces, say), the request becomes a subsegment of it instead of a
segment of its own.

It is built on ``aws_xray_sdk``'s recorder, the one Powertools' ``Tracer`` drives, and not
on ``Tracer`` itself: outside Lambda, building a ``Tracer`` switches the whole SDK off for
the process (``global_sdk_config.set_sdk_enabled(False)``), which would silence every trace
of a model server. The recorder sends documents to ``AWS_XRAY_DAEMON_ADDRESS``: the X-Ray
daemon on AWS, the local runtime's collector (:mod:`maas.local.xray`) locally.

The recorder's context is per thread: open and close a request and its stages on one thread.

Examples
--------
.. code-block:: python

    with RequestTrace(model="smollm2", version="3", tenant="acme",
                      trace_header=request.headers.get(TRACE_HEADER)) as trace:
        with trace.stage("prompt") as stage:
            prompt = template.render(question=question)
            stage.prompt(prompt)
        with trace.stage("retrieval", k=4) as stage:
            hits = index.search(question, k=4)
            stage.documents([(hit.id, hit.score) for hit in hits])
        with trace.stage("generation") as stage:
            answer = model.generate(prompt)
            stage.tokens(tokens_in=answer.prompt_tokens, tokens_out=answer.completion_tokens)
        downstream_headers = {TRACE_HEADER: trace.header()}
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal, Self, cast, get_args

from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.models.trace_header import TraceHeader

from maas.tracing.annotations import (
    METADATA_NAMESPACE,
    AnnotationValue,
    annotation_value,
    check_key,
    compact_documents,
    truncate_prompt,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from contextlib import AbstractContextManager
    from types import TracebackType

    from aws_xray_sdk.core.models.entity import Entity
    from aws_xray_sdk.core.recorder import AWSXRayRecorder

#: The HTTP header (and Lambda's ``_X_AMZN_TRACE_ID``) that carries a trace across services.
TRACE_HEADER = "X-Amzn-Trace-Id"

#: The stages of a served request, in the order they usually run.
StageName = Literal["prompt", "embedding", "retrieval", "generation", "guardrail"]
STAGES: tuple[StageName, ...] = get_args(StageName)

#: The service name of a request's segment unless told otherwise.
DEFAULT_SERVICE = "maas-serving"


class StageTrace:
    """The subsegment of one stage, given by :meth:`RequestTrace.stage`; annotate through it."""

    def __init__(self, entity: Entity) -> None:
        self._entity = entity

    @property
    def entity(self) -> Entity:
        """The X-Ray subsegment (a no-op one when the request is not sampled)."""
        return self._entity

    def annotate(self, **annotations: AnnotationValue) -> None:
        """Add indexed annotations; keys must satisfy X-Ray's rules (see ``check_key``)."""
        _annotate(self._entity, annotations)

    def tokens(self, *, tokens_in: int, tokens_out: int) -> None:
        """Record the tokens the stage read and wrote (``tokens_in``, ``tokens_out``)."""
        self.annotate(tokens_in=tokens_in, tokens_out=tokens_out)

    def documents(self, documents: Sequence[tuple[str, float]]) -> None:
        """Record retrieved ``(id, score)`` pairs, best first, and their number ``k``."""
        ids, scores = compact_documents(documents)
        self.annotate(k=len(documents), document_ids=ids, document_scores=scores)

    def prompt(self, rendered: str) -> None:
        """Keep the rendered prompt as metadata ``maas.prompt``, truncated (not indexed)."""
        self._entity.put_metadata("prompt", truncate_prompt(rendered), METADATA_NAMESPACE)


class RequestTrace:
    """The trace of one served request; a context manager, and the factory of its stages.

    Parameters
    ----------
    model, version, tenant
        What is served and for whom; annotated on the request and on every stage.
    endpoint
        The SageMaker endpoint serving it, when known (annotation ``endpoint``).
    trace_header
        The incoming ``X-Amzn-Trace-Id`` value (``Root=...;Parent=...;Sampled=...``): the
        request joins that trace and keeps its sampling decision. Without one, and with no
        traced entity on this thread, a new trace starts and the recorder's sampler decides.
    service
        The segment's name, which X-Ray shows as the service.
    recorder
        The X-Ray recorder; the SDK's global one (as Powertools uses) unless a test gives one.
    """

    def __init__(
        self,
        *,
        model: str,
        version: str,
        tenant: str,
        endpoint: str | None = None,
        trace_header: str | None = None,
        service: str = DEFAULT_SERVICE,
        recorder: AWSXRayRecorder | None = None,
    ) -> None:
        self._recorder: AWSXRayRecorder = recorder or xray_recorder
        self._common: dict[str, AnnotationValue] = {
            "model": model,
            "version": version,
            "tenant": tenant,
        }
        self._endpoint = endpoint
        self._incoming = TraceHeader.from_header_str(trace_header) if trace_header else None
        self._service = service
        self._opened: AbstractContextManager[Entity] | None = None
        self._entity: Entity | None = None

    @property
    def entity(self) -> Entity:
        """The request's segment or subsegment; only between ``__enter__`` and ``__exit__``."""
        if self._entity is None:
            raise RuntimeError("the request trace is not open")
        return self._entity

    def __enter__(self) -> Self:
        recorder = self._recorder
        if self._incoming is None and _open_entity(recorder) is not None:
            self._opened = recorder.in_subsegment(self._service)
        else:
            incoming = self._incoming
            decided = incoming is not None and incoming.sampled is not None
            sampled = int(incoming.sampled) if incoming is not None and decided else None
            self._opened = recorder.in_segment(
                self._service,
                traceid=incoming.root if incoming else None,
                parent_id=incoming.parent if incoming else None,
                sampling=sampled,
            )
        self._entity = self._opened.__enter__()
        annotations = dict(self._common)
        if self._endpoint:
            annotations["endpoint"] = self._endpoint
        _annotate(self._entity, annotations)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        opened, self._opened, self._entity = self._opened, None, None
        if opened is not None:
            opened.__exit__(exc_type, exc, traceback)

    def stage(self, name: StageName, **annotations: AnnotationValue) -> _StageContext:
        """A subsegment for the stage ``name``, annotated with ``annotations`` at once.

        On exit it gets ``latency_ms`` (wall time of the block, in milliseconds).
        """
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}; the stages are {', '.join(STAGES)}")
        for key in annotations:
            check_key(key)
        self.entity  # noqa: B018 - raises unless the request is open
        return _StageContext(self._recorder, name, {**self._common, **annotations})

    def header(self) -> str:
        """The ``X-Amzn-Trace-Id`` value to send downstream: this trace, parented here.

        Inside a stage the parent is that stage's subsegment, so a downstream service's
        segment (an endpoint invocation) nests under it in the trace.
        """
        header = current_trace_header(self._recorder)
        if header is None:
            raise RuntimeError("the request trace is not open")
        return header


class _StageContext:
    def __init__(
        self,
        recorder: AWSXRayRecorder,
        name: str,
        annotations: dict[str, AnnotationValue],
    ) -> None:
        self._recorder = recorder
        self._opened = recorder.in_subsegment(name)
        self._annotations = annotations
        self._started = 0.0
        self._stage: StageTrace | None = None

    def __enter__(self) -> StageTrace:
        entity = self._opened.__enter__()
        _annotate(entity, self._annotations)
        self._stage = StageTrace(entity)
        self._started = time.perf_counter()
        return self._stage

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        elapsed_ms = (time.perf_counter() - self._started) * 1000
        if self._stage is not None:
            self._stage.annotate(latency_ms=round(elapsed_ms, 3))
        self._opened.__exit__(exc_type, exc, traceback)


def current_trace_header(recorder: AWSXRayRecorder | None = None) -> str | None:
    """The ``X-Amzn-Trace-Id`` value for the entity open on this thread, or None if none is.

    ``Root`` is the trace id, ``Parent`` the open segment or subsegment, and ``Sampled`` the
    trace's decision (``1`` or ``0``); a downstream call that sends it joins this trace.

    Examples
    --------
    >>> current_trace_header() is None   # nothing traced on this thread
    True
    """
    entity = _open_entity(recorder or xray_recorder)
    return None if entity is None else trace_header_of(entity)


def trace_header_of(entity: Entity) -> str:
    """The ``X-Amzn-Trace-Id`` value that makes ``entity`` the parent of a downstream call."""
    sampled = int(bool(getattr(entity, "sampled", False)))
    return str(TraceHeader(root=entity.trace_id, parent=entity.id, sampled=sampled).to_header_str())


def _annotate(entity: Entity, annotations: dict[str, AnnotationValue]) -> None:
    for key, value in annotations.items():
        entity.put_annotation(check_key(key), annotation_value(value))


def _open_entity(recorder: AWSXRayRecorder) -> Entity | None:
    # The recorder's own accessor reports a missing entity through ``context_missing`` (an
    # error log, or an exception): here having none is an ordinary answer. In Lambda the
    # context answers with the function's facade segment, built from ``_X_AMZN_TRACE_ID``.
    context = recorder.context
    if isinstance(context, LambdaContext):
        return cast("Entity | None", context.get_trace_entity())
    entities = getattr(context._local, "entities", None)
    return cast("Entity", entities[-1]) if entities else None


__all__ = [
    "DEFAULT_SERVICE",
    "STAGES",
    "TRACE_HEADER",
    "RequestTrace",
    "StageName",
    "StageTrace",
    "current_trace_header",
    "trace_header_of",
]
