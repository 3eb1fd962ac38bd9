"""Compensation for a failed deployment: delete what the deployment created, and only that.

A deployment may fail at any step, so this does not know what exists; it tries each
resource in reverse order of creation and treats "not found" as already done. An endpoint is
deleted only when its ``maas:correlation-id`` tag shows this deployment created it: its name
is derived from tenant and user name, but an endpoint of that name made elsewhere (outside
the platform, or by an earlier deployment) must not be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from maas.aws import error_code

if TYPE_CHECKING:
    from maas.endpoints.plan import DeploymentPlan

CORRELATION_TAG = "maas:correlation-id"


@dataclass
class CleanupReport:
    """What the compensation deleted and what it found already gone or not its own."""

    deleted: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    endpoint_deleting: bool = False


def _is_missing(exc: Exception) -> bool:
    # SageMaker reports an unknown name as ValidationException "Could not find ...";
    # Application Auto Scaling, Scheduler and CloudWatch have their own not-found codes.
    code = error_code(exc)
    if code in ("ObjectNotFoundException", "ResourceNotFoundException", "ResourceNotFound"):
        return True
    message = str(getattr(exc, "response", {}).get("Error", {}).get("Message", ""))
    return code == "ValidationException" and "Could not find" in message


def _is_not_ours(exc: Exception) -> bool:
    # The role may delete only resources tagged maas:tenant; IAM refuses the rest, a resource
    # that no longer exists included (it has no tag to match), with AccessDenied.
    return error_code(exc) in ("AccessDeniedException", "AccessDenied")


class DeploymentCleaner:
    """Deletes a failed deployment's resources with the given boto3 clients."""

    def __init__(
        self, *, sagemaker: Any, autoscaling: Any, scheduler: Any, cloudwatch: Any
    ) -> None:
        self._sagemaker = sagemaker
        self._autoscaling = autoscaling
        self._scheduler = scheduler
        self._cloudwatch = cloudwatch

    def clean(self, plan: DeploymentPlan) -> CleanupReport:
        """Delete, newest first: alarm, schedules, scaling target, endpoint, config, model."""
        report = CleanupReport()
        if plan.idle_alarm is not None:
            self._attempt(
                report,
                f"alarm/{plan.idle_alarm.AlarmName}",
                self._cloudwatch.delete_alarms,
                AlarmNames=[plan.idle_alarm.AlarmName],
            )
        if plan.schedule is not None:
            self._attempt(
                report,
                f"schedule/{plan.schedule.Name}",
                self._scheduler.delete_schedule,
                Name=plan.schedule.Name,
            )
        if plan.hours is not None:
            for schedule in (plan.hours.stop, plan.hours.start):
                self._attempt(
                    report,
                    f"schedule/{schedule.Name}",
                    self._scheduler.delete_schedule,
                    Name=schedule.Name,
                )
        if plan.scaling is not None:
            self._attempt(
                report,
                f"scalable-target/{plan.scaling.ResourceId}",
                self._autoscaling.deregister_scalable_target,
                ServiceNamespace=plan.scaling.ServiceNamespace,
                ResourceId=plan.scaling.ResourceId,
                ScalableDimension=plan.scaling.ScalableDimension,
            )
        self._delete_endpoint_if_ours(report, plan)
        self._attempt(
            report,
            f"endpoint-config/{plan.endpoint_config_name}",
            self._sagemaker.delete_endpoint_config,
            EndpointConfigName=plan.endpoint_config_name,
        )
        self._attempt(
            report,
            f"model/{plan.model_name}",
            self._sagemaker.delete_model,
            ModelName=plan.model_name,
        )
        return report

    def _delete_endpoint_if_ours(self, report: CleanupReport, plan: DeploymentPlan) -> None:
        label = f"endpoint/{plan.sagemaker_endpoint_name}"
        try:
            endpoint = self._sagemaker.describe_endpoint(EndpointName=plan.sagemaker_endpoint_name)
        except Exception as exc:
            if not _is_missing(exc):
                raise
            report.absent.append(label)
            return
        tags = self._sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"]).get("Tags", [])
        owner = next((tag["Value"] for tag in tags if tag["Key"] == CORRELATION_TAG), None)
        if owner != plan.correlation_id:
            report.left_alone.append(label)
            return
        if endpoint["EndpointStatus"] == "Deleting":
            report.endpoint_deleting = True
            report.deleted.append(label)
            return
        if self._attempt(
            report,
            label,
            self._sagemaker.delete_endpoint,
            EndpointName=plan.sagemaker_endpoint_name,
        ):
            report.endpoint_deleting = True

    @staticmethod
    def _attempt(report: CleanupReport, label: str, call: Any, **kwargs: Any) -> bool:
        try:
            call(**kwargs)
        except Exception as exc:
            if _is_not_ours(exc):
                report.left_alone.append(label)
                return False
            if not _is_missing(exc):
                raise
            report.absent.append(label)
            return False
        report.deleted.append(label)
        return True


__all__ = ["CORRELATION_TAG", "CleanupReport", "DeploymentCleaner"]
