"""The ``maas`` command: the demo and the local runtime today; the full client as it lands."""

from __future__ import annotations

import contextlib
import errno
import threading
from pathlib import Path  # noqa: TC003 - typer reads the annotations when the app is built
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console

from maas.cli.api_commands import add_api_commands
from maas.cli.datasets import datasets_app
from maas.cli.evalgen import evalgen_app
from maas.cli.evaluations import evaluations_app
from maas.cli.exit_codes import ExitCode
from maas.cli.login import register as register_login
from maas.cli.reward import reward_app
from maas.cli.usage import register as register_usage
from maas.exceptions import MaasError

if TYPE_CHECKING:
    from maas.cli.local_lifecycle import LocalOptions, StopDeadline
    from maas.local import LocalRuntime

app = typer.Typer(
    name="maas",
    help="Model-as-a-Service control plane: deploy, scale, evaluate and tear down models.",
    rich_markup_mode="rich",
    no_args_is_help=True,
)
local_app = typer.Typer(help="The embedded local runtime (AWS emulated in this process).")
app.add_typer(local_app, name="local")
endpoints_app = typer.Typer(help="A tenant's SageMaker endpoints.", no_args_is_help=True)
app.add_typer(endpoints_app, name="endpoints")
# The REST API's commands (models, versions, endpoints list|show|deploy|..., executions...).
add_api_commands(app, endpoints_app)
traces_app = typer.Typer(help="X-Ray traces: requests and workflows.", no_args_is_help=True)
app.add_typer(traces_app, name="traces")
app.add_typer(evaluations_app, name="evaluations")
app.add_typer(reward_app, name="reward")
app.add_typer(evalgen_app, name="evalgen")
app.add_typer(datasets_app, name="datasets")
register_usage(app)
register_login(app)

console = Console()


@app.command()
def demo(
    create_seconds: Annotated[
        float, typer.Option(help="How long emulated SageMaker takes to create an endpoint.")
    ] = 2.0,
    judge: Annotated[
        bool,
        typer.Option(
            help="Score faithfulness and answer relevancy with the local LLM judge (a few "
            "seconds of CPU per call); --no-judge keeps the metrics that need no LLM."
        ),
    ] = True,
) -> None:
    """Package, deploy, evaluate, ask and tear down a model on the local runtime, showing each
    state."""
    from maas.cli.demo import run_demo
    from maas.local import LocalSettings

    result = run_demo(console, LocalSettings(endpoint_create_seconds=create_seconds), judged=judge)
    if not result.succeeded:
        raise typer.Exit(code=1)


@app.command()
def recommend(
    *,
    config: Annotated[
        Path | None,
        typer.Option(
            help="The model's config.json, or a checkpoint directory (its *.safetensors "
            "headers are read too)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="A Hugging Face model id, read from the Hub (needs huggingface_hub)."),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="The Hub revision of --model (a branch, tag or commit).")
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, help="Concurrent requests to hold (the rolling batch).")
    ] = 1,
    prompt_tokens: Annotated[
        int, typer.Option(min=1, help="Typical prompt length, for the prefill memory peak.")
    ] = 512,
    context_tokens: Annotated[
        int, typer.Option(min=1, help="Longest sequence, prompt plus output (max_model_len).")
    ] = 4096,
    preference: Annotated[
        Literal["cost", "latency"],
        typer.Option(help="Rank by cost per million tokens or by per-token latency."),
    ] = "cost",
    instance_type: Annotated[
        list[str] | None,
        typer.Option(help="Consider only this instance type (repeat the option for more)."),
    ] = None,
    quantization: Annotated[
        list[str] | None,
        typer.Option(
            help="Allow this quantization: none, fp8 or awq (repeat for more; default: all). "
            "The checkpoint's own format must be among them; the others are only proposed "
            "as a quantized version."
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON object.")
    ] = False,
) -> None:
    """Size a model from its config and recommend a SageMaker instance, TP degree, engine,
    quantization and batch, with the reasons and the runners-up."""
    from maas.cli.recommend import run_recommend

    run_recommend(
        console,
        config_path=config,
        model=model,
        revision=revision,
        request_fields={
            "concurrent_requests": batch,
            "prompt_tokens": prompt_tokens,
            "context_tokens": context_tokens,
            "preference": preference,
            "instance_types": tuple(instance_type) if instance_type else None,
            "quantizations": tuple(quantization) if quantization else None,
        },
        as_json=json_output,
    )


@endpoints_app.command("top")
def endpoints_top(
    *,
    tenant: Annotated[str, typer.Option(help="The tenant whose endpoints to show.")],
    endpoint: Annotated[
        str | None, typer.Option(help="Only this endpoint (default: all of the tenant's).")
    ] = None,
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between two refreshes.")] = 5.0,
    window: Annotated[
        int, typer.Option(min=1, help="Seconds back to look for each figure's latest value.")
    ] = 300,
    period: Annotated[
        int, typer.Option(min=1, help="Seconds each figure is aggregated over (60: per minute).")
    ] = 60,
    once: Annotated[bool, typer.Option("--once", help="Print one snapshot and exit.")] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print each snapshot as one line of JSON.")
    ] = False,
    table: Annotated[
        str,
        typer.Option(help="The endpoint registry's DynamoDB table.", envvar="ENDPOINTS_TABLE_NAME"),
    ],
) -> None:
    """Show a tenant's endpoints live: instances, requests in flight, invocations, errors,
    latency, CPU, memory and GPU, from SageMaker and CloudWatch (AWS, or the local runtime
    that AWS_ENDPOINT_URL points at)."""
    from maas.aws import client
    from maas.cli.top import run_top
    from maas.endpoints import EndpointRegistry
    from maas.observability import EndpointMetricsReader

    reader = EndpointMetricsReader(
        EndpointRegistry(table, client("dynamodb")), client("sagemaker"), client("cloudwatch")
    )
    with contextlib.suppress(KeyboardInterrupt):
        run_top(
            console,
            reader,
            tenant_id=tenant,
            endpoint_name=endpoint,
            interval_seconds=interval,
            window_seconds=window,
            period_seconds=period,
            once=once,
            as_json=json_output,
        )


