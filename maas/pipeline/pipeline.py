"""One served request through its stages, each a traced subsegment: :class:`RagPipeline`.

The order a request runs in:

1. ``guardrail`` on the question (``source=INPUT``): a blocked question is answered with the
   guardrail's message and goes no further; a masked one goes on masked, so that neither
   the embedding model nor the endpoint sees what the guardrail took out;
2. ``embedding`` of the question (and, the first time, of the corpus: see
   :mod:`maas.pipeline.retrieval`);
3. ``retrieval`` of the ``top_k`` closest passages;
4. ``prompt``: the template filled with the question and the passages;
5. ``generation`` on the endpoint, the trace header carried into ``InvokeEndpoint``;
6. ``guardrail`` on the answer (``source=OUTPUT``): a blocked or masked answer is replaced by
   what the guardrail returned.

Without knowledge, 2 and 3 do not run and ``{context}`` is empty; without a guardrail, 1
and 6 do not. Every stage's wall time is in the answer (``stages_ms``) and on its subsegment
(``latency_ms``), with what it did: the embedder and dimensions, ``k`` and the documents'
ids and scores, the rendered prompt (metadata), tokens in and out, the guardrail's action.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from maas.pipeline.embedding import embedder_for
from maas.pipeline.generation import EndpointGenerator, Generation
from maas.pipeline.prompt import render_prompt
from maas.pipeline.results import GuardrailFinding, PipelineAnswer, RetrievedContext
from maas.pipeline.retrieval import CORPORA, CorpusCache
from maas.pipeline.streaming import (
    OUTPUT_WINDOW_CHARACTERS,
    OutputWindows,
    StreamedAnswer,
    StreamedText,
)
from maas.tracing import RequestTrace

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from aws_xray_sdk.core.recorder import AWSXRayRecorder

    from maas.guardrails import GuardrailVerdict, Source
    from maas.pipeline.embedding import Embedder
    from maas.tracing import StageName, StageTrace
    from schemas.pipeline import GenerationSettings, PipelineSpec


class Guard(Protocol):
    """What checks a text: :class:`maas.guardrails.GuardrailChecker`."""

    def check(self, text: str, source: Source) -> GuardrailVerdict:
        """The guardrail's verdict on ``text`` as a prompt (INPUT) or a completion (OUTPUT)."""
        ...


