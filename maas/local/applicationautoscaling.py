"""Application Auto Scaling on the local runtime: AWS's error for a missing scalable target.

Why this exists: ``DeregisterScalableTarget`` of a target that does not exist raises
``ObjectNotFoundException`` on AWS (the API reference lists it); moto raises a
``ValidationException``. Teardown and compensation treat "not found" as "already done", so
they must see the error AWS sends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.core.exceptions import JsonRESTError

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack


class ObjectNotFoundException(JsonRESTError):
    """The error AWS returns for an unknown scalable target or policy."""

    def __init__(self, message: str) -> None:
        super().__init__("ObjectNotFoundException", message)


def install(stack: ExitStack) -> None:
    """Patch moto's Application Auto Scaling backend until ``stack`` closes."""
    original: Callable[..., Any] = ApplicationAutoscalingBackend.deregister_scalable_target

    def deregister_scalable_target(
        backend: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str
    ) -> None:
        if not backend._scalable_target_exists(r_id, dimension):
            raise ObjectNotFoundException(
                f"No scalable target found for service namespace: {namespace}, "
                f"resource ID: {r_id}, scalable dimension: {dimension}"
            )
        original(backend, namespace, r_id, dimension)

    stack.enter_context(
        replace(
            ApplicationAutoscalingBackend, "deregister_scalable_target", deregister_scalable_target
        )
    )


__all__ = ["ObjectNotFoundException", "install"]
