"""``maas endpoints ...``: a tenant's endpoints through the REST API (list, show, deploy, ...).

The commands are added to the ``endpoints`` group of :mod:`maas.cli.main` (beside ``top``)
by :func:`register`. Each one that changes an endpoint starts a workflow; ``--wait`` follows
it to its end (deploy: until the endpoint is in service).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

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
    follow,
    print_accepted,
    print_fields,
    print_json,
    print_records,
    when,
)

if TYPE_CHECKING:
    from schemas.endpoint import EndpointRecord

Name = Annotated[str, typer.Argument(help="The endpoint's name.")]


def _model(record: EndpointRecord) -> str:
    return f"{record.model.model_id} v{record.model.version}"


def list_endpoints(
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """List the tenant's endpoints (deleted ones included): status, model, instances."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        records = list(client.iter_endpoints())
    print_records(
        records,
        options,
        ("endpoint", "status", "model", "instance type", "count", "updated"),
        lambda record: (
            record.endpoint_name,
            record.status.value,
            _model(record),
            record.instance_type,
            str(record.instance_count),
            when(record.updated_at),
        ),
    )


def show_endpoint(
    name: Name,
    *,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Show one endpoint's record (exit code 3 when the tenant has no such endpoint)."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        record = client.get_endpoint(name)
    if options.as_json:
        print_json(record)
        return
    scaling = record.autoscaling
    print_fields(
        f"endpoint {record.endpoint_name}",
        {
            "status": record.status.value,
            "model": _model(record),
            "instance type": record.instance_type,
            "instances": record.instance_count,
            "autoscaling": f"{scaling.min_capacity}..{scaling.max_capacity}" if scaling else None,
            "expires at": record.expires_at,
            "hours": record.hours.model_dump_json(exclude_none=True) if record.hours else None,
            "last execution": record.correlation_id,
            "failure": record.failure_reason,
            "arn": record.endpoint_arn,
            "created": record.created_at,
            "updated": record.updated_at,
        },
    )


def deploy_endpoint(
    name: Name,
    *,
    model: Annotated[str, typer.Option(help="The registered model's name.")],
    version: Annotated[int, typer.Option(min=1, help="The registered, approved version.")],
    instance_type: Annotated[
        str | None,
        typer.Option(help="The instance type (default: the version's recommended one)."),
    ] = None,
    count: Annotated[int, typer.Option(min=1, max=100, help="Initial instance count.")] = 1,
    wait: Wait = False,
    timeout: WaitTimeout = 1800,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Deploy a registered model version on a new endpoint NAME (--wait: until in service)."""
    import pydantic

    from schemas.deployment import DeploymentSpec, RegisteredModel

    options = ApiOptions(api_url, token, profile, json_output)
    try:
        spec = DeploymentSpec(
            endpoint_name=name,
            model=RegisteredModel(model_name=model, version=version),
            instance_type=instance_type,
            instance_count=count,
        )
    except pydantic.ValidationError as error:
        raise typer.BadParameter(str(error)) from None
    with api_client(options) as client:
        accepted = client.create_endpoint(spec)
        if not wait:
            print_accepted(accepted, options)
            return
        follow(client, accepted, timeout)
        record = client.wait_until_in_service(name, timeout=timeout)
    if options.as_json:
        print_json(record)
    else:
        console.print(
            f"endpoint [bold]{name}[/] is [green]{record.status.value}[/] "
            f"({_model(record)} on {record.instance_count} x {record.instance_type})",
            highlight=False,
        )


def scale_endpoint(
    name: Name,
    *,
    count: Annotated[int, typer.Option(min=1, max=100, help="The new instance count.")],
    wait: Wait = False,
    timeout: WaitTimeout = 1800,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Change endpoint NAME's instance count in place."""
    from schemas.scaling import ScalingChange

    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.scale_endpoint(name, ScalingChange(instance_count=count))
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def update_endpoint(
    name: Name,
    *,
    version: Annotated[
        int | None, typer.Option(min=1, help="The version to serve instead.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="The registered model (default: the one served now).")
    ] = None,
    instance_type: Annotated[
        str | None, typer.Option(help="The instance type to serve on instead.")
    ] = None,
    wait: Wait = False,
    timeout: WaitTimeout = 3600,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Serve another version on endpoint NAME, or move it to another instance type, blue/green."""
    import pydantic

    from schemas.deployment import RegisteredModel
    from schemas.update import EndpointChange

    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        selection = None
        if version is not None:
            # A registered version's model_id is its registry name (see resolve_model).
            model_name = model or client.get_endpoint(name).model.model_id
            selection = RegisteredModel(model_name=model_name, version=version)
        try:
            change = EndpointChange(model=selection, instance_type=instance_type)
        except pydantic.ValidationError as error:
            raise typer.BadParameter(str(error)) from None
        accepted = client.update_endpoint(name, change)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def stop_endpoint(
    name: Name,
    *,
    wait: Wait = False,
    timeout: WaitTimeout = 1800,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Stop endpoint NAME: delete the SageMaker endpoint, keep its model and configuration."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.stop_endpoint(name)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def start_endpoint(
    name: Name,
    *,
    wait: Wait = False,
    timeout: WaitTimeout = 1800,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Start stopped endpoint NAME again from its kept configuration."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.start_endpoint(name)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def delete_endpoint(
    name: Name,
    *,
    keep_model: Annotated[
        bool, typer.Option("--keep-model", help="Keep the SageMaker model.")
    ] = False,
    wait: Wait = False,
    timeout: WaitTimeout = 1800,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Tear endpoint NAME down: scaling, schedules, alarms, endpoint, configuration, model."""
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        accepted = client.delete_endpoint(name, delete_model=not keep_model)
        finish_workflow(client, accepted, options, wait=wait, timeout=timeout)


def invoke_endpoint(
    name: Name,
    question: Annotated[str, typer.Argument(help="The question to ask.")],
    *,
    max_new_tokens: Annotated[
        int | None, typer.Option(min=1, help="New tokens at most (default: the pipeline's).")
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option(min=0, max=2, help="0 decodes greedily (default: the pipeline's)."),
    ] = None,
    api_url: ApiUrl = None,
    token: Token = None,
    profile: ProfileName = None,
    json_output: JsonOutput = False,
) -> None:
    """Ask endpoint NAME a question through its pipeline: the answer, the passages it rests
    on, what the guardrail found, and the trace to follow (exit code 4 when not in service)."""
    from schemas.pipeline import GenerationSettings

    overrides = {"max_new_tokens": max_new_tokens, "temperature": temperature}
    given = {key: value for key, value in overrides.items() if value is not None}
    parameters = GenerationSettings.model_validate(given) if given else None
    options = ApiOptions(api_url, token, profile, json_output)
    with api_client(options) as client:
        answer = client.invoke_endpoint(name, question, parameters=parameters)
    if options.as_json:
        print_json(answer)
        return
    console.print(answer.answer, highlight=False, markup=False)
    console.print()
    for rank, context in enumerate(answer.contexts, start=1):
        console.print(f"[dim][{rank}] {context.id} ({context.score:.3f})[/]", highlight=False)
    for finding in answer.guardrail:
        if finding.intervened:
            kind = "[bold red]blocked[/]" if finding.blocked else "[yellow]masked[/]"
            reasons = "; ".join(finding.reasons) or finding.action
            console.print(f"guardrail {finding.source}: {kind}: {reasons}", highlight=False)
    stages = ", ".join(f"{stage} {ms:.0f} ms" for stage, ms in answer.stages_ms.items())
    console.print(
        f"[dim]{answer.tokens_in} tokens in, {answer.tokens_out} out; {stages}[/]", highlight=False
    )
    if answer.trace_id:
        # One line however narrow the terminal: the command is there to be copied.
        console.print(
            f"trace {answer.trace_id}: maas traces show {answer.trace_id}",
            highlight=False,
            soft_wrap=True,
        )


def register(endpoints_app: typer.Typer) -> None:
    """Add the commands to the ``endpoints`` group."""
    for name, command in (
        ("list", list_endpoints),
        ("show", show_endpoint),
        ("deploy", deploy_endpoint),
        ("scale", scale_endpoint),
        ("update", update_endpoint),
        ("stop", stop_endpoint),
        ("start", start_endpoint),
        ("delete", delete_endpoint),
        ("invoke", invoke_endpoint),
    ):
        endpoints_app.command(name)(command)


__all__ = ["register"]
