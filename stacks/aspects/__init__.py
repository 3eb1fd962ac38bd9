"""Cross-cutting rules applied to the whole app."""

from stacks.aspects.observability import ObservabilityChecks

__all__ = ["ObservabilityChecks"]
