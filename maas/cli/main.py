"""The ``maas`` command: the demo and the local runtime today; the full client as it lands."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from maas.exceptions import MaasError

app = typer.Typer(
    name="maas",
    help="Model-as-a-Service control plane: deploy, scale, evaluate and tear down models.",
    rich_markup_mode="rich",
    no_args_is_help=True,
)
local_app = typer.Typer(help="The embedded local runtime (AWS emulated in this process).")
app.add_typer(local_app, name="local")

console = Console()


@app.command()
def demo(
    create_seconds: Annotated[
        float, typer.Option(help="How long emulated SageMaker takes to create an endpoint.")
    ] = 2.0,
) -> None:
    """Deploy a SageMaker endpoint and tear it down, on the local runtime, showing each state."""
    from maas.cli.demo import run_demo
    from maas.local import LocalSettings

    result = run_demo(console, LocalSettings(endpoint_create_seconds=create_seconds))
    if not result.succeeded:
        raise typer.Exit(code=1)


@local_app.command("up")
def local_up(
    port: Annotated[
        int,
        typer.Option(
            help="Port on 127.0.0.1 for the emulated AWS endpoint.", envvar="MAAS_LOCAL_PORT"
        ),
    ] = 5000,
) -> None:
    """Serve the local runtime on 127.0.0.1 so other processes reach it via AWS_ENDPOINT_URL."""
    from maas.local import LocalRuntime

    stopped = threading.Event()
    with console.status("starting the local runtime"), LocalRuntime() as runtime:
        url = runtime.serve(port)
        console.print(f"[bold green]local runtime up[/] at [bold]{url}[/]")
        console.print("point boto3, the AWS CLI or the SDK at it:")
        for key, value in runtime.aws_environment().items():
            console.print(f"  export {key}={value}", soft_wrap=True, highlight=False)
        for kind, items in (
            ("state machine", runtime.resources.state_machines),
            ("function", runtime.resources.functions),
        ):
            for arn in items.values():
                console.print(f"  [dim]{kind}[/] {arn}", soft_wrap=True, highlight=False)
        console.print("[dim]Ctrl-C stops it; the emulated account is discarded.[/]")
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        with contextlib.suppress(KeyboardInterrupt):
            stopped.wait()
    console.print("local runtime stopped")


def main() -> None:
    """Entry point: typed errors become a message and exit code 1, not a traceback."""
    try:
        app()
    except MaasError as error:
        console.print(f"[bold red]{error.error_name}[/]: {error.message}")
        raise SystemExit(1) from None


__all__ = ["app", "main"]
