"""Instance metrics on the local runtime: what SageMaker reports about an endpoint's instances.

Why this exists: on AWS, SageMaker reports an endpoint's requests in flight
(``ConcurrentRequestsPerModel``, in ``AWS/SageMaker``, every 10 seconds) and an agent on each
instance reports its utilization under ``/aws/sagemaker/Endpoints``; moto reports nothing, so
``maas endpoints top`` and any alarm on these figures would see no data locally. This
adapter reports them for every endpoint that is ``InService`` with a local inference server
behind it (:mod:`maas.local.inference`), every ``LocalSettings.instance_metrics_seconds``, with
the dimensions ``EndpointName`` and ``VariantName``:

- ``ConcurrentRequestsPerModel``: the most requests in flight at once since the last report
  (a request shorter than the interval still counts);
- ``CPUUtilization``: the server process's (and its children's) CPU since the last report,
  summed over cores as SageMaker does (200 is two busy cores). Not reported on an endpoint's
  first report, which only starts the measurement;
- ``MemoryUtilization``: the server processes' resident memory, in percent of this host's;
- ``DiskUtilization``: the use of the file system that holds the endpoint's model data;
- ``GPUUtilization`` and ``GPUMemoryUtilization``: only where ``nvidia-smi`` answers, summed
  over the host's GPUs. Without a GPU nothing is reported (no zeros that would read as an idle
  GPU), and the endpoint's log stream says so once.

:meth:`LocalInstanceMetrics.report` can be called directly, as a test does.

Not emulated: the server stands for all the variant's instances, so the figures are one
instance's, not an average over ``CurrentInstanceCount``; the GPU figures are the whole
device's (every process on it), not the container's; ``OverheadLatency`` and
``InvocationsPerInstance`` are not reported.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psutil
from moto.cloudwatch.models import cloudwatch_backends

from maas.observability.catalogue import ENDPOINT_METRICS

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

    from maas.local.inference import LocalInference, ServedEndpoint

logger = logging.getLogger(__name__)

#: What the endpoint's log stream says when no GPU figure can be reported.
NO_GPU = (
    "No GPU on this host (nvidia-smi is absent or failed): GPUUtilization and "
    "GPUMemoryUtilization are not reported."
)


def gpu_utilization() -> tuple[float, float] | None:
    """``(GPUUtilization, GPUMemoryUtilization)`` summed over this host's GPUs, or None.

    None when there is no GPU: ``nvidia-smi`` is not installed, fails, or lists none.
    """
    command = shutil.which("nvidia-smi")
    if command is None:
        return None
    try:
        answer = subprocess.run(
            [
                command,
                "--query-gpu=utilization.gpu,memory.used,memory.total",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    compute = memory = 0.0
    gpus = 0
    for line in answer.stdout.splitlines():
        try:
            busy, used, total = (float(part) for part in line.split(","))
        except ValueError:
            continue
        gpus += 1
        compute += busy
        memory += 100 * used / total if total else 0.0
    return (compute, memory) if gpus else None


class LocalInstanceMetrics:
    """Reports the served endpoints' load and utilization to the emulated CloudWatch.

    Parameters
    ----------
    inference
        The servers behind the endpoints.
    account_id, region
        The emulated account.
    interval_seconds
        How often the timer reports.
    write_logs
        Called with ``(log_group, stream, lines)``, to say in an endpoint's log what is not
        reported.
    gpu
        Returns the host's GPU figures, or None without a GPU (:func:`gpu_utilization`).
    """

    def __init__(
        self,
        inference: LocalInference,
        *,
        account_id: str,
        region: str,
        interval_seconds: float,
        write_logs: Callable[[str, str, list[str]], None],
        gpu: Callable[[], tuple[float, float] | None] = gpu_utilization,
    ) -> None:
        self._inference = inference
        self._account_id = account_id
        self._region = region
        self._interval = interval_seconds
        self._write_logs = write_logs
        self._gpu = gpu
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # Server pid -> its measured processes: CPU is measured between two reports.
        self._processes: dict[int, dict[int, psutil.Process]] = {}
        self._told_no_gpu: set[str] = set()

    def install(self, stack: ExitStack) -> None:
        """Report on a timer until ``stack`` closes."""
        self._stopping.clear()
        timer = threading.Thread(target=self._run, name="instance-metrics", daemon=True)
        timer.start()
        stack.callback(self._stop, timer)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self.report()
            except Exception:  # the timer must outlive one bad report
                logger.exception("local instance metrics report failed")

    def _stop(self, timer: threading.Thread) -> None:
        self._stopping.set()
        timer.join(timeout=5)

    def report(self) -> dict[str, dict[str, float]]:
        """Put each in-service endpoint's figures now; return them, by endpoint and metric."""
        reported: dict[str, dict[str, float]] = {}
        with self._lock:
            served = [
                each
                for each in self._inference.served_endpoints()
                if each.endpoint.endpoint_status == "InService"
            ]
            self._forget_stopped({each.server.pid for each in served})
            gpu = self._gpu() if served else None
            for each in served:
                figures = self._measure(each, gpu)
                self._put(each, figures)
                reported[each.endpoint.endpoint_name] = figures
        return reported

    def _measure(self, served: ServedEndpoint, gpu: tuple[float, float] | None) -> dict[str, float]:
        figures = {"ConcurrentRequestsPerModel": float(served.in_flight.take_peak())}
        known = self._processes.setdefault(served.server.pid, {})
        try:
            root = known.get(served.server.pid) or psutil.Process(served.server.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return figures  # the server just exited: its endpoint is going
        # The server's first report only starts the measurement (so does a new child's).
        measured = served.server.pid in known
        cpu = memory = 0.0
        for process in tree:
            try:
                if process.pid in known:
                    cpu += process.cpu_percent(None)
                else:
                    known[process.pid] = process
                    process.cpu_percent(None)
                memory += process.memory_percent()
            except psutil.Error:
                continue  # a child that exited meanwhile
        if measured:
            figures["CPUUtilization"] = cpu
        figures["MemoryUtilization"] = memory
        with contextlib.suppress(OSError):  # the folder goes with a stopping server
            figures["DiskUtilization"] = psutil.disk_usage(str(served.server.workdir)).percent
        if gpu is None:
            name = served.endpoint.endpoint_name
            if name not in self._told_no_gpu:
                self._told_no_gpu.add(name)
                self._write_logs(served.log_group, served.log_stream, [NO_GPU])
        else:
            figures["GPUUtilization"], figures["GPUMemoryUtilization"] = gpu
        return figures

    def _forget_stopped(self, running: set[int]) -> None:
        for pid in set(self._processes) - running:
            del self._processes[pid]

    def _put(self, served: ServedEndpoint, figures: dict[str, float]) -> None:
        dimensions = [
            {"Name": "EndpointName", "Value": served.endpoint.endpoint_name},
            {"Name": "VariantName", "Value": served.variant},
        ]
        # moto keeps metric timestamps naive, in UTC, as its request layer parses them.
        now = datetime.now(UTC).replace(tzinfo=None)
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for name, value in figures.items():
            metric = ENDPOINT_METRICS[name]
            by_namespace.setdefault(metric.namespace, []).append(
                {
                    "MetricName": name,
                    "Value": value,
                    "Unit": metric.unit,
                    "Dimensions": dimensions,
                    "Timestamp": now,
                }
            )
        backend = cloudwatch_backends[self._account_id][self._region]
        for namespace, metrics in by_namespace.items():
            backend.put_metric_data(namespace, metrics)


__all__ = ["NO_GPU", "LocalInstanceMetrics", "gpu_utilization"]