@traces_app.command("list")
def traces_list(
    *,
    since: Annotated[
        int, typer.Option(min=1, help="Minutes back to look for traces that started.")
    ] = 60,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the traces as one JSON array.")
    ] = False,
) -> None:
    """List recent traces: id, start, duration, root, annotations (tenant, endpoint), status,
    from X-Ray (AWS, or the local runtime that AWS_ENDPOINT_URL points at)."""
    from maas.aws import client
    from maas.cli.traces import run_list

    run_list(console, client("xray"), since_minutes=since, as_json=json_output)


@traces_app.command("show")
def traces_show(
    trace_id: Annotated[str, typer.Argument(help="The trace id, 1-xxxxxxxx-xxxx...")],
    *,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the waterfall as one JSON object.")
    ] = False,
    html: Annotated[
        Path | None, typer.Option(help="Also write the waterfall as a self-contained HTML file.")
    ] = None,
) -> None:
    """Show one trace as a waterfall: each segment and subsegment, nested, with its timing
    and annotations (exit code 3 when X-Ray has no such trace)."""
    from maas.aws import client
    from maas.cli.traces import run_show

    run_show(console, client("xray"), trace_id, as_json=json_output, html_path=html)


@local_app.command("up")
def local_up(
    port: Annotated[
        int,
        typer.Option(
            help="Port on 127.0.0.1 for the emulated AWS endpoint.", envvar="MAAS_LOCAL_PORT"
        ),
    ] = 5000,
    api_port: Annotated[
        int,
        typer.Option(
            help="Port on 127.0.0.1 for the REST API (Swagger UI at /docs).",
            envvar="MAAS_API_PORT",
        ),
    ] = 8000,
    *,
    serve_models: Annotated[
        bool,
        typer.Option(
            help="Start a local inference server behind every endpoint that comes into "
            "service; off, endpoints can be deployed from placeholder artifacts but not invoked.",
        ),
    ] = True,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the emulated account here across restarts (S3, DynamoDB, secrets, "
            "SageMaker, executions, logs); default: the state directory of the token key "
            "($MAAS_LOCAL_STATE_DIR, else $XDG_STATE_HOME/maas or ~/.local/state/maas).",
            file_okay=False,
        ),
    ] = None,
    keep_state: Annotated[
        bool,
        typer.Option(
            help="Restore the account saved in the state directory and save it on stop; "
            "--no-keep-state starts empty and discards it.",
        ),
    ] = True,
    autosave_seconds: Annotated[
        float,
        typer.Option(
            help="Also save the account this often while running, so that a crash or kill -9 "
            "loses at most that long.",
            min=0.1,
        ),
    ] = 60.0,
    stage: Annotated[
        str | None,
        typer.Option(
            help="The cdk.json stage whose API throttle and usage plans the local API applies, "
            "as the stack deploys them; default: cdk.json's maas:stage, else dev.",
            envvar="MAAS_STAGE",
        ),
    ] = None,
) -> None:
    """Serve the local runtime on 127.0.0.1 so other processes reach it via AWS_ENDPOINT_URL.

    Ctrl-C or SIGTERM stops it, and every process it started; a port already in use ends
    it at once (exit status 1), naming the port. The account is saved in the state
    directory on stop and restored on the next start; a saved account that cannot be
    restored (corrupt, or written by another version) ends it at once, left in place.
    """
    from maas.cli.local_lifecycle import (
        STOP_DEADLINE_SECONDS,
        LocalOptions,
        PortInUseError,
        StopDeadline,
        check_port_free,
        end_children,
        stage_api,
        state_folder,
        state_problem,
        stop_on_signals,
    )

    api = stage_api(stage)

    # Whatever is in flight when the signal comes, the process is gone within the deadline.
    deadline = StopDeadline(STOP_DEADLINE_SECONDS)
    with stop_on_signals(deadline):
        try:
            # Before the runtime starts (seconds of provisioning): a taken port fails at once.
            check_port_free(port, "--port, the emulated AWS endpoint")
            folder = state_folder(state_dir) if keep_state else None
            with contextlib.suppress(KeyboardInterrupt):
                _serve_local_runtime(
                    port,
                    api_port,
                    LocalOptions(serve_models, folder, autosave_seconds, api),
                    deadline,
                )
        except PortInUseError as error:
            console.print(f"[bold red]local runtime not started[/]: {error}", highlight=False)
            raise typer.Exit(ExitCode.FAILED) from None
        except Exception as error:
            problem = state_problem(error)
            if problem is None:
                raise
            console.print(problem, highlight=False)
            raise typer.Exit(ExitCode.FAILED) from None
        finally:
            # A Batch job's command or a model server still running would outlive us.
            end_children()
            deadline.disarm()
    console.print("local runtime stopped")
    _exit_after_stop.set()


