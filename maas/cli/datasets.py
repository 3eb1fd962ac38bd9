"""``maas datasets``: the tenant's datasets (``/v1/datasets``) from the command line.

``create`` and ``add-version`` send a JSONL file's rows (or name an S3 prefix of the tenant's
with ``--source``); a bad row is reported by its line in the file, as the API reports it by
its row number. ``list``, ``show`` and ``delete`` mirror the other resources' commands, with
``--json`` for scripts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pydantic
import typer
from rich.table import Table

from maas.cli.api_common import (
    ApiOptions,
    ApiUrl,
    JsonOutput,
    ProfileName,
    Token,
    api_client,
    console,
    err_console,
    print_fields,
    print_json,
    print_records,
    when,
)
from maas.cli.exit_codes import ExitCode
from maas.validation import describe_errors
from schemas.datasets import DatasetKind, DatasetSpec, DatasetVersionSpec

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.sdk import MaasClient
    from schemas.datasets import DatasetVersionRecord

SpecT = TypeVar("SpecT", DatasetSpec, DatasetVersionSpec)

datasets_app = typer.Typer(
    help="The tenant's datasets: question sets, corpora, fine-tuning and preference sets.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The dataset's name.")]
FileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        exists=True,
        dir_okay=False,
        help="A JSONL file of rows, one JSON object per line.",
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Instead of --file: an S3 prefix in the tenant's folder of the artifacts bucket "
        "(s3://<artifacts>/<tenant>/...), read by the API.",
    ),
]
DescriptionOption = Annotated[str | None, typer.Option(help="What the dataset (or version) is.")]

_ROW = re.compile(r"^row (\d+): ")


def _rows(file: Path) -> tuple[list[Any], list[int]]:
    """The file's rows, and the line each is on (blank lines are skipped)."""
    rows: list[Any] = []
    lines: list[int] = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            err_console.print(
                f"[bold red]error[/]: {file} line {number}: not JSON ({exc.msg} at column "
                f"{exc.colno})",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(code=ExitCode.INVALID) from None
        lines.append(number)
    return rows, lines


def _source(file: Path | None, source: str | None) -> dict[str, Any]:
    if source is not None and file is None:
        return {"source_uri": source}
    if file is not None and source is None:
        return {"rows": _rows(file)[0]}
    err_console.print("[bold red]error[/]: give either --file or --source")
    raise typer.Exit(code=ExitCode.USAGE)


def _spec(model: type[SpecT], **fields: Any) -> SpecT:
    """The request, or the command ends naming what is wrong with it (as the API would)."""
    try:
        return model(**fields)
    except pydantic.ValidationError as exc:
        err_console.print(
            f"[bold red]error[/]: {describe_errors(exc.errors())}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(code=ExitCode.INVALID) from None


def _send(
    send: Callable[[MaasClient], DatasetVersionRecord], file: Path | None, options: ApiOptions
) -> DatasetVersionRecord:
    """``send`` with a client; a 422's bad rows are reported by their line in ``file``."""
    from maas.sdk import InvalidRequest  # noqa: PLC0415 - as api_common: the SDK when used

    with api_client(options) as client:
        try:
            return send(client)
        except InvalidRequest as error:
            if file is None or not error.errors:
                raise
            lines = _rows(file)[1]
            err_console.print(f"[bold red]error[/]: {file}: {error.title}", highlight=False)
            for problem in error.errors:
                found = _ROW.match(problem.message)
                where = (
                    f"line {lines[int(found[1]) - 1]}: {problem.message[found.end() :]}"
                    if found and int(found[1]) <= len(lines)
                    else problem.message
                )
                err_console.print(f"  {where}", highlight=False, soft_wrap=True)
            raise typer.Exit(code=ExitCode.INVALID) from None


def _print_version(record: DatasetVersionRecord, options: ApiOptions) -> None:
    if options.as_json:
        print_json(record)
        return
    print_fields(
        f"{record.dataset_name} version {record.version}",
        {
            "kind": record.kind.value,
            "rows": record.rows,
            "bytes": record.bytes,
            "sha256": record.sha256,
            "uri": record.uri,
            "source": record.source.uri or record.source.type,
            "description": record.description,
            "created": when(record.created_at),
        },
    )


@datasets_app.command("create")
def create(
    name: NameArgument,
    *,
    kind: Annotated[DatasetKind, typer.Option(help="What the rows are.")],
    file: FileOption = None,
    source: SourceOption = None,
    description: DescriptionOption = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Create dataset NAME of KIND with the rows of --file (or --source) as its version 1."""
    options = ApiOptions(api_url, token, profile, json_output)
    spec = _spec(
        DatasetSpec, name=name, kind=kind, description=description, **_source(file, source)
    )
    _print_version(_send(lambda client: client.create_dataset(spec), file, options), options)


@datasets_app.command("add-version")
def add_version(
    name: NameArgument,
    *,
    file: FileOption = None,
    source: SourceOption = None,
    description: DescriptionOption = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Add the rows of --file (or --source) as NAME's next version (rows a version holds
    already: that version)."""
    options = ApiOptions(api_url, token, profile, json_output)
    spec = _spec(DatasetVersionSpec, description=description, **_source(file, source))
    record = _send(lambda client: client.create_dataset_version(name, spec), file, options)
    _print_version(record, options)


@datasets_app.command("list")
def list_datasets(
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """List the tenant's datasets: kind, status, latest version."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        datasets = list(client.iter_datasets())
    print_records(
        datasets,
        options,
        ("name", "kind", "status", "latest", "updated"),
        lambda dataset: (
            dataset.name,
            dataset.kind.value,
            dataset.status.value,
            "-" if dataset.latest_version is None else str(dataset.latest_version),
            when(dataset.updated_at),
        ),
    )


@datasets_app.command("show")
def show(
    name: NameArgument,
    *,
    version: Annotated[
        int | None, typer.Option(min=1, help="One version, rather than the dataset's list.")
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show dataset NAME and its versions (or, with --version, one version)."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        if version is not None:
            _print_version(client.get_dataset_version(name, version), options)
            return
        dataset = client.get_dataset(name)
        versions = list(client.iter_dataset_versions(name))
    if options.as_json:
        typer.echo(
            json.dumps(
                {
                    **dataset.model_dump(mode="json"),
                    "versions": [item.model_dump(mode="json") for item in versions],
                },
                indent=2,
            )
        )
        return
    latest = "-" if dataset.latest_version is None else dataset.latest_version
    console.print(
        f"[bold]{dataset.name}[/] ({dataset.kind.value}, {dataset.status.value}, latest version "
        f"{latest})",
        highlight=False,
    )
    table = Table(show_edge=False)
    for column in ("version", "rows", "bytes", "sha256", "source", "created"):
        table.add_column(column)
    for item in versions:
        table.add_row(
            str(item.version),
            str(item.rows),
            str(item.bytes),
            item.sha256[:12],
            item.source.uri or item.source.type,
            when(item.created_at),
        )
    console.print(table)


@datasets_app.command("delete")
def delete(
    name: NameArgument,
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Delete dataset NAME: its versions' records and every object of its folder."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        deleted = client.delete_dataset(name)
    if options.as_json:
        print_json(deleted)
        return
    console.print(
        f"deleted dataset [bold]{deleted.name}[/]: {deleted.versions} versions, "
        f"{deleted.objects} objects",
        highlight=False,
    )


__all__ = ["datasets_app"]
