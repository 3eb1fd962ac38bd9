"""Per-invocation environment variables inside one process.

Why this exists: on AWS each Lambda function runs in its own sandbox with its own
environment. The local runtime runs every handler in this process, several at once when a
``Map`` or ``Parallel`` state fans out, so writing ``os.environ`` per invocation would let
one function see another's variables. Instead, ``os.environ`` is replaced (while the runtime
is up) by a mapping that reads a context-local overlay first: each handler thread sees its
own function's environment, and the real process environment underneath.

Only the Python-level view changes: a subprocess started without an explicit ``env`` still
inherits the real process environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar

_overlay: ContextVar[Mapping[str, str] | None] = ContextVar("maas_local_environ", default=None)


class LayeredEnviron(MutableMapping[str, str]):
    """``os.environ`` with a context-local overlay on top; writes go to the process."""

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base

    @property
    def base(self) -> MutableMapping[str, str]:
        """The process environment underneath."""
        return self._base

    def __getitem__(self, key: str) -> str:
        overlay = _overlay.get()
        if overlay is not None and key in overlay:
            return overlay[key]
        return self._base[key]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        # Hot: moto and botocore read settings from the environment on every call, and the
        # Mapping default goes through a KeyError for each missing key.
        overlay = _overlay.get()
        if overlay is not None and key in overlay:
            return overlay[key]
        return self._base.get(key, default)

    def __contains__(self, key: object) -> bool:
        overlay = _overlay.get()
        return (overlay is not None and key in overlay) or key in self._base

    def __setitem__(self, key: str, value: str) -> None:
        self._base[key] = value

    def __delitem__(self, key: str) -> None:
        del self._base[key]

    def __iter__(self) -> Iterator[str]:
        overlay = _overlay.get() or {}
        yield from overlay
        yield from (key for key in self._base if key not in overlay)

    def __len__(self) -> int:
        overlay = _overlay.get() or {}
        return len(overlay) + sum(1 for key in self._base if key not in overlay)

    def copy(self) -> dict[str, str]:
        """A plain dict of what this context sees, as ``os.environ.copy()`` returns."""
        return dict(self)


def install() -> LayeredEnviron:
    """Put a :class:`LayeredEnviron` in place of ``os.environ`` (idempotent)."""
    if isinstance(os.environ, LayeredEnviron):
        return os.environ
    layered = LayeredEnviron(os.environ)
    os.environ = layered  # type: ignore[assignment]  # noqa: B003 - replaced, not cleared
    return layered


def uninstall() -> None:
    """Restore the real ``os.environ``."""
    if isinstance(os.environ, LayeredEnviron):
        os.environ = os.environ.base  # noqa: B003 - restored


@contextmanager
def overlay(variables: Mapping[str, str]) -> Iterator[None]:
    """Within the block, this thread's ``os.environ`` shows ``variables`` over the process's."""
    token = _overlay.set(dict(variables))
    try:
        yield
    finally:
        _overlay.reset(token)


__all__ = ["LayeredEnviron", "install", "overlay", "uninstall"]
