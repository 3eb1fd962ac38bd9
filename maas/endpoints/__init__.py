"""Endpoints: plan a deployment, keep the registry of records, compensate a failed one."""

from maas.endpoints.cleanup import CleanupReport, DeploymentCleaner
from maas.endpoints.plan import DeploymentPlan, plan_deployment
from maas.endpoints.records import ALLOWED_TRANSITIONS, EndpointRegistry

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CleanupReport",
    "DeploymentCleaner",
    "DeploymentPlan",
    "EndpointRegistry",
    "plan_deployment",
]