class RagPipeline:
    """The pipeline of one endpoint, for one tenant; :meth:`run` answers a question.

    Parameters
    ----------
    spec
        The endpoint's pipeline (``schemas.pipeline.PipelineSpec``).
    endpoint_name
        The SageMaker endpoint that generates.
    tenant, model, version
        Whose request it is and what the endpoint serves: the trace's annotations.
    guardrail
        The tenant's guardrail checker; None (or ``spec.guardrail`` off) checks nothing.
    generator, embedder
        Given by tests or callers with their own; by default an :class:`EndpointGenerator`
        on ``sagemaker`` and the embedder ``spec.knowledge.embedding`` names.
    sagemaker, bedrock, s3
        boto3 clients (``sagemaker-runtime``, ``bedrock-runtime``, ``s3``) to use instead of
        the process's own: the API passes the tenant's.
    corpora
        Where embedded corpora are kept (the process's cache unless given).
    recorder
        The X-Ray recorder (the SDK's global one unless given).

    Examples
    --------
    .. code-block:: python

        pipeline = RagPipeline(spec, endpoint_name="acme-chat", tenant="acme",
                               model="smollm2", version="3",
                               guardrail=GuardrailChecker(resolve_guardrail("acme", stage="dev")))
        answer = pipeline.run("What does the warranty cover?")
        answer.answer, [context.id for context in answer.contexts], answer.trace_id
    """

    def __init__(
        self,
        spec: PipelineSpec,
        *,
        endpoint_name: str,
        tenant: str,
        model: str,
        version: str,
        guardrail: Guard | None = None,
        generator: EndpointGenerator | None = None,
        embedder: Embedder | None = None,
        sagemaker: Any | None = None,
        bedrock: Any | None = None,
        s3: Any | None = None,
        corpora: CorpusCache = CORPORA,
        recorder: AWSXRayRecorder | None = None,
    ) -> None:
        self.spec = spec
        self.endpoint_name = endpoint_name
        self.tenant = tenant
        self.model = model
        self.version = version
        self._guardrail = guardrail if spec.guardrail else None
        self._generator = generator or EndpointGenerator(endpoint_name, client=sagemaker)
        self._embedder = embedder
        if embedder is None and spec.knowledge is not None:
            self._embedder = embedder_for(
                spec.knowledge.embedding, sagemaker=sagemaker, bedrock=bedrock
            )
        self._s3 = s3
        self._corpora = corpora
        self._recorder = recorder

    def run(
        self,
        question: str,
        *,
        trace_header: str | None = None,
        parameters: GenerationSettings | None = None,
    ) -> PipelineAnswer:
        """Answer ``question``; ``trace_header`` continues the caller's trace.

        ``parameters`` overrides the pipeline's generation settings for this request (the
        fields it sets). A guardrail that intervenes never loses the request: the answer
        says what was blocked and why.

        Raises
        ------
        CorpusNotFound, CorpusInvalid
            The knowledge corpus is missing or malformed.
        ModelCallFailed
            The endpoint or the embedding model answered an error.
        """
        settings = self.spec.generation
        if parameters is not None:
            settings = settings.model_copy(update=parameters.model_dump(exclude_unset=True))
        started = time.perf_counter()
        timings: dict[str, float] = {}
        findings: list[GuardrailFinding] = []
        contexts: list[RetrievedContext] = []
        tokens_in = tokens_out = 0
        with RequestTrace(
            model=self.model,
            version=self.version,
            tenant=self.tenant,
            endpoint=self.endpoint_name,
            trace_header=trace_header,
            recorder=self._recorder,
        ) as trace:
            trace_id = str(trace.entity.trace_id)
            text = question
            checked = self._check(trace, timings, text, "INPUT")
            if checked is not None:
                findings.append(_finding(checked))
                text = checked.text
            if checked is not None and checked.blocked:
                answer = checked.text
            else:
                contexts = self._retrieve(trace, timings, text)
                with self._stage(trace, timings, "prompt") as stage:
                    prompt = render_prompt(self.spec.prompt_template, text, contexts)
                    stage.prompt(prompt)
                    stage.annotate(prompt_characters=len(prompt))
                with self._stage(trace, timings, "generation") as stage:
                    generated = self._generator.generate(
                        prompt, settings, trace_header=trace.header()
                    )
                    stage.tokens(tokens_in=generated.tokens_in, tokens_out=generated.tokens_out)
                    stage.annotate(finish_reason=generated.finish_reason)
                tokens_in, tokens_out = generated.tokens_in, generated.tokens_out
                answer = generated.text
                checked = self._check(trace, timings, answer, "OUTPUT")
                if checked is not None:
                    findings.append(_finding(checked))
                    answer = checked.text
        return PipelineAnswer(
            answer=answer,
            contexts=tuple(contexts),
            trace_id=trace_id,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            blocked=any(finding.blocked for finding in findings),
            guardrail=tuple(findings),
            stages_ms=timings,
            model=self.model,
            version=self.version,
        )

    def stream(
        self,
        question: str,
        *,
        trace_header: str | None = None,
        parameters: GenerationSettings | None = None,
        window: int = OUTPUT_WINDOW_CHARACTERS,
    ) -> Iterator[StreamedText | StreamedAnswer]:
        """Answer ``question`` as :meth:`run` does, releasing the answer's text as it comes.

        The same stages, in the same order and traced the same way; the generation streams
        (:meth:`EndpointGenerator.generate_stream`), and the answer's guardrail checks it in
        windows of ``window`` characters while it does (:class:`OutputWindows`), the last
        window in the ``guardrail`` stage after the generation. Once a window is blocked, the
        rest of the generation is read but not released, so that its tokens are counted.
        Last comes the :class:`StreamedAnswer`.
        """
        settings = self.spec.generation
        if parameters is not None:
            settings = settings.model_copy(update=parameters.model_dump(exclude_unset=True))
        started = time.perf_counter()
        timings: dict[str, float] = {}
        findings: list[GuardrailFinding] = []
        contexts: list[RetrievedContext] = []
        generated: Generation | None = None
        with RequestTrace(
            model=self.model,
            version=self.version,
            tenant=self.tenant,
            endpoint=self.endpoint_name,
            trace_header=trace_header,
            recorder=self._recorder,
        ) as trace:
            trace_id = str(trace.entity.trace_id)
            checked = self._check(trace, timings, question, "INPUT")
            text = checked.text if checked is not None else question
            if checked is not None:
                findings.append(_finding(checked))
            if checked is not None and checked.blocked:
                answer = checked.text
                yield StreamedText(answer)
            else:
                contexts = self._retrieve(trace, timings, text)
                with self._stage(trace, timings, "prompt") as stage:
                    prompt = render_prompt(self.spec.prompt_template, text, contexts)
                    stage.prompt(prompt)
                    stage.annotate(prompt_characters=len(prompt))
                windows = OutputWindows(self._guardrail, window) if self._guardrail else None
                pieces: list[str] = []
                with self._stage(trace, timings, "generation") as stage:
                    for piece in self._generator.generate_stream(
                        prompt, settings, trace_header=trace.header()
                    ):
                        if isinstance(piece, Generation):
                            generated = piece
                        elif windows is None:
                            pieces.append(piece)
                            yield StreamedText(piece)
                        elif released := windows.add(piece):
                            yield StreamedText(released)
                    assert generated is not None
                    stage.tokens(tokens_in=generated.tokens_in, tokens_out=generated.tokens_out)
                    stage.annotate(finish_reason=generated.finish_reason, streamed=True)
                answer = "".join(pieces)
                if windows is not None:
                    verdict = yield from self._last_window(trace, timings, windows)
                    findings.append(_finding(verdict))
                    answer = verdict.text
        result = PipelineAnswer(
            answer=answer,
            contexts=tuple(contexts),
            trace_id=trace_id,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            tokens_in=generated.tokens_in if generated else 0,
            tokens_out=generated.tokens_out if generated else 0,
            blocked=any(finding.blocked for finding in findings),
            guardrail=tuple(findings),
            stages_ms=timings,
            model=self.model,
            version=self.version,
        )
        # Held back: a blocked prompt (nothing generated), a blocked or masked answer.
        filtered = generated is None or any(
            finding.intervened for finding in findings if finding.source == "OUTPUT"
        )
        finish = "content_filter" if filtered else _finish_reason(generated)
        yield StreamedAnswer(result, finish)

    def _last_window(
        self, trace: RequestTrace, timings: dict[str, float], windows: OutputWindows
    ) -> Generator[StreamedText, None, GuardrailVerdict]:
        """The answer's guardrail stage of a stream: the last window, and every window's verdict."""
        with self._stage(trace, timings, "guardrail", "guardrail_output") as stage:
            if last := windows.finish():
                yield StreamedText(last)
            verdict = windows.verdict()
            stage.annotate(
                source="OUTPUT",
                action=verdict.action,
                intervened=verdict.intervened,
                blocked=verdict.blocked,
                windows=windows.checks,
            )
            if verdict.reasons:
                stage.annotate(reasons="; ".join(verdict.reasons))
        return verdict

    def _retrieve(
        self, trace: RequestTrace, timings: dict[str, float], question: str
    ) -> list[RetrievedContext]:
        knowledge, embedder = self.spec.knowledge, self._embedder
        if knowledge is None or embedder is None:
            return []
        with self._stage(trace, timings, "embedding") as stage:
            index = self._corpora.index(knowledge.corpus_uri, embedder, s3=self._s3)
            (vector,) = embedder.embed([question], purpose="query")
            stage.annotate(
                embedder=embedder.name,
                dimensions=len(vector),
                corpus_documents=len(index.documents),
            )
        with self._stage(trace, timings, "retrieval") as stage:
            hits = index.search(vector, knowledge.top_k)
            stage.documents([(hit.id, hit.score) for hit in hits])
        return hits

    def _check(
        self, trace: RequestTrace, timings: dict[str, float], text: str, source: Source
    ) -> GuardrailVerdict | None:
        if self._guardrail is None:
            return None
        with self._stage(trace, timings, "guardrail", f"guardrail_{source.lower()}") as stage:
            verdict = self._guardrail.check(text, source)
            stage.annotate(
                source=source,
                action=verdict.action,
                intervened=verdict.intervened,
                blocked=verdict.blocked,
            )
            if verdict.reasons:
                stage.annotate(reasons="; ".join(verdict.reasons))
        return verdict

    @contextmanager
    def _stage(
        self,
        trace: RequestTrace,
        timings: dict[str, float],
        name: StageName,
        timing: str | None = None,
    ) -> Iterator[StageTrace]:
        started = time.perf_counter()
        try:
            with trace.stage(name) as stage:
                yield stage
        finally:
            timings[timing or name] = round((time.perf_counter() - started) * 1000, 3)


def _finish_reason(generated: Generation | None) -> str:
    return "length" if generated is not None and generated.finish_reason == "length" else "stop"


def _finding(verdict: GuardrailVerdict) -> GuardrailFinding:
    return GuardrailFinding(
        source=verdict.source,
        action=verdict.action,
        intervened=verdict.intervened,
        blocked=verdict.blocked,
        reasons=verdict.reasons,
        assessments=verdict.assessments,
    )


__all__ = ["Guard", "RagPipeline"]
