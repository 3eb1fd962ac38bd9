"""Settings of the local runtime: where it pretends to be and how fast its AWS moves."""

from __future__ import annotations

from pathlib import Path  # pydantic reads the annotation when the model is built

from pydantic import BaseModel, Field

#: moto's account id; the local world has one account.
LOCAL_ACCOUNT_ID = "123456789012"


class LocalSettings(BaseModel):
    """How the local runtime behaves.

    Endpoint timings are short so a deployment takes seconds, yet long enough that the
    workflows' ``Wait`` loops run more than once.

    ``serve_models`` puts a local inference server behind every endpoint that comes into
    service (see :mod:`maas.local.inference`): the endpoint's model data must then be a real
    packaged model, and ``InvokeEndpoint`` answers with generated text. Turn it off to deploy
    placeholder artifacts (the workflow tests do); ``InvokeEndpoint`` then answers that no
    inference server runs. ``model_server_startup_seconds`` bounds how long a server may take
    to pass its health check (a production variant's
    ``ContainerStartupHealthCheckTimeoutInSeconds`` overrides it), and
    ``invocation_timeout_seconds`` how long one ``InvokeEndpoint`` waits for it, as
    SageMaker's 60 seconds do. ``alarm_evaluation_seconds`` is how often CloudWatch alarms
    are evaluated (see :mod:`maas.local.cloudwatch`); CloudWatch does it every minute.
    ``instance_metrics_seconds`` is how often a served endpoint's requests in flight and its
    server's utilization are reported (see :mod:`maas.local.instancemetrics`); SageMaker
    reports ``ConcurrentRequestsPerModel`` every 10 seconds.

    ``enforce_iam`` evaluates the calls of the API's tenant sessions against the tenant access
    role's statements, as the stacks synthesize them, and refuses what AWS would refuse with
    AccessDenied (see :mod:`maas.local.iam_enforcement`); turn it off to see what the
    handlers' own checks hold alone. ``enforce_function_iam`` (with ``enforce_iam``) gives each
    of the manifest's functions temporary credentials of its own execution role, as Lambda
    does, and so evaluates its calls against that role's synthesized statements too
    (:mod:`maas.local.function_credentials`); turn it off to run the functions with the
    runtime's own credentials, unchecked. ``enforce_workflow_iam`` (with ``enforce_iam``) has
    each state machine call services with a session of its own execution role (or of the role
    a Task state's ``Credentials`` names), as Step Functions does, and so evaluates those calls
    against the role's synthesized statements (:mod:`maas.local.workflow_credentials`); off,
    the interpreter's calls go unchecked. ``enforce_job_iam`` (with ``enforce_iam``) runs each
    Batch job with a session of its job definition's role, as ECS does, and evaluates what
    the job process calls over HTTP (as that role, then as the tenant role it assumes)
    against the roles' synthesized statements (:mod:`maas.local.http_server`); off, the jobs
    run with the runtime's own credentials and their tenant sessions are not checked.

    ``state_dir`` keeps the emulated account across restarts: the runtime restores it from
    that directory when it starts and saves it there when it stops
    (:mod:`maas.local.persistence` says what is kept). None (the default, and what tests
    and the demo use) starts empty and discards the account on stop. With a state directory,
    ``autosave_seconds`` also saves it that often while the runtime runs, so that a crash or
    SIGKILL (where the stop's save never runs) loses at most that long; None saves on stop
    only.
    """

    region: str = "us-east-1"
    account_id: str = LOCAL_ACCOUNT_ID
    name_prefix: str = Field(default="maas", pattern=r"^[a-z][a-z0-9-]{0,15}$")
    endpoint_create_seconds: float = Field(default=2.0, ge=0)
    endpoint_delete_seconds: float = Field(default=1.0, ge=0)
    endpoint_poll_seconds: int = Field(default=1, ge=1)
    endpoint_max_status_checks: int = Field(default=120, ge=1)
    serve_models: bool = True
    model_server_startup_seconds: float = Field(default=300.0, gt=0)
    invocation_timeout_seconds: float = Field(default=60.0, gt=0)
    alarm_evaluation_seconds: float = Field(default=60.0, gt=0)
    instance_metrics_seconds: float = Field(default=10.0, gt=0)
    tenant_max_endpoints: int = Field(default=10, ge=1)
    tenant_max_instances: int = Field(default=20, ge=1)
    enforce_iam: bool = True
    enforce_function_iam: bool = True
    enforce_workflow_iam: bool = True
    enforce_job_iam: bool = True
    state_dir: Path | None = None
    autosave_seconds: float | None = Field(default=None, gt=0)

    def setting_values(self) -> dict[str, str]:
        """Values of the manifest's stage settings in this world."""
        # The stage whose guardrails the runtime registers (cdk.json's, as the CDK app reads).
        from maas.local.bedrock import configured_stage  # noqa: PLC0415 - moto, only when used

        return {
            "stage_name": configured_stage()[0],
            "endpoint_poll_seconds": str(self.endpoint_poll_seconds),
            "endpoint_max_status_checks": str(self.endpoint_max_status_checks),
            "tenant_max_endpoints": str(self.tenant_max_endpoints),
            "tenant_max_instances": str(self.tenant_max_instances),
            # The emulated IAM is consistent at once: a new role is usable when it is made.
            "tenant_role_propagation_seconds": "0",
        }


__all__ = ["LOCAL_ACCOUNT_ID", "LocalSettings"]
