"""``maas demo``: package a real model, deploy it, evaluate it, ask it, tear it down, locally.

The demo runs the product's main job, the ``lifecycle`` state machine, with its real children
(``package_model``, ``deploy_endpoint``, ``evaluate``), Lambda handlers and Batch jobs on the
embedded runtime: SmolLM2-135M-Instruct is converted from GGUF to safetensors, sized by the
advisor, uploaded, registered and deployed; then a bundled question set runs through the
endpoint's RAG pipeline (all-MiniLM-L6-v2 retrieval over a bundled corpus, the stage's
guardrail) in two evaluator jobs, scored by ragas with SmolLM2 itself as the local judge, and
gated. The lifecycle is asked to keep its endpoint, so the demo can ask the endpoint's local
inference server through ``InvokeEndpoint``; then it runs ``teardown`` under the name the
lifecycle would have given it. Each state is shown as it happens; then the path each
execution took, the evaluation's scores, one question's trace, the events published, and
proof that nothing was left behind. No network is used.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from rich.panel import Panel
from rich.table import Table

from maas.cli.demo_evaluation import show_evaluation
from maas.cli.progress import follow
from maas.endpoints.inventory import sagemaker_resources
from maas.events import read_event_log
from maas.executions import ExecutionSnapshot, read_execution
from maas.local import LocalRuntime, LocalSettings
from maas.local.demo_model import ORIGIN, demo_model_path
from maas.naming import sagemaker_endpoint_name
from maas.registry import ModelRegistry
from schemas.packaging import ModelVersionRecord

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rich.console import Console

    from maas.executions import StateVisit

TENANT = "demo"
MODEL_NAME = "smollm2-135m-instruct"
ENDPOINT = "smollm2-chat"
#: A completion (LMI's ``inputs`` form) and a chat question (its ``messages`` form).
PROMPT = "The capital of France is"
QUESTION = "What is the capital of France? Answer in one sentence."
#: How long the demo waits for the lifecycle: generous, a shared two-core machine can be slow.
LIFECYCLE_TIMEOUT_SECONDS = 900


@dataclass
class DemoResult:
    """What the demo did, for its exit code and its tests."""

    lifecycle: ExecutionSnapshot
    packaging: ExecutionSnapshot | None = None
    deployment: ExecutionSnapshot | None = None
    evaluation: ExecutionSnapshot | None = None
    report: Path | None = None
    answer: str | None = None
    chat_answer: str | None = None
    teardown: ExecutionSnapshot | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    #: Why the demo stopped short (a failed or timed-out execution), in a few lines.
    failure: str | None = None
    #: Wall seconds of each step the demo took (runtime, lifecycle, invoke, teardown, total).
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        """Every execution succeeded, the evaluation wrote its report, the model answered,
        and nothing is left in SageMaker."""
        executions = (
            self.lifecycle,
            self.packaging,
            self.deployment,
            self.evaluation,
            self.teardown,
        )
        return (
            all(
                execution is not None and execution.status == "SUCCEEDED"
                for execution in executions
            )
            and self.report is not None
            and bool(self.answer)
            and not self.leftovers
            and self.failure is None
        )


#: What the local judge scores; the other metrics need no LLM.
JUDGED_METRICS = ("faithfulness", "answer_relevancy")
OBJECTIVE_METRICS = ("non_llm_context_recall", "rouge", "exact_match")


def evaluation_settings(bucket: str, *, judged: bool = True) -> dict[str, Any]:
    """Evaluate on the bundled question set, retrieving from the bundled corpus, judged locally.

    The gate holds the retrieval (the corpus has each answer); what a 135M model writes is
    scored and reported, not gated: its scores are what they are. ``judged`` False leaves the
    LLM metrics out (each judge call is seconds of CPU).
    """
    prefix = f"s3://{bucket}/{TENANT}/evaluation"
    metrics = [*JUDGED_METRICS, *OBJECTIVE_METRICS] if judged else list(OBJECTIVE_METRICS)
    return {
        "question_set_uri": f"{prefix}/questions.jsonl",
        "pipeline": {
            "knowledge": {"corpus_uri": f"{prefix}/corpus.jsonl", "top_k": 2},
            "generation": {"max_new_tokens": 40, "temperature": 0},
        },
        "metrics": metrics,
        "judge": {"kind": "local"} if judged else None,
        "thresholds": {"non_llm_context_recall": 0.5},
        "on_gate_failure": "report",
        "shard_size": 3,
    }


def upload_evaluation_data(runtime: LocalRuntime, bucket: str) -> None:
    """Put the bundled question set and corpus where :func:`evaluation_settings` reads them."""
    data = files("maas") / "data" / "evaluation"
    for name in ("questions.jsonl", "corpus.jsonl"):
        runtime.client("s3").put_object(
            Bucket=bucket, Key=f"{TENANT}/evaluation/{name}", Body=(data / name).read_bytes()
        )


def lifecycle_request(request_id: str, bucket: str, *, judged: bool = True) -> dict[str, Any]:
    """Package the demo's GGUF file (sized for a few short chats, approved), deploy it on the
    instance type the advisor recommends, evaluate it, and keep the endpoint for the demo to
    ask."""
    return {
        "tenant_id": TENANT,
        "request_id": request_id,
        "package": {
            "model_name": MODEL_NAME,
            "source": {"kind": "local", "path": str(demo_model_path())},
            "serving": {"context_tokens": 2048, "prompt_tokens": 256, "concurrent_requests": 4},
            "approval_status": "Approved",
            "description": f"{ORIGIN}, packaged by the demo",
        },
        "deployment": {
            "endpoint_name": ENDPOINT,
            "instance_count": 1,
            "autoscaling": {
                "min_capacity": 1,
                "max_capacity": 2,
                "target_concurrent_requests": 4,
            },
        },
        "evaluation": evaluation_settings(bucket, judged=judged),
        "keep_endpoint": True,
    }


def invoke(runtime: LocalRuntime, body: dict[str, Any]) -> Any:
    """Send one request to the endpoint; return its JSON answer."""
    response = runtime.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=sagemaker_endpoint_name(TENANT, ENDPOINT),
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps(body),
    )
    return json.loads(response["Body"].read())


def complete(runtime: LocalRuntime, prompt: str) -> str:
    """Continue ``prompt`` greedily, in LMI's request format; return the generated text."""
    parameters = {"max_new_tokens": 24, "do_sample": False, "stop": ["\n"]}
    answer = invoke(runtime, {"inputs": prompt, "parameters": parameters})
    return str(answer["generated_text"]).strip()


