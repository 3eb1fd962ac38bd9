"""SageMaker hosting on the local runtime: endpoints that take time, and can fail.

Why this exists: moto creates an endpoint ``InService`` at once and deletes it at once,
and lets a second ``CreateModel``/``CreateEndpointConfig``/``CreateEndpoint`` of the same
name silently replace the first. A workflow tested against that never runs its wait loop,
never sees ``Failed``, and could delete someone else's resource without noticing. This
adapter gives moto's endpoints AWS's behaviour:

- ``CreateEndpoint`` answers at once with ``Creating``; after ``create_seconds`` the
  endpoint is ``InService``, or ``Failed`` with a ``FailureReason`` when its model data is
  not in S3 (SageMaker cannot download it) or a failure was injected for that endpoint;
- ``DeleteEndpoint`` leaves it ``Deleting`` for ``delete_seconds``, then it is gone;
- creating a model, endpoint configuration or endpoint whose name exists is a
  ``ValidationException``, as on AWS;
- an endpoint configuration's instance type is checked against the instance types the
  SageMaker API accepts today (botocore's model), not moto's list, which stops before the
  ``ml.g5`` generation;
- checks run while an endpoint is created, as SageMaker starts the model's container and
  waits for its health check; a check that returns a reason fails the endpoint with it (the
  local inference server, :mod:`maas.local.inference`, starts here);
- ``UpdateEndpointWeightsAndCapacities`` (which moto applies at once, leaving the endpoint
  ``InService``) leaves it ``Updating`` on its old counts for ``create_seconds``, then
  ``InService`` on the new ones; with a failure injected for that endpoint, SageMaker's
  rollback: ``InService`` on the old counts with a ``FailureReason``. An endpoint that is
  not ``InService`` refuses the update, as on AWS;
- ``UpdateEndpoint``, which moto does not implement, moves a live endpoint to ``Updating``
  and, after ``create_seconds``, ``InService`` on the new endpoint configuration; when the
  new configuration's model data is missing, a failure was injected, or one of the
  ``DeploymentConfig``'s ``AutoRollbackConfiguration`` alarms (in moto's CloudWatch) is in
  ``ALARM`` when the update would complete, SageMaker's rollback: ``InService`` on the old
  configuration with a ``FailureReason``. What is not emulated: the blue/green fleet itself
  (no second fleet, no canary or linear traffic shifting, no wait intervals or baking
  period: the update takes ``create_seconds`` whatever the policy says), an alarm that
  fires and clears again before the update completes, and the local inference server, which
  is not restarted on the new model (the README lists the gap);
- a live endpoint can be failed on purpose (:meth:`LocalSageMaker.fail_in_service`), as
  when SageMaker cannot keep its instances healthy;
- listeners hear when an endpoint comes into service or goes away, and of every status
  change; :meth:`LocalSageMaker.announce_state_changes` puts SageMaker's own
  ``SageMaker Endpoint State Change`` events on the default bus with AWS's detail
  (moto's SageMaker emits none). Like SageMaker, it announces ``DELETING`` and nothing
  once the endpoint is gone.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.model import StringShape
from moto.cloudwatch.models import cloudwatch_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import (
    FakeEndpoint,
    FakeEndpointConfig,
    SageMakerModelBackend,
    sagemaker_backends,
)
from moto.sagemaker.responses import SageMakerResponse

from maas.local.events import put_service_event
from maas.local.modeldata import missing_model_data, model_data_location
from maas.local.patching import add, replace
from schemas.aws_events import ENDPOINT_STATE_CHANGE, SAGEMAKER_SOURCE

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack
    from typing import TypeAlias

    #: Runs while an endpoint is created: None when it may come into service, else the
    #: reason it fails (its ``FailureReason``).
    CreationCheck: TypeAlias = Callable[[SageMakerModelBackend, FakeEndpoint], str | None]


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointTiming:
    """How long endpoint operations take on the local runtime, in seconds."""

    create_seconds: float = 2.0
    delete_seconds: float = 1.0


class LocalSageMaker:
    """Endpoint status transitions, name uniqueness and failure injection."""

    def __init__(self, timing: EndpointTiming) -> None:
        self.timing = timing
        self._failures: dict[str, str] = {}
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._checks: list[CreationCheck] = []
        self._on_in_service: list[Callable[[str, FakeEndpoint], None]] = []
        self._on_deleted: list[Callable[[str, FakeEndpoint], None]] = []
        self._on_status_change: list[Callable[[SageMakerModelBackend, FakeEndpoint], None]] = []

    def fail_endpoint(self, endpoint_name: str, reason: str) -> None:
        """Make the next creation of ``endpoint_name`` end ``Failed`` with ``reason``.

        The next capacity change of a live ``endpoint_name`` is rolled back instead.
        """
        with self._lock:
            self._failures[endpoint_name] = reason

    def fail_in_service(
        self, endpoint_name: str, reason: str, *, account_id: str, region: str
    ) -> None:
        """Fail the live ``endpoint_name`` now with ``reason``.

        As when SageMaker cannot keep a live endpoint's instances healthy: it is ``Failed``
        with the ``FailureReason`` at once, listeners hear of it, and it stays until deleted.
        """
        backend = sagemaker_backends[account_id][region]
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None or endpoint.endpoint_status != "InService":
            raise ValueError(f"endpoint {endpoint_name!r} is not InService")
        endpoint.endpoint_status = "Failed"
        # moto types the attribute as always None; AWS fills it on failure.
        endpoint.failure_reason = reason  # type: ignore[assignment]
        endpoint.last_modified_time = _now()
        self._changed(backend, endpoint)

    def before_in_service(self, check: CreationCheck) -> None:
        """Run ``check(backend, endpoint)`` while an endpoint is created.

        Checks run one after the other as soon as creation starts, alongside the creation
        delay: the endpoint is ``InService`` once the delay is over and every check returned
        None. A check that returns a reason fails the endpoint with it as ``FailureReason``
        (the later checks do not run). An endpoint whose model data is missing, or with an
        injected failure, fails without running them.
        """
        self._checks.append(check)

    def on_in_service(self, listener: Callable[[str, FakeEndpoint], None]) -> None:
        """Call ``listener(account_id, endpoint)`` when an endpoint becomes ``InService``."""
        self._on_in_service.append(listener)

    def on_deleted(self, listener: Callable[[str, FakeEndpoint], None]) -> None:
        """Call ``listener(account_id, endpoint)`` when an endpoint is gone."""
        self._on_deleted.append(listener)

    def on_status_change(
        self, listener: Callable[[SageMakerModelBackend, FakeEndpoint], None]
    ) -> None:
        """Call ``listener(backend, endpoint)`` each time an endpoint's status changes.

        Creating, InService, Failed, Updating and Deleting, in that endpoint's order; not
        when a deleted endpoint is finally gone (SageMaker's last word on it is Deleting).
        A listener that raises is logged and does not stop the change.
        """
        self._on_status_change.append(listener)

    def announce_state_changes(self, events: Callable[[], Any]) -> None:
        """Put ``SageMaker Endpoint State Change`` on the default bus at each status change.

        As SageMaker does on AWS, with its detail (:func:`endpoint_state_change`); ``events()``
        gives an in-process EventBridge client.
        """

        def announce(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
            put_service_event(
                events(),
                source=SAGEMAKER_SOURCE,
                detail_type=ENDPOINT_STATE_CHANGE,
                detail=endpoint_state_change(endpoint),
                resources=[endpoint.arn],
            )

        self.on_status_change(announce)

    def install(self, stack: ExitStack) -> None:
        """Patch moto's SageMaker backend until ``stack`` closes."""
        originals = {
            name: getattr(SageMakerModelBackend, name)
            for name in (
                "create_model",
                "create_endpoint_config",
                "create_endpoint",
                "delete_endpoint",
                "update_endpoint_weights_and_capacities",
            )
        }
        local = self

        def create_model(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            _refuse_existing(backend._models, kwargs["model_name"], "model", backend)
            return originals["create_model"](backend, **kwargs)

        def create_endpoint_config(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            name = kwargs["endpoint_config_name"]
            _refuse_existing(backend.endpoint_configs, name, "endpoint-config", backend)
            return originals["create_endpoint_config"](backend, **kwargs)

        def create_endpoint(
            backend: SageMakerModelBackend,
            endpoint_name: str,
            endpoint_config_name: str,
            tags: list[dict[str, str]],
        ) -> FakeEndpoint:
            _refuse_existing(backend.endpoints, endpoint_name, "endpoint", backend)
            endpoint: FakeEndpoint = originals["create_endpoint"](
                backend, endpoint_name, endpoint_config_name, tags
            )
            endpoint.endpoint_status = "Creating"
            local._changed(backend, endpoint)
            threading.Thread(
                target=local._create,
                args=(backend, endpoint),
                name=f"create-{endpoint_name}",
                daemon=True,
            ).start()
            return endpoint

        def delete_endpoint(backend: SageMakerModelBackend, endpoint_name: str) -> None:
            endpoint = backend.endpoints.get(endpoint_name)
            if endpoint is None:
                originals["delete_endpoint"](backend, endpoint_name)  # raises AWS's error
                return
            if endpoint.endpoint_status != "Deleting":
                endpoint.endpoint_status = "Deleting"
                endpoint.last_modified_time = _now()
                local._changed(backend, endpoint)
                local._after(local.timing.delete_seconds, local._finish_deleting, backend, endpoint)

        def update_endpoint_weights_and_capacities(
            backend: SageMakerModelBackend,
            endpoint_name: str,
            desired_weights_and_capacities: list[dict[str, Any]],
        ) -> str:
            endpoint = backend.endpoints.get(endpoint_name)
            if endpoint is not None and endpoint.endpoint_status != "InService":
                raise ValidationError(
                    message=f'Cannot update in-progress endpoint "{endpoint.arn}".'
                )
            before = copy.deepcopy(endpoint.production_variants) if endpoint else []
            arn: str = originals["update_endpoint_weights_and_capacities"](
                backend, endpoint_name, desired_weights_and_capacities
            )
            assert endpoint is not None  # moto raised AWS's error for an unknown endpoint
            after, endpoint.production_variants = endpoint.production_variants, before
            endpoint.endpoint_status = "Updating"
            endpoint.last_modified_time = _now()
            local._changed(backend, endpoint)
            with local._lock:
                reason = local._failures.pop(endpoint_name, None)
            local._after(
                local.timing.create_seconds, local._finish_update, backend, endpoint, after, reason
            )
            return arn

        def update_endpoint(response: SageMakerResponse) -> str:
            return local._answer_update(response)

        stack.enter_context(add(SageMakerResponse, "update_endpoint", update_endpoint))
        stack.enter_context(
            replace(FakeEndpointConfig, "validate_instance_type", _validate_instance_type)
        )
        for name, patched in (
            ("create_model", create_model),
            ("create_endpoint_config", create_endpoint_config),
            ("create_endpoint", create_endpoint),
            ("delete_endpoint", delete_endpoint),
            ("update_endpoint_weights_and_capacities", update_endpoint_weights_and_capacities),
        ):
            stack.enter_context(replace(SageMakerModelBackend, name, patched))
        self._stopping.clear()
        stack.callback(self._stop_pending)

    def _after(self, seconds: float, action: Callable[..., None], *args: Any) -> None:
        timer = threading.Timer(seconds, action, args)
        timer.daemon = True
        with self._lock:
            self._timers = [pending for pending in self._timers if pending.is_alive()]
            self._timers.append(timer)
        timer.start()

    def _stop_pending(self) -> None:
        self._stopping.set()
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    def _create(self, backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
        ready_at = time.monotonic() + self.timing.create_seconds
        with self._lock:
            reason = self._failures.pop(endpoint.endpoint_name, None)
        reason = reason or _missing_model_data(backend, endpoint)
        for check in self._checks:
            if reason:
                break
            reason = check(backend, endpoint)
        if self._stopping.wait(ready_at - time.monotonic()):
            return
        if backend.endpoints.get(endpoint.endpoint_name) is not endpoint:
            return
        if endpoint.endpoint_status != "Creating":
            return
        endpoint.last_modified_time = _now()
        if reason:
            endpoint.endpoint_status = "Failed"
            # moto types the attribute as always None; AWS fills it on failure.
            endpoint.failure_reason = reason  # type: ignore[assignment]
            self._changed(backend, endpoint)
            return
        endpoint.endpoint_status = "InService"
        self._changed(backend, endpoint)
        for listener in self._on_in_service:
            listener(backend.account_id, endpoint)

    def _finish_update(
        self,
        backend: SageMakerModelBackend,
        endpoint: FakeEndpoint,
        variants: list[dict[str, Any]],
        reason: str | None,
    ) -> None:
        if backend.endpoints.get(endpoint.endpoint_name) is not endpoint:
            return
        if endpoint.endpoint_status != "Updating":
            return
        endpoint.last_modified_time = _now()
        if reason:
            # moto types the attribute as always None; AWS fills it when an update rolls back.
            endpoint.failure_reason = reason  # type: ignore[assignment]
        else:
            endpoint.production_variants = variants
            endpoint.failure_reason = None
        endpoint.endpoint_status = "InService"
        self._changed(backend, endpoint)

    def _answer_update(self, response: SageMakerResponse) -> str:
        """moto's request layer for ``UpdateEndpoint``, which moto lacks."""
        rollback = (response._get_param("DeploymentConfig") or {}).get(
            "AutoRollbackConfiguration", {}
        )
        arn = self._update_endpoint(
            response.sagemaker_backend,
            response._get_param("EndpointName"),
            response._get_param("EndpointConfigName"),
            [alarm["AlarmName"] for alarm in rollback.get("Alarms", [])],
        )
        return json.dumps({"EndpointArn": arn})

    def _update_endpoint(
        self,
        backend: SageMakerModelBackend,
        endpoint_name: str,
        endpoint_config_name: str,
        rollback_alarms: list[str],
    ) -> str:
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None:
            backend.describe_endpoint(endpoint_name)  # raises AWS's error
            raise AssertionError(endpoint_name)
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        if endpoint_config_name not in backend.endpoint_configs:
            arn = _arn(backend, "endpoint-config", endpoint_config_name)
            raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')
        endpoint.endpoint_status = "Updating"
        endpoint.last_modified_time = _now()
        self._changed(backend, endpoint)
        with self._lock:
            reason = self._failures.pop(endpoint_name, None)
        self._after(
            self.timing.create_seconds,
            self._finish_config_update,
            backend,
            endpoint,
            endpoint_config_name,
            rollback_alarms,
            reason,
        )
        return endpoint.arn

    def _finish_config_update(
        self,
        backend: SageMakerModelBackend,
        endpoint: FakeEndpoint,
        endpoint_config_name: str,
        rollback_alarms: list[str],
        reason: str | None,
    ) -> None:
        if backend.endpoints.get(endpoint.endpoint_name) is not endpoint:
            return
        if endpoint.endpoint_status != "Updating":
            return
        previous = endpoint.endpoint_config_name
        endpoint.endpoint_config_name = endpoint_config_name
        reason = (
            reason
            or _missing_model_data(backend, endpoint)
            or _alarms_firing(backend, rollback_alarms)
        )
        endpoint.last_modified_time = _now()
        if reason:
            endpoint.endpoint_config_name = previous
            # moto types the attribute as always None; AWS fills it when an update rolls back.
            endpoint.failure_reason = reason  # type: ignore[assignment]
        else:
            config = backend.endpoint_configs[endpoint_config_name]
            endpoint.production_variants = endpoint._process_production_variants(
                config.production_variants
            )
            endpoint.failure_reason = None
        endpoint.endpoint_status = "InService"
        self._changed(backend, endpoint)

    def _changed(self, backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
        for listener in self._on_status_change:
            try:
                listener(backend, endpoint)
            except Exception:
                # On AWS a state change happens whether or not anyone hears of it.
                logger.exception("status change of endpoint %s not told", endpoint.endpoint_name)

    def _finish_deleting(self, backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> None:
        if backend.endpoints.get(endpoint.endpoint_name) is endpoint:
            del backend.endpoints[endpoint.endpoint_name]
            for listener in self._on_deleted:
                listener(backend.account_id, endpoint)


@cache
def hosting_instance_types() -> frozenset[str]:
    """The instance types SageMaker's API accepts for a production variant."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.shape_for("ProductionVariantInstanceType")
    assert isinstance(shape, StringShape)
    return frozenset(shape.enum)


def endpoint_state_change(endpoint: FakeEndpoint) -> dict[str, Any]:
    """The detail of SageMaker's ``SageMaker Endpoint State Change`` event about ``endpoint`` now.

    AWS's shape: the status in upper snake case (``InService`` is ``IN_SERVICE``), times
    in epoch milliseconds, tags as an object.
    """
    detail: dict[str, Any] = {
        "EndpointName": endpoint.endpoint_name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.endpoint_config_name,
        "ProductionVariants": [
            {
                key: variant[key]
                for key in (
                    "VariantName",
                    "CurrentWeight",
                    "DesiredWeight",
                    "CurrentInstanceCount",
                    "DesiredInstanceCount",
                )
                if key in variant
            }
            for variant in endpoint.production_variants
        ],
        "EndpointStatus": re.sub(r"(?<!^)(?=[A-Z])", "_", endpoint.endpoint_status).upper(),
        "CreationTime": _epoch_milliseconds(endpoint.creation_time),
        "LastModifiedTime": _epoch_milliseconds(endpoint.last_modified_time),
        "Tags": {tag["Key"]: tag["Value"] for tag in endpoint.tags},
    }
    if endpoint.failure_reason:
        detail["FailureReason"] = endpoint.failure_reason
    return detail


def _epoch_milliseconds(moment: datetime) -> float:
    # moto's own times are naive UTC; this adapter's are aware.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return float(round(aware.timestamp() * 1000))


def _validate_instance_type(config: FakeEndpointConfig, instance_type: str) -> None:
    if instance_type not in hosting_instance_types():
        raise ValidationError(
            message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
            "Member must satisfy enum value set"
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _arn(backend: SageMakerModelBackend, kind: str, name: str) -> str:
    region, account = backend.region_name, backend.account_id
    return f"arn:{backend.partition}:sagemaker:{region}:{account}:{kind}/{name}"


def _refuse_existing(
    existing: dict[str, Any], name: str, kind: str, backend: SageMakerModelBackend
) -> None:
    if name in existing:
        arn = _arn(backend, kind, name)
        # AWS's noun for an ``endpoint-config`` is "endpoint configuration".
        noun = "endpoint configuration" if kind == "endpoint-config" else kind
        raise ValidationError(message=f'Cannot create already existing {noun} "{arn}".')


def _alarms_firing(backend: SageMakerModelBackend, alarm_names: list[str]) -> str | None:
    """The rollback reason when any of ``alarm_names`` is in ALARM in moto's CloudWatch."""
    alarms = cloudwatch_backends[backend.account_id][backend.region_name].alarms
    firing = [
        name for name in alarm_names if name in alarms and alarms[name].state_value == "ALARM"
    ]
    if not firing:
        return None
    return f"Rolled back: rollback alarm(s) in ALARM during the deployment: {', '.join(firing)}"


def variant_containers(
    backend: SageMakerModelBackend, endpoint: FakeEndpoint
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each production variant of the endpoint with each container of its model, in order."""
    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    pairs = []
    for variant in config.production_variants if config else []:
        model = backend._models.get(variant.get("ModelName", ""))
        for container in [model.primary_container, *model.containers] if model else []:
            if container:
                pairs.append((variant, container))
    return pairs


def _missing_model_data(backend: SageMakerModelBackend, endpoint: FakeEndpoint) -> str | None:
    """SageMaker's failure reason when a model's artifact is not in S3, else None."""
    for _, container in variant_containers(backend, endpoint):
        location = model_data_location(container)
        reason = location and missing_model_data(location, backend.account_id, backend.partition)
        if reason:
            return reason
    return None


__all__ = [
    "EndpointTiming",
    "LocalSageMaker",
    "endpoint_state_change",
    "hosting_instance_types",
    "variant_containers",
]
