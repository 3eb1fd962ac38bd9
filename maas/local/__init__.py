"""The local runtime: the control plane on an in-process emulation of AWS (moto).

One module per emulated service, each an adapter that fills a gap between moto and AWS and
says why it exists: ``awslambda`` (real handlers, in-process), ``stepfunctions`` (execution
names, integration casing, error names, JSONata), ``batch`` (jobs as subprocesses),
``sagemaker`` (endpoints that take time and can fail), ``inference`` (a model server behind
each endpoint, with ``modeldata`` and ``modelserver``), ``events`` (rules that deliver to
state machines and functions), plus ``environ`` (per-invocation environments), ``provision``
(the manifest's resources) and ``runtime`` (all of it together).
"""

from maas.local.runtime import LocalRuntime
from maas.local.settings import LocalSettings

__all__ = ["LocalRuntime", "LocalSettings"]