def chat(runtime: LocalRuntime, question: str) -> str:
    """Ask ``question`` in LMI's chat format (the model's chat template applies)."""
    messages = [{"role": "user", "content": question}]
    answer = invoke(runtime, {"messages": messages, "max_tokens": 48, "temperature": 0})
    return str(answer["choices"][0]["message"]["content"]).strip()


def _progress_line(registry: ModelRegistry) -> Callable[[], str | None]:
    """The packaging job's latest report, read from the version record at most twice a second."""
    cache: dict[str, Any] = {"at": 0.0, "line": None}

    def line() -> str | None:
        if time.monotonic() - cache["at"] > 0.5:
            cache["at"] = time.monotonic()
            versions = registry.list_versions(TENANT, MODEL_NAME)
            progress = versions[-1].progress if versions else None
            if progress is not None:
                done = f" {progress.done_bytes / 1e6:.0f}" if progress.done_bytes else ""
                total = f"/{progress.total_bytes / 1e6:.0f} MB" if progress.total_bytes else ""
                message = f": {progress.message}" if progress.message else ""
                cache["line"] = f"packaging job: {progress.stage}{done}{total}{message}"
        return cache["line"]  # type: ignore[no-any-return]

    return line


def _print_path(console: Console, snapshot: ExecutionSnapshot) -> None:
    console.print(
        Panel(" → ".join(snapshot.path), title=f"path taken ({len(snapshot.path)} states)")
    )


