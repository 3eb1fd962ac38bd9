"""What the API's commands share: connection options, exit codes, JSON and waiting output.

Every command takes ``--api-url``, ``--token``, ``--profile`` (resolved as
:mod:`maas.sdk.profiles` says) and ``--json`` (print the answer's JSON only, for scripts).
The SDK's exceptions end a command with a message on stderr and an exit status of
:class:`~maas.cli.exit_codes.ExitCode`; a workflow followed with ``--wait`` shows its
current state on a status line (stderr) while it runs.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from maas.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from pydantic import BaseModel

    from maas.sdk import MaasClient
    from schemas.api import ExecutionAccepted, ExecutionView

RecordT = TypeVar("RecordT", bound="BaseModel")

#: Answers go to stdout; messages, progress and errors to stderr, so --json stays parseable.
console = Console()
err_console = Console(stderr=True)

#: While a person watches a workflow, its state is polled at least this often (seconds).
WAIT_MAX_POLL = 1.0

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help="The API's URL (else $MAAS_API_URL, else the profile's).",
        show_default=False,
    ),
]
Token = Annotated[
    str | None,
    typer.Option("--token", help="The tenant's ID token (else $MAAS_TOKEN, else the profile's)."),
]
ProfileName = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="The profile of ~/.config/maas/profiles.toml ($MAAS_CONFIG) to use "
        "(else $MAAS_PROFILE, else 'default').",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print the answer as JSON only.")]
Wait = Annotated[
    bool, typer.Option("--wait", help="Follow the workflow until it stops, showing its state.")
]
WaitTimeout = Annotated[
    float, typer.Option(min=1, help="With --wait: seconds to wait before giving up.")
]


@dataclass(frozen=True)
class ApiOptions:
    """The options every API command takes."""

    api_url: str | None = None
    token: str | None = None
    profile: str | None = None
    as_json: bool = False


def exit_code_of(error: Exception) -> ExitCode:
    """The exit status an SDK error ends a command with.

    Examples
    --------
    >>> from maas.sdk import NotFound
    >>> exit_code_of(NotFound(404, "Not Found", "no endpoint 'x'")).name
    'NOT_FOUND'
    """
    from maas.sdk import errors, profiles

    by_kind: tuple[tuple[type[Exception], ExitCode], ...] = (
        (errors.NotFound, ExitCode.NOT_FOUND),
        (errors.Conflict, ExitCode.CONFLICT),
        (errors.InvalidRequest, ExitCode.INVALID),
        (errors.QuotaExceeded, ExitCode.INVALID),
        # A refused token: the service rejected the request, as it would an invalid one.
        (errors.Unauthorized, ExitCode.INVALID),
        (errors.ServiceUnavailable, ExitCode.UNAVAILABLE),
        (profiles.ProfileError, ExitCode.USAGE),
    )
    for kind, code in by_kind:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED


@contextlib.contextmanager
def api_client(options: ApiOptions) -> Iterator[MaasClient]:
    """A client for the resolved connection; SDK errors inside end the command."""
    from maas.sdk import MaasClient, MaasSdkError, resolve_connection

    try:
        connection = resolve_connection(
            api_url=options.api_url, token=options.token, profile=options.profile
        )
        with MaasClient(connection.api_url, connection.token) as client:
            yield client
    except MaasSdkError as error:
        report_error(error)
        raise typer.Exit(code=exit_code_of(error)) from None


def report_error(error: Exception) -> None:
    """Print an SDK error on stderr, with each invalid field on its own line."""
    from maas.sdk import ExecutionFailed, MaasApiError

    err_console.print(f"[bold red]error[/]: {error}", highlight=False, soft_wrap=True)
    if isinstance(error, MaasApiError):
        for field, message in error.field_errors.items():
            err_console.print(f"  [bold]{field}[/]: {message}", highlight=False)
    if isinstance(error, ExecutionFailed):
        err_console.print(render_path(error.execution))


def print_json(value: BaseModel | Sequence[BaseModel]) -> None:
    """A model, or a list of them, as JSON on stdout (nothing else is printed with --json)."""
    if isinstance(value, list | tuple):
        document: Any = [item.model_dump(mode="json") for item in value]
    else:
        document = value.model_dump(mode="json")  # type: ignore[union-attr]
    typer.echo(json.dumps(document, indent=2))


def print_records(
    records: Sequence[RecordT],
    options: ApiOptions,
    columns: Sequence[str],
    row: Callable[[RecordT], Sequence[str]],
) -> None:
    """Records as JSON with ``--json``, else as a table of ``columns``, one ``row`` each."""
    if options.as_json:
        print_json(records)
        return
    table = Table(show_edge=False)
    for column in columns:
        table.add_column(column)
    for record in records:
        table.add_row(*row(record))
    console.print(table)


def print_fields(title: str, fields: dict[str, Any]) -> None:
    """A record as a two-column table of its fields (None shown as '-')."""
    table = Table(title=title, title_justify="left", show_header=False, show_edge=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in fields.items():
        table.add_row(name, "-" if value is None else str(value))
    console.print(table)


def when(moment: datetime) -> str:
    """A time, short enough for a table column, in UTC.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> when(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    '2026-01-02 03:04:05Z'
    """
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def render_path(view: ExecutionView) -> Table:
    """The states an execution went through, as a table, its status in the title."""
    styles = {"SUCCEEDED": "green", "RUNNING": "cyan"}
    style = styles.get(view.status, "bold red")
    table = Table(
        title=f"{view.workflow.value} [dim]{view.execution_name}[/] [{style}]{view.status}[/]",
        title_justify="left",
        show_edge=False,
    )
    table.add_column("#", justify="right", style="dim")
    table.add_column("state")
    table.add_column("type", style="dim")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    for index, visit in enumerate(view.path, start=1):
        seconds = "-" if visit.seconds is None else f"{visit.seconds:.2f}"
        table.add_row(str(index), visit.name, visit.state_type, visit.status, seconds)
    return table


def current_state(view: ExecutionView) -> str:
    """One line: the execution's status and the state it is in (the last of its path).

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from schemas.api import ExecutionView, StateVisitView
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> visit = StateVisitView(name="Wait for endpoint", state_type="Wait", status="running",
    ...                        entered_at=now, attempts=1)
    >>> current_state(ExecutionView(workflow="deploy-endpoint", execution_name="acme-1",
    ...     execution_arn="arn", status="RUNNING", started_at=now, path=[visit]))
    'deploy-endpoint acme-1: RUNNING, in Wait for endpoint (running; 1 state so far)'
    """
    head = f"{view.workflow.value} {view.execution_name}: {view.status}"
    if not view.path:
        return f"{head}, starting"
    last, count = view.path[-1], len(view.path)
    states = "1 state" if count == 1 else f"{count} states"
    return f"{head}, in {last.name} ({last.status}; {states} so far)"


def follow(
    client: MaasClient,
    accepted: ExecutionAccepted,
    timeout: float,
    until: Callable[[ExecutionView], bool] | None = None,
) -> ExecutionView:
    """Wait for the execution (or until ``until`` holds while it runs), its current state on a
    status line; the path it took printed."""
    with err_console.status(
        f"{accepted.workflow.value} {accepted.execution_name}: starting"
    ) as line:
        view = client.wait_for_execution(
            accepted,
            on_progress=lambda view: line.update(current_state(view)),
            until=until,
            timeout=timeout,
            max_poll=WAIT_MAX_POLL,
        )
    err_console.print(render_path(view))
    return view


def print_accepted(accepted: ExecutionAccepted, options: ApiOptions) -> None:
    """What a started workflow is, and how to follow it."""
    if options.as_json:
        print_json(accepted)
        return
    verb = "started" if accepted.started else "already started (same Idempotency-Key)"
    console.print(
        f"{accepted.workflow.value} execution [bold]{accepted.execution_name}[/] {verb}; "
        f"follow it: maas executions show {accepted.workflow.value} {accepted.execution_name}",
        highlight=False,
        soft_wrap=True,
    )


def finish_workflow(
    client: MaasClient,
    accepted: ExecutionAccepted,
    options: ApiOptions,
    *,
    wait: bool,
    timeout: float,
    until: Callable[[ExecutionView], bool] | None = None,
) -> ExecutionView | None:
    """Print the started workflow, or with ``wait`` follow it (see :func:`follow`) and print
    where it stopped; the view it was followed to."""
    if not wait:
        print_accepted(accepted, options)
        return None
    view = follow(client, accepted, timeout, until)
    if options.as_json:
        print_json(view)
    return view


__all__ = [
    "WAIT_MAX_POLL",
    "ApiOptions",
    "ApiUrl",
    "JsonOutput",
    "ProfileName",
    "Token",
    "Wait",
    "WaitTimeout",
    "api_client",
    "console",
    "current_state",
    "err_console",
    "exit_code_of",
    "finish_workflow",
    "follow",
    "print_accepted",
    "print_fields",
    "print_json",
    "print_records",
    "render_path",
    "when",
]
