"""One model's container on the local runtime: ``python -m maas.serving`` as a subprocess.

Why this exists: moto runs no container behind an endpoint (SageMaker would run the LMI
image on a GPU instance). The local runtime runs the serving package of this checkout, the
same code as the image's entry point, as a child process on a free 127.0.0.1 port. Its
output goes line by line to a log callback, as SageMaker streams a container's output to
CloudWatch Logs; it exits when its standard input closes, so it never outlives this process
even when this one is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from maas.local.jobworker import JOB_THREADS
from maas.manifest import PROJECT_ROOT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path

#: Compute threads of a model server: a share of the cores (see :mod:`maas.local.jobworker`).
SERVER_THREADS = JOB_THREADS
# Requests to 127.0.0.1 must not go through a proxy named in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ModelServer:
    """A running ``maas.serving`` process for one model directory.

    Parameters
    ----------
    model_dir
        The model data, laid out as in ``/opt/ml/model``.
    workdir
        A folder owned by this server; removed by :meth:`stop`.
    environment
        The container's environment (the model's ``Environment``), on top of this process's.
    log
        Called with each line the server writes.
    """

    def __init__(
        self,
        model_dir: Path,
        workdir: Path,
        environment: Mapping[str, str],
        log: Callable[[str], None],
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self._log = log
        command = [
            sys.executable,
            "-m",
            "maas.serving",
            "--model-dir",
            str(model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--exit-with-stdin",
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=PROJECT_ROOT,
            # No network at run time: the Hugging Face libraries must not try to download.
            env={
                # A share of the cores, as a container has its vCPUs, unless told otherwise:
                # the server shares them with evaluator jobs and other servers, and one
                # thread per core in each, waiting on each other, is far slower than fewer.
                "OMP_NUM_THREADS": str(SERVER_THREADS),
                **os.environ,
                **environment,
                "PYTHONUNBUFFERED": "1",
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            },
        )
        self._reader = threading.Thread(target=self._read_output, name="model-server-log")
        self._reader.daemon = True
        self._reader.start()

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.process.pid

    def wait_until_healthy(self, timeout: float, cancelled: threading.Event) -> str | None:
        """Poll ``/ping`` until it answers 200; else why not (exit, timeout, cancellation)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return f"the server exited with code {code}"
            # Not listening yet, or 503 while the model loads (URLError is an OSError).
            with (
                contextlib.suppress(OSError),
                _DIRECT.open(f"{self.url}/ping", timeout=1) as answer,
            ):
                if answer.status == 200:
                    return None
            if cancelled.wait(0.1):
                return "the local runtime stopped"
        return f"/ping did not answer 200 within {timeout:g}s"

    def invoke(
        self, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, dict[str, str], bytes]:
        """POST ``/invocations``: the answer's status, headers (lower-case names) and body.

        Raises
        ------
        TimeoutError
            No answer within ``timeout`` seconds.
        OSError
            The server could not be reached.
        """
        request = urllib.request.Request(
            f"{self.url}/invocations", data=body, headers=dict(headers), method="POST"
        )
        try:
            with _DIRECT.open(request, timeout=timeout) as answer:
                return answer.status, _lower(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers.items()), error.read()
        except urllib.error.URLError as error:
            reason = error.reason
            raise reason if isinstance(reason, OSError) else OSError(str(reason)) from None

    def invoke_stream(
        self, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> tuple[int, dict[str, str], Iterator[bytes]]:
        """POST ``/invocations`` and read the answer as it comes: status, headers, chunks.

        ``timeout`` bounds the wait for the answer's head and then for each read. Closing the
        iterator closes the connection, which the server takes as the client gone.

        Raises
        ------
        TimeoutError, OSError
            As :meth:`invoke`, for the answer's head; the iterator raises them for the body.
        """
        request = urllib.request.Request(
            f"{self.url}/invocations", data=body, headers=dict(headers), method="POST"
        )
        try:
            answer = _DIRECT.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers.items()), iter([error.read()])
        except urllib.error.URLError as error:
            reason = error.reason
            raise reason if isinstance(reason, OSError) else OSError(str(reason)) from None

        def chunks() -> Iterator[bytes]:
            with answer:
                while chunk := answer.read1(65536):
                    yield chunk

        return answer.status, _lower(answer.headers.items()), chunks()

    def stop(self) -> None:
        """Stop the process, wait for its last output, and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdin:
            self.process.stdin.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._log(line.rstrip("\n"))
        self.process.stdout.close()


def _lower(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


__all__ = ["SERVER_THREADS", "ModelServer", "free_port"]