def _print_version(console: Console, record: ModelVersionRecord) -> None:
    report = record.advisor_report or {}
    recommendation = report.get("recommendation") or {}
    table = Table(title=f"{record.model_name} version {record.version}", title_justify="left")
    table.add_column("field", style="dim")
    table.add_column("value", overflow="fold")
    rows = {
        "status": record.status.value,
        "artifact": record.artifact_uri,
        "serving image": record.image_uri,
        "weights (bf16)": f"{report.get('weight_bytes', 0) / 1e6:.0f} MB",
        "KV cache per token": f"{report.get('kv_bytes_per_token', 0) / 1e3:.1f} kB",
        "recommended": ", ".join(
            f"{key}={recommendation[key]}"
            for key in (
                "instance_type",
                "engine",
                "tensor_parallel_degree",
                "quantization",
                "max_rolling_batch_size",
            )
            if key in recommendation
        ),
        "model package": record.model_package_arn,
    }
    for name, value in rows.items():
        table.add_row(name, str(value))
    console.print(table)


def _print_events(console: Console, events: list[dict[str, Any]]) -> None:
    table = Table(title="events published on the bus (source maas)", title_justify="left")
    table.add_column("time")
    table.add_column("detail-type", style="bold")
    table.add_column("detail", overflow="fold")
    for event in events:
        detail = event.get("detail", {})
        facts = ", ".join(f"{key}={value}" for key, value in detail.items())
        table.add_row(str(event.get("time", ""))[11:19], event.get("detail-type", ""), facts)
    console.print(table)


def run_demo(
    console: Console, settings: LocalSettings | None = None, *, judged: bool = True
) -> DemoResult:
    """Package, deploy, evaluate, invoke, tear down and report; return what happened.

    ``judged`` False evaluates without the LLM metrics (no local judge).
    """
    started = time.monotonic()
    with console.status("starting the local runtime (moto, adapters, provisioning)"):
        runtime = LocalRuntime(settings).start()
    result: DemoResult | None = None
    try:
        resources = runtime.resources
        bucket = resources.buckets["ArtifactsBucket"]
        upload_evaluation_data(runtime, bucket)
        request = lifecycle_request(f"demo-{uuid.uuid4().hex[:8]}", bucket, judged=judged)
        runtime_seconds = time.monotonic() - started
        console.print(
            f"[bold]local runtime up[/] in {runtime_seconds:.1f}s: "
            f"{len(resources.functions)} functions, {len(resources.state_machines)} state "
            f"machines, bus [cyan]{resources.event_bus}[/]"
        )
        try:
            result = _run(console, runtime, request)
        except KeyboardInterrupt:
            result = _stopped(runtime, request["request_id"], "was interrupted")
            console.print(f"[red]the demo {result.failure}[/]", highlight=False)
            return result
        result.seconds = {"runtime": runtime_seconds, **result.seconds}
        result.events = read_event_log(runtime.client("logs"), resources.log_groups["EventLog"])
        _print_events(console, result.events)
        result.leftovers = sagemaker_resources(runtime.client("sagemaker"))
        if result.leftovers:
            console.print(f"[red]left behind:[/] {', '.join(result.leftovers)}")
        else:
            console.print("[green]nothing left behind[/]: no endpoint, configuration or model")
    finally:
        runtime.stop()
        if result is not None:
            result.seconds["total"] = time.monotonic() - started
    console.print(f"[dim]demo finished in {result.seconds['total']:.1f}s[/]")
    return result


