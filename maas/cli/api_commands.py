"""``maas models|versions|packaging|lifecycles|executions ...``: the registry and workflows
through the REST API; :func:`add_api_commands` adds them (and the endpoints') to ``maas``."""

from __future__ import annotations

import json
from pathlib import Path  # noqa: TC003 - typer reads the annotations when the app is built
from typing import TYPE_CHECKING, Annotated

import typer

from maas.cli import endpoints
from maas.cli.api_common import (
    ApiOptions,
    ApiUrl,
    JsonOutput,
    ProfileName,
    Token,
    Wait,
    WaitTimeout,
    api_client,
    console,
    finish_workflow,
    print_fields,
    print_json,
    print_records,
    render_path,
    when,
)

if TYPE_CHECKING:
    from schemas.quantization import VersionLineage

models_app = typer.Typer(help="The tenant's model registry.", no_args_is_help=True)
versions_app = typer.Typer(help="A model's registered versions.", no_args_is_help=True)
packaging_app = typer.Typer(help="Package a model into a new version.", no_args_is_help=True)
lifecycles_app = typer.Typer(
    help="Package, deploy and tear down, as one workflow.", no_args_is_help=True
)
executions_app = typer.Typer(help="Workflow executions a request started.", no_args_is_help=True)

ModelName = Annotated[str, typer.Argument(help="The model's name in the registry.")]


