"""A read-only web console of the workflows, executions, endpoints and models.

``maas local up`` serves it at ``/console`` on the local API's port; ``maas console`` serves
it alone against AWS. One module per concern: :mod:`~maas.console.graph` (a definition as a
graph), :mod:`~maas.console.layout` (where each state goes), :mod:`~maas.console.svg` (the
drawing), :mod:`~maas.console.data` (what is read, through public AWS APIs only),
:mod:`~maas.console.pages` (the HTML) and :mod:`~maas.console.app` (routes and serving).
See docs/console.md.
"""

from maas.console.app import (
    ConsoleApp,
    ConsoleResponse,
    ServedConsole,
    aws_console,
    gateway_mount,
    local_console,
    serve,
)
from maas.console.data import ConsoleData, ExecutionFilters

__all__ = [
    "ConsoleApp",
    "ConsoleData",
    "ConsoleResponse",
    "ExecutionFilters",
    "ServedConsole",
    "aws_console",
    "gateway_mount",
    "local_console",
    "serve",
]
