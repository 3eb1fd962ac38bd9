"""The ``maas`` command of the client install (``sdk/python``): the REST API's commands only.

The full ``maas`` command (:mod:`maas.cli.main`) adds the local runtime, the demo, the
advisor, evaluations and traces, which need the server's packages; this one needs only the
SDK's (``httpx``, ``pydantic``) and the CLI's (``typer``, ``rich``).
"""

from __future__ import annotations

import typer

from maas.cli.api_commands import add_api_commands
from maas.cli.datasets import datasets_app
from maas.cli.login import register as register_login
from maas.cli.usage import register as register_usage

app = typer.Typer(
    name="maas",
    help="Model-as-a-Service control plane: the REST API's client.",
    rich_markup_mode="rich",
    no_args_is_help=True,
)
endpoints_app = typer.Typer(help="A tenant's SageMaker endpoints.", no_args_is_help=True)
app.add_typer(endpoints_app, name="endpoints")
add_api_commands(app, endpoints_app)
app.add_typer(datasets_app, name="datasets")
register_usage(app)
register_login(app)


def main() -> None:
    """Entry point of the client install's ``maas``."""
    app()


__all__ = ["app", "main"]
