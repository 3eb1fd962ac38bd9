"""Each local invocation keeps Powertools' current event and context to itself.

Why this exists: Powertools' event handler keeps the event it is resolving, and the Lambda
context, as class attributes of ``BaseRouter`` (``BaseRouter.current_event = ...`` in
``resolve``), which every router and resolver reads back. On AWS a Lambda execution
environment is a process that serves one invocation at a time ("Lambda execution
environment", https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html),
so that state is the invocation's. Locally every sandbox of the API function runs in one
process, each invocation on its own thread (:mod:`maas.local.awslambda`): two concurrent
requests would read each other's event, the caller's tenant claim included.

:func:`install` makes both attributes per invocation: they are kept in context variables,
which each invocation's thread has its own of, whether set or read on ``BaseRouter``, on a
resolver class or on a resolver or router instance.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

if TYPE_CHECKING:
    from contextlib import ExitStack

#: The class attributes of ``BaseRouter`` that hold one invocation's state.
_PER_INVOCATION = ("current_event", "lambda_context")


class _InvocationAttribute:
    """A data descriptor whose value is the current invocation's (a context variable)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._value: ContextVar[Any] = ContextVar(f"powertools_{name}")

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        try:
            return self._value.get()
        except LookupError:
            raise AttributeError(self._name) from None

    def __set__(self, instance: object, value: Any) -> None:
        self._value.set(value)


def install(stack: ExitStack) -> None:
    """Keep ``BaseRouter``'s per-request attributes per invocation until ``stack`` closes."""
    metaclass = type(BaseRouter)
    if getattr(metaclass, "_maas_per_invocation", False):
        return  # installed by a runtime still running
    attributes = {name: _InvocationAttribute(name) for name in _PER_INVOCATION}
    held = {
        name: BaseRouter.__dict__[name] for name in _PER_INVOCATION if name in BaseRouter.__dict__
    }
    # On the class, for reads through subclasses and instances ...
    for name, attribute in attributes.items():
        type.__setattr__(BaseRouter, name, attribute)
    # ... and on its metaclass, for ``BaseRouter.current_event = ...``, which would otherwise
    # replace the class attribute.
    per_invocation = type(
        "PerInvocationRouterMeta", (metaclass,), {**attributes, "_maas_per_invocation": True}
    )
    setattr(BaseRouter, "__class__", per_invocation)  # noqa: B010 - a class's metaclass

    def restore() -> None:
        setattr(BaseRouter, "__class__", metaclass)  # noqa: B010 - a class's metaclass
        for name in _PER_INVOCATION:
            type.__delattr__(BaseRouter, name)
            if name in held:
                type.__setattr__(BaseRouter, name, held[name])

    stack.callback(restore)


__all__ = ["install"]