@models_app.command("list")
def list_models(
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """List the tenant's models, each with its latest version."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        models = list(client.iter_models())
    print_records(
        models,
        options,
        ("model", "latest", "status", "versions", "updated"),
        lambda model: (
            model.model_name,
            str(model.latest_version),
            model.latest_status,
            str(model.versions),
            when(model.updated_at),
        ),
    )


@versions_app.command("list")
def list_versions(
    model: ModelName,
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """List MODEL's versions, oldest first (exit code 3 when there is no such model)."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        versions = list(client.iter_versions(model))
    print_records(
        versions,
        options,
        ("version", "status", "approval", "instance type", "created"),
        lambda version: (
            str(version.version),
            version.status.value,
            version.approval_status.value if version.approval_status else "-",
            version.instance_type or "-",
            when(version.created_at),
        ),
    )


@versions_app.command("show")
def show_version(
    model: ModelName,
    version: Annotated[int, typer.Argument(min=1, help="The version number.")],
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show one version of MODEL: status, progress, artifact, image, instance type."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        record = client.get_version(model, version)
    if options.as_json:
        print_json(record)
        return
    progress = record.progress
    print_fields(
        f"{record.model_name} version {record.version}",
        {
            "status": record.status.value,
            "approval": record.approval_status.value if record.approval_status else None,
            "source": record.source.model_dump_json(exclude_none=True),
            "progress": f"{progress.stage} {progress.message or ''}".strip() if progress else None,
            "artifact": record.artifact_uri,
            "image": record.image_uri,
            "instance type": record.instance_type,
            "model package": record.model_package_arn,
            "execution": record.correlation_id,
            "error": f"{record.error}: {record.cause}" if record.error else None,
            "lineage": describe_lineage(record.lineage) if record.lineage else None,
            "created": record.created_at,
            "updated": record.updated_at,
        },
    )


@versions_app.command("quantize")
def quantize_version(
    model: ModelName,
    version: Annotated[int, typer.Argument(min=1, help="The parent: a REGISTERED version.")],
    *,
    scheme: Annotated[
        str, typer.Option(help="W8A16 (int8 weights), W4A16 (int4) or FP8_DYNAMIC.")
    ] = "W8A16",
    group_size: Annotated[
        int | None, typer.Option(help="W4A16 only: inputs per scale (32, 64 or 128).")
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Register the new version Approved (deployable).")
    ] = False,
    wait: Wait = False,
    timeout: WaitTimeout = 7200,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Quantize VERSION of MODEL into MODEL's next version, measured (size, perplexity)."""
    import pydantic

    from schemas.quantization import QuantizationOptions

    document: dict[str, object] = {
        "settings": {"scheme": scheme}
        if group_size is None
        else {"scheme": scheme, "group_size": group_size},
        "approval_status": "Approved" if approve else "PendingManualApproval",
    }
    try:
        body = QuantizationOptions.model_validate(document)
    except pydantic.ValidationError as error:
        raise typer.BadParameter(str(error)) from None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.quantize_version(model, version, body)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def describe_lineage(lineage: VersionLineage) -> str:
    """A version's lineage in one line.

    Examples
    --------
    >>> from schemas.quantization import QuantizationSettings, VersionLineage
    >>> describe_lineage(VersionLineage(parent_version=1, library="compressed-tensors",
    ...                                 settings=QuantizationSettings()))
    'W8A16 quantization of version 1 (compressed-tensors)'
    """
    text = (
        f"{lineage.settings.scheme} {lineage.technique} of version {lineage.parent_version} "
        f"({lineage.library})"
    )
    measured = lineage.measurements
    if measured is None:
        return text
    return (
        f"{text}: weights x{measured.size_ratio:.2f}, perplexity "
        f"{measured.parent_perplexity:.2f} -> {measured.perplexity:.2f} "
        f"({measured.perplexity_change:+.1%}) on {measured.text}"
    )


@packaging_app.command("start")
def start_packaging(
    *,
    hf: Annotated[
        str | None, typer.Option("--hf", help="A Hugging Face model id, owner/name.")
    ] = None,
    s3: Annotated[
        str | None, typer.Option("--s3", help="An s3:// prefix (Hugging Face folder) or GGUF.")
    ] = None,
    revision: Annotated[str, typer.Option(help="With --hf: a branch, tag or commit.")] = "main",
    model_name: Annotated[
        str | None, typer.Option(help="The registry name (default: derived from the source).")
    ] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Register the version Approved (deployable).")
    ] = False,
    wait: Wait = False,
    timeout: WaitTimeout = 7200,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Package a model from the Hub (--hf) or S3 (--s3) and register it as a new version."""
    import pydantic

    from schemas.packaging import PackagingSettings

    if (hf is None) == (s3 is None):
        raise typer.BadParameter("give exactly one of --hf and --s3")
    source = (
        {"kind": "huggingface", "model_id": hf, "revision": revision}
        if hf is not None
        else {"kind": "s3", "uri": s3}
    )
    document = {
        "source": source,
        "approval_status": "Approved" if approve else "PendingManualApproval",
    }
    if model_name is not None:
        document["model_name"] = model_name
    try:
        settings = PackagingSettings.model_validate(document)
    except pydantic.ValidationError as error:
        raise typer.BadParameter(str(error)) from None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.create_packaging_job(settings)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


@lifecycles_app.command("start")
def start_lifecycle(
    *,
    request: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="A JSON file with the lifecycle (package, deployment, keep_endpoint), as "
            "POST /v1/lifecycles takes it.",
        ),
    ],
    wait: Wait = False,
    timeout: WaitTimeout = 7200,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Run a lifecycle: package a model, deploy it, and tear it down unless kept."""
    import pydantic

    from schemas.lifecycle import LifecycleSpec

    try:
        spec = LifecycleSpec.model_validate(json.loads(request.read_text()))
    except (ValueError, pydantic.ValidationError) as error:
        raise typer.BadParameter(f"{request}: {error}", param_hint="--request") from None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.create_lifecycle(spec)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


@executions_app.command("show")
def show_execution(
    workflow: Annotated[str, typer.Argument(help="The workflow, e.g. deploy-endpoint.")],
    name: Annotated[str, typer.Argument(help="The execution's name.")],
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show an execution: its status, error and cause, and every state it went through."""
    from schemas.api import Workflow

    try:
        kind = Workflow(workflow)
    except ValueError:
        known = ", ".join(item.value for item in Workflow)
        raise typer.BadParameter(f"not a workflow: {workflow!r} (one of {known})") from None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        view = client.get_execution(kind, name)
    if options.as_json:
        print_json(view)
        return
    console.print(render_path(view))
    if view.error or view.cause:
        console.print(f"[bold red]{view.error}[/]: {view.cause}", highlight=False)


def add_api_commands(app: typer.Typer, endpoints_app: typer.Typer) -> None:
    """Add the API's command groups to ``app`` and the endpoint commands to its group."""
    endpoints.register(endpoints_app)
    for group, name in (
        (models_app, "models"),
        (versions_app, "versions"),
        (packaging_app, "packaging"),
        (lifecycles_app, "lifecycles"),
        (executions_app, "executions"),
    ):
        app.add_typer(group, name=name)


__all__ = [
    "add_api_commands",
    "executions_app",
    "lifecycles_app",
    "models_app",
    "packaging_app",
    "versions_app",
]
