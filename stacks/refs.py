"""This world's answer to the manifest's :class:`~maas.manifest.Ref` s: CDK tokens.

The stacks register each resource under the ``Ref`` that names it as they build it; a
function's environment and a state machine's substitutions are then resolved from the
register, so every value in them comes from the manifest and none is typed twice.

Examples
--------
>>> from maas.manifest import table_name, setting
>>> refs = RefResolver(settings={"endpoint_poll_seconds": "30"})
>>> refs.register(table_name("EndpointsTable"), "endpoints-table")
>>> environment = {"TABLE": table_name("EndpointsTable"), "POLL": setting("endpoint_poll_seconds")}
>>> refs.resolve_all(environment)
{'TABLE': 'endpoints-table', 'POLL': '30'}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.manifest import Ref, RefKind

if TYPE_CHECKING:
    from collections.abc import Mapping


class UnresolvedRefError(LookupError):
    """A ``Ref`` was asked for before the resource it names was built, or names nothing."""


class RefResolver:
    """Maps each manifest ``Ref`` to the token (ARN, name) of the resource built for it.

    Parameters
    ----------
    settings
        The stage's setting values, by name: ``setting`` refs resolve to these.
    """

    def __init__(self, settings: Mapping[str, str]) -> None:
        self._settings = dict(settings)
        self._values: dict[Ref, str] = {}

    def register(self, ref: Ref, value: str) -> None:
        """Record ``value`` as what ``ref`` resolves to; each ``Ref`` is registered once."""
        if ref.kind is RefKind.SETTING:
            raise ValueError(f"settings come from the stage configuration, not from {ref}")
        if ref in self._values:
            raise ValueError(f"{ref.kind.value} {ref.target!r} is already registered")
        self._values[ref] = value

    def resolve(self, value: Ref | str) -> str:
        """The token for ``value``; a plain string stands for itself."""
        if isinstance(value, str):
            return value
        if value.kind is RefKind.SETTING:
            if value.target not in self._settings:
                raise UnresolvedRefError(f"setting {value.target!r} has no value in this stage")
            return self._settings[value.target]
        if value not in self._values:
            raise UnresolvedRefError(
                f"{value.kind.value} {value.target!r} is not built yet: build it before "
                "whatever refers to it"
            )
        return self._values[value]

    def resolve_all(self, values: Mapping[str, Ref | str]) -> dict[str, str]:
        """Resolve every value of a mapping (an environment, a set of substitutions)."""
        return {name: self.resolve(value) for name, value in values.items()}


__all__ = ["RefResolver", "UnresolvedRefError"]
