"""What the ``maas`` command's exit status means, so that scripts can tell outcomes apart."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The ``maas`` command's exit statuses."""

    #: It did what was asked.
    OK = 0
    #: It ran and the operation failed: a workflow failed, a gate was not met.
    FAILED = 1
    #: The command line was wrong (Typer's own status for a bad option).
    USAGE = 2
    #: What was named does not exist (or belongs to another tenant).
    NOT_FOUND = 3
    #: The resource is not in a state that allows the operation.
    CONFLICT = 4
    #: The service rejected the request as invalid.
    INVALID = 5
    #: The service could not be reached, or kept failing after retries.
    UNAVAILABLE = 6