def _run(console: Console, runtime: LocalRuntime, request: dict[str, Any]) -> DemoResult:
    stepfunctions = runtime.client("stepfunctions")
    registry = ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))
    name = request["request_id"]
    console.print(
        f"lifecycle [bold]{name}[/]: package [bold]{ORIGIN}[/] as [bold]{MODEL_NAME}[/] for "
        f"tenant [bold]{TENANT}[/], deploy it as [bold]{ENDPOINT}[/], evaluate it and keep it"
    )
    started = time.monotonic()
    try:
        lifecycle = follow(
            console,
            stepfunctions,
            runtime.start_execution("Lifecycle", json.dumps(request), name=name),
            "lifecycle",
            timeout_seconds=LIFECYCLE_TIMEOUT_SECONDS,
            detail=_progress_line(registry),
        )
    except TimeoutError:
        result = _stopped(
            runtime, name, f"stopped waiting: not done within {LIFECYCLE_TIMEOUT_SECONDS} s"
        )
        console.print(f"[red]the lifecycle {result.failure}[/]", highlight=False)
        return result
    lifecycle_seconds = time.monotonic() - started
    result = DemoResult(
        lifecycle=lifecycle,
        packaging=_child(runtime, "PackageModel", f"{name}-package"),
        deployment=_child(runtime, "DeployEndpoint", f"{name}-deploy"),
        evaluation=_child(runtime, "Evaluate", f"{name}-eval"),
    )
    for child in (result.packaging, result.deployment, result.evaluation):
        if child is not None:
            _print_path(console, child)
    if result.evaluation is not None:
        result.report = show_evaluation(console, runtime, TENANT, f"{name}-eval")
    result.seconds["lifecycle"] = lifecycle_seconds
    if lifecycle.status != "SUCCEEDED":
        # The failed child removed what it had created: there is nothing to tear down.
        result.failure = failure_message(
            lifecycle,
            [result.packaging, result.deployment, result.evaluation],
            ending=f"ended {lifecycle.status}",
        )
        console.print(f"[red]the lifecycle {result.failure}[/]", highlight=False)
        return result
    _print_version(console, ModelVersionRecord.model_validate(lifecycle.output["version"]))
    endpoint = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name(TENANT, ENDPOINT)
    )
    console.print(
        f"endpoint [bold]{ENDPOINT}[/] is [green]{endpoint['EndpointStatus']}[/] "
        f"in SageMaker as {endpoint['EndpointName']} ({endpoint['EndpointArn']})"
    )
    started = time.monotonic()
    try:
        with console.status(f"asking {ENDPOINT} to continue: {PROMPT}"):
            result.answer = complete(runtime, PROMPT)
        console.print(
            Panel(
                f"[bold]{PROMPT}[/] {result.answer}",
                title='InvokeEndpoint {"inputs": ...} -> generated_text',
                title_align="left",
            )
        )
        with console.status(f"asking {ENDPOINT}: {QUESTION}"):
            result.chat_answer = chat(runtime, QUESTION)
        console.print(
            Panel(
                result.chat_answer,
                title=f'InvokeEndpoint {{"messages": ...}}: [bold]{QUESTION}[/]',
                title_align="left",
            )
        )
    except ClientError as exc:
        # The endpoint is still torn down below: nothing may outlive the demo.
        console.print(f"[red]the endpoint did not answer:[/] {exc}")
    result.seconds["invoke"] = time.monotonic() - started

    started = time.monotonic()
    try:
        result.teardown = follow(
            console,
            stepfunctions,
            runtime.start_execution(
                "Teardown",
                json.dumps({"tenant_id": TENANT, "endpoint_name": ENDPOINT}),
                name=f"{name}-teardown",
            ),
            "teardown",
            timeout_seconds=LIFECYCLE_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        result.failure = _stopped(
            runtime, f"{name}-teardown", f"not done within {LIFECYCLE_TIMEOUT_SECONDS} s"
        ).failure
        console.print(f"[red]the teardown {result.failure}[/]", highlight=False)
        return result
    result.seconds["teardown"] = time.monotonic() - started
    _print_path(console, result.teardown)
    if result.teardown.status != "SUCCEEDED":
        result.failure = failure_message(
            result.teardown, [], ending=f"ended {result.teardown.status}"
        )
        console.print(f"[red]the teardown {result.failure}[/]", highlight=False)
    return result


def failure_message(
    execution: ExecutionSnapshot, children: list[ExecutionSnapshot | None], *, ending: str
) -> str:
    """What went wrong, in a few lines: which state of which execution, its error and cause,
    and the command that shows the whole history.

    The deepest execution that failed is named (a child's state, not only the lifecycle's
    state that ran it); ``ending`` says how the execution ended (``ended FAILED``).
    """
    failed = [child for child in children if child is not None and child.status != "SUCCEEDED"]
    culprit = failed[-1] if failed else execution
    visit = _failed_visit(culprit)
    where = f" in state '{visit.name}'" if visit is not None else ""
    workflow = _workflow_of(culprit.arn)
    error = (visit.error if visit else None) or culprit.error or "no error recorded"
    cause = (visit.cause if visit else None) or culprit.cause or ""
    lines = [
        f"{ending}: {workflow} execution {culprit.name}{where}",
        f"  error: {error}",
        *([f"  cause: {_one_line(cause)}"] if cause else []),
        f"  history: maas executions show {workflow} {culprit.name}"
        " (while a local runtime holding it runs: `maas local up`)",
    ]
    return "\n".join(lines)


def _stopped(runtime: LocalRuntime, name: str, ending: str) -> DemoResult:
    """The demo's result when it stopped waiting for execution ``name`` (of the lifecycle or
    its teardown): where each execution had got to, with the state still running."""
    machine = "Teardown" if name.endswith("-teardown") else "Lifecycle"
    lifecycle = _child(runtime, machine, name)
    result = DemoResult(
        lifecycle=lifecycle or ExecutionSnapshot("", name, "UNKNOWN", datetime.now(UTC), None),
        packaging=_child(runtime, "PackageModel", f"{name}-package"),
        deployment=_child(runtime, "DeployEndpoint", f"{name}-deploy"),
        evaluation=_child(runtime, "Evaluate", f"{name}-eval"),
    )
    running = [
        snapshot
        for snapshot in (result.lifecycle, result.packaging, result.deployment, result.evaluation)
        if snapshot is not None and snapshot.status == "RUNNING" and snapshot.arn
    ]
    culprit = running[-1] if running else result.lifecycle
    state = next(
        (visit.name for visit in reversed(culprit.visits) if visit.exited_at is None), None
    )
    workflow = _workflow_of(culprit.arn) if culprit.arn else "lifecycle"
    where = f" in state '{state}'" if state else ""
    result.failure = "\n".join(
        [
            f"{ending}: {workflow} execution {culprit.name} was {culprit.status}{where}",
            f"  history: maas executions show {workflow} {culprit.name}"
            " (while a local runtime holding it runs: `maas local up`)",
        ]
    )
    return result


def _failed_visit(snapshot: ExecutionSnapshot) -> StateVisit | None:
    """The state whose failure the execution ended on: the first one with an error (what
    follows it, a compensation that fails too, is a consequence)."""
    return next((visit for visit in snapshot.visits if visit.error), None)


def _workflow_of(execution_arn: str) -> str:
    """The workflow's name as the CLI spells it (``maas-package-model`` -> ``package-model``)."""
    machine = execution_arn.split(":")[-2] if execution_arn.count(":") >= 7 else ""
    return machine.removeprefix("maas-") or "lifecycle"


def _one_line(text: str, limit: int = 400) -> str:
    """``text`` flattened to one line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _child(runtime: LocalRuntime, state_machine_id: str, name: str) -> ExecutionSnapshot | None:
    """The lifecycle's child execution ``name``, or None where the lifecycle never got there."""
    machine_arn = runtime.state_machine_arn(state_machine_id)
    execution_arn = f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"
    stepfunctions = runtime.client("stepfunctions")
    try:
        return read_execution(stepfunctions, execution_arn)
    except stepfunctions.exceptions.ExecutionDoesNotExist:
        return None


__all__ = [
    "DemoResult",
    "chat",
    "complete",
    "evaluation_settings",
    "failure_message",
    "invoke",
    "lifecycle_request",
    "run_demo",
]
