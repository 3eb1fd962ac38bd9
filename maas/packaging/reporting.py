"""How the packaging job tells the world what it is doing: stages, bytes, and failure.

A job reports to a :class:`Reporter`: the registry's (the version's record in DynamoDB,
which people watch during a long download) when the job runs in the control plane, or
:class:`LogReporter` when it runs alone. :class:`Progress` sits between the job and its
reporter: it throttles byte counts, which arrive for every chunk of every file, to one
report per interval, and prints each report as a line on stdout, which Batch sends to the
job's CloudWatch Logs stream.

Examples
--------
>>> reported = []
>>> class Collect:
...     def progress(self, progress): reported.append(progress)
...     def failed(self, error, cause): reported.append((error, cause))
>>> progress = Progress(Collect(), interval=60.0)
>>> progress.stage(Stage.DOWNLOADING, total_bytes=2_000_000)
downloading  0 B of 2.0 MB (0%)
>>> progress.advance(500_000)  # within the interval: not reported
>>> progress.advance(1_500_000)  # the stage's total reached: reported
downloading  2.0 MB of 2.0 MB (100%)
>>> progress.stage(Stage.DONE)
done
>>> [(p.stage, p.done_bytes) for p in reported]
[('downloading', 0), ('downloading', 2000000), ('done', 0)]
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from maas.packaging.files import format_size
from schemas.packaging import VersionProgress

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


class Stage(StrEnum):
    """The stages of a packaging job, in the order it passes them."""

    RESOLVING = "resolving"
    DOWNLOADING = "downloading"
    CONVERTING = "converting"
    #: A version made from a parent version (maas.quantization): quantizing and measuring.
    QUANTIZING = "quantizing"
    SIZING = "sizing"
    UPLOADING = "uploading"
    DONE = "done"


class Reporter(Protocol):
    """Where a packaging job's progress and failure go."""

    def progress(self, progress: VersionProgress) -> None:
        """Record what the job is doing now."""

    def failed(self, error: str, cause: str) -> None:
        """Record why the job failed: a ``Maas.*`` error name and a person's explanation."""


class LogReporter:
    """A reporter for a job with no registry to write to: everything goes to the log.

    Progress is logged at DEBUG: :class:`Progress` prints every report on stdout already.
    """

    def progress(self, progress: VersionProgress) -> None:
        """Log the progress at DEBUG."""
        logger.debug("packaging progress: %s", progress.model_dump_json(exclude_none=True))

    def failed(self, error: str, cause: str) -> None:
        """Log the failure at ERROR."""
        logger.error("packaging failed: %s: %s", error, cause)


def describe(progress: VersionProgress) -> str:
    """One line for a person.

    Examples
    --------
    >>> describe(VersionProgress(stage="uploading", done_bytes=3_500_000, total_bytes=7_000_000))
    'uploading  3.5 MB of 7.0 MB (50%)'
    >>> describe(VersionProgress(stage="resolving", message="acme/model at main"))
    'resolving  acme/model at main'
    """
    parts = [progress.stage]
    if progress.total_bytes is not None:
        share = progress.done_bytes / progress.total_bytes if progress.total_bytes else 1.0
        parts.append(
            f"{format_size(progress.done_bytes)} of {format_size(progress.total_bytes)} "
            f"({share:.0%})"
        )
    if progress.message:
        parts.append(progress.message)
    return "  ".join(parts)


class Progress:
    """The job's current stage and byte count, reported at most once per ``interval``.

    Stage changes are always reported; byte counts within a stage when ``interval`` seconds
    passed since the last report, or when they reach the stage's total. Safe to call from
    several threads (transfers report from their worker threads). Every report is also
    printed on stdout.

    Parameters
    ----------
    reporter
        Where reports go.
    interval
        Least seconds between two reports of the same stage.
    clock
        Seconds, monotonic (a test's clock).
    """

    def __init__(
        self,
        reporter: Reporter,
        *,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reporter = reporter
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._current = VersionProgress(stage=Stage.RESOLVING.value)
        self._reported_at = float("-inf")

    @property
    def current(self) -> VersionProgress:
        """What the job is doing now, reported or not."""
        return self._current

    def stage(
        self, stage: Stage, *, total_bytes: int | None = None, message: str | None = None
    ) -> None:
        """Enter ``stage`` (with the bytes it will move, if it moves any) and report it."""
        with self._lock:
            self._current = VersionProgress(
                stage=stage.value, total_bytes=total_bytes, message=message
            )
            self._report()

    def update(self, done_bytes: int) -> None:
        """Set the bytes done in this stage."""
        with self._lock:
            self._set_done(done_bytes)

    def advance(self, done_bytes: int) -> None:
        """Add ``done_bytes`` to the bytes done in this stage (a transfer's callback)."""
        with self._lock:
            self._set_done(self._current.done_bytes + done_bytes)

    def failed(self, error: str, cause: str) -> None:
        """Report the job's failure."""
        print(f"failed  {error}: {cause}", file=sys.stdout, flush=True)
        try:
            self._reporter.failed(error, cause)
        except Exception:
            # The job's exit code still fails it; the workflow then reports the Batch failure.
            logger.exception("could not record the failure")

    def _set_done(self, done_bytes: int) -> None:
        before = self._current.done_bytes
        if done_bytes == before:
            return
        self._current = self._current.model_copy(update={"done_bytes": done_bytes})
        total = self._current.total_bytes
        finished = total is not None and before < total <= done_bytes
        if finished or self._clock() - self._reported_at >= self._interval:
            self._report()

    def _report(self) -> None:
        self._reported_at = self._clock()
        print(describe(self._current), file=sys.stdout, flush=True)
        try:
            self._reporter.progress(self._current)
        except Exception:
            # Progress is for people watching; a lost update must not fail the packaging.
            logger.warning("could not record progress", exc_info=True)


__all__ = ["LogReporter", "Progress", "Reporter", "Stage", "describe"]