#: Set once ``maas local up`` has stopped everything: :func:`main` then exits at once.
_exit_after_stop = threading.Event()


def _serve_local_runtime(
    port: int, api_port: int, options: LocalOptions, deadline: StopDeadline
) -> None:
    # Runs until KeyboardInterrupt (Ctrl-C, or SIGTERM through stop_on_signals).
    from maas.cli.local_lifecycle import describe_saved
    from maas.local import LocalRuntime, LocalSettings

    settings = LocalSettings(
        serve_models=options.serve_models,
        state_dir=options.state_dir,
        autosave_seconds=options.autosave_seconds,
    )
    runtime = LocalRuntime(settings)
    # A stop cut short by its deadline succeeded if the account it keeps was saved.
    deadline.status = lambda: 0 if runtime.store is None or runtime.saved is not None else 1
    try:
        with console.status("starting the local runtime"), runtime:
            _serve_started(runtime, port, api_port, options)
    finally:
        # After the stop: what was saved (nothing when the runtime never started).
        for line in describe_saved(runtime):
            console.print(line, soft_wrap=True, highlight=False)


def _serve_started(runtime: LocalRuntime, port: int, api_port: int, options: LocalOptions) -> None:
    from maas.api_limits import ApiConfig
    from maas.cli.local_lifecycle import (
        PortInUseError,
        describe_api_limits,
        describe_restored,
        wait_for_signal,
    )
    from maas.local.apigateway_limits import GatewayLimits

    try:
        url = runtime.serve(port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        # Taken between the check and the server's bind.
        raise PortInUseError(port, "--port, the emulated AWS endpoint") from error
    console.print(f"[bold green]local runtime up[/] at [bold]{url}[/]")
    console.print("point boto3, the AWS CLI or the SDK at it:")
    environment = {
        **runtime.aws_environment(),
        "ENDPOINTS_TABLE_NAME": runtime.resources.tables["EndpointsTable"],
    }
    for key, value in environment.items():
        console.print(f"  export {key}={value}", soft_wrap=True, highlight=False)
    for kind, items in (
        ("state machine", runtime.resources.state_machines),
        ("function", runtime.resources.functions),
    ):
        for arn in items.values():
            console.print(f"  [dim]{kind}[/] {arn}", soft_wrap=True, highlight=False)
    from maas.console import gateway_mount, local_console

    try:
        # The stage's throttle and usage plans, as the stack deploys them (docs/local.md).
        api = options.api or ApiConfig()
        limits = GatewayLimits.from_config(api)
        # The console beside the API, on its port (docs/console.md: who sees what).
        api_url = runtime.serve_api(
            api_port, mounts={"/console": gateway_mount(local_console(runtime))}, limits=limits
        )
    except KeyError as missing:
        console.print(f"[yellow]no local API[/]: {missing.args[0]}")
    except OSError as error:
        # The emulation is of use without the API: say so loudly and keep serving it.
        console.print(f"[bold red]local API not served[/] on port {api_port}: {error}")
    else:
        console.print(f"[bold green]local API up[/] at [bold]{api_url}[/]", highlight=False)
        console.print(f"  Swagger UI: {api_url}/docs", soft_wrap=True, highlight=False)
        console.print(f"  console: {api_url}/console", soft_wrap=True, highlight=False)
        console.print("  a token: export MAAS_TOKEN=$(maas local token --tenant acme)")
        for line in describe_api_limits(api, limits.api_keys):
            console.print(line, soft_wrap=True, highlight=False)
    for line in describe_restored(runtime):
        console.print(line, soft_wrap=True, highlight=False)
    if runtime.store is None:
        console.print("[dim]Ctrl-C stops it; the emulated account is discarded.[/]")
    else:
        console.print(
            f"[dim]Ctrl-C stops it; the emulated account is saved in {runtime.store.directory}.[/]",
            soft_wrap=True,
            highlight=False,
        )
    wait_for_signal()


@app.command("console")
def console_command(
    port: Annotated[
        int,
        typer.Option(help="Port on 127.0.0.1 to serve the console on.", envvar="MAAS_CONSOLE_PORT"),
    ] = 8100,
    *,
    endpoints_table: Annotated[
        str | None,
        typer.Option(help="The endpoint registry's DynamoDB table.", envvar="ENDPOINTS_TABLE_NAME"),
    ] = None,
    models_table: Annotated[
        str | None,
        typer.Option(
            help="The model registry's DynamoDB table (versions and evaluations).",
            envvar="MODELS_TABLE_NAME",
        ),
    ] = None,
    event_log_group: Annotated[
        str | None,
        typer.Option(
            help="The log group every maas event is copied to (/maas/<stage>/events).",
            envvar="EVENT_LOG_GROUP",
        ),
    ] = None,
) -> None:
    """Serve the read-only console (workflows, executions, endpoints, models) on 127.0.0.1,
    reading AWS with boto3's default credentials (or the local runtime that AWS_ENDPOINT_URL
    points at). Ctrl-C stops it."""
    from maas.cli.local_lifecycle import (
        PortInUseError,
        check_port_free,
        stop_on_signals,
        wait_for_signal,
    )
    from maas.console import aws_console, serve

    try:
        check_port_free(port, "--port, the console")
    except PortInUseError as error:
        console.print(f"[bold red]console not started[/]: {error}", highlight=False)
        raise typer.Exit(ExitCode.FAILED) from None
    with stop_on_signals(), contextlib.suppress(KeyboardInterrupt):
        served = serve(aws_console(endpoints_table, models_table, event_log_group), port)
        console.print(f"[bold green]console up[/] at [bold]{served.url}[/]", highlight=False)
        try:
            wait_for_signal()
        finally:
            served.stop()
    console.print("console stopped")


@local_app.command("token")
def local_token(
    tenant: Annotated[str, typer.Option(help="The tenant the token speaks for.")],
    hours: Annotated[float, typer.Option(help="How long the token is valid (at most 24).")] = 12.0,
) -> None:
    """Print a signed ID token for TENANT that the local API accepts (only the token)."""
    from maas.local.tokens import LocalTokens

    typer.echo(LocalTokens.from_state_dir().issue(tenant, hours=hours))


def main() -> None:
    """Entry point: typed errors become a message and exit code 1, not a traceback."""
    try:
        app()
    except MaasError as error:
        console.print(f"[bold red]{error.error_name}[/]: {error.message}")
        raise SystemExit(1) from None
    except SystemExit as done:
        if _exit_after_stop.is_set():
            from maas.cli.local_lifecycle import exit_now

            # The local runtime stopped all it started; skip the interpreter's slow teardown.
            exit_now(done.code if isinstance(done.code, int) else 0)
        raise


__all__ = ["app", "main"]
