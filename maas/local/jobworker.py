"""A warm Python for the local runtime's Batch jobs: imports once, forks a child per job.

Why this exists: a job's command is ``python -m <entrypoint>``, and an evaluator or packager
job spends its first seconds importing torch, transformers and ragas, on every job (each
shard of an evaluation is one). On AWS each job is a container of its own and pays that once
per container; locally the jobs share two cores with the model server, and the imports were
a large part of an evaluation. The worker is a process that has imported those modules; for
each job it forks a child, which takes the job's environment, working folder and arguments,
sends its output to a file, and runs the entrypoint as ``python -m`` would
(:func:`runpy.run_module` as ``__main__``). The job's code cannot tell: it sees its own
environment and arguments, and its exit code is the job's.

Only imports are done before the fork, never any work: no client is created, no model loaded
and no thread started (a thread pool does not survive a fork), so nothing a job reads from its
environment was read before. Each child also runs its compute on a share of the cores
(:data:`JOB_THREADS`), as a container gets its vCPUs, rather than one thread per core for each
of several jobs and the model server at once, which on two cores spends more time switching
than computing.

There is a worker per entrypoint that :data:`PRELOADS` names (the evaluator's), started by
its first job, which waits for it: the job would have imported the same modules itself, and
the jobs after it (an evaluation's other shards, the next evaluation) import nothing. Other
commands run as plain subprocesses. A worker exits when the runtime closes its standard
input, and its children (the running jobs) with it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: For each job entrypoint, what its jobs import: the entrypoint and the heavy libraries it
#: imports as it runs. One that is not installed (an extra left out) is skipped. The packager
#: is left to import its own: a packaging job is one per lifecycle, and its worker would only
#: move its imports, not save them.
PRELOADS: dict[str, tuple[str, ...]] = {
    "containers.evaluator.entrypoint": (
        "torch",
        "transformers",
        "transformers.models.llama.modeling_llama",
        "sentence_transformers",
        "ragas.metrics",
        "ragas.metrics.collections",
        "llguidance.hf",
        "containers.evaluator.entrypoint",
        "maas.evaluation.shard",
        "maas.evaluation.judges.local",
    ),
}
#: Compute threads per job: a share of the cores, as a container has its vCPUs.
JOB_THREADS = max(1, (os.cpu_count() or 2) // 2)
#: How long a job waits for its worker to import before it runs as a subprocess instead.
READY_SECONDS = 300.0
_READY = "ready"


class _WorkerGone(Exception):
    """The worker did not take the job (it exited): the job runs as a subprocess instead."""


class JobWorkers:
    """Runs each job command: in a warm worker where :data:`PRELOADS` names its entrypoint,
    else as a subprocess.

    Parameters
    ----------
    cwd
        The folder workers start in (the checkout, for ``containers.*``).
    preloads
        For each entrypoint served warm, the modules its worker imports.
    """

    def __init__(self, cwd: Path, preloads: Mapping[str, Sequence[str]] = PRELOADS) -> None:
        self._cwd = cwd
        self._preloads = dict(preloads)
        self._workers: dict[str, JobWorker] = {}
        self._lock = threading.Lock()

    def run(
        self, command: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float | None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` to its end, as :func:`subprocess.run` with ``capture_output``.

        Raises
        ------
        subprocess.TimeoutExpired
            The job ran past ``timeout`` seconds (it is killed).
        OSError
            The command could not be started.
        """
        module = _module_of(command)
        if module in self._preloads:
            with self._lock:
                if module not in self._workers:
                    self._workers[module] = JobWorker(self._cwd, self._preloads[module])
                worker = self._workers[module]
            return worker.run(command, env=env, cwd=cwd, timeout=timeout)
        return _run_process(command, env=env, cwd=cwd, timeout=timeout)

    def close(self) -> None:
        """Stop every worker and the jobs they run."""
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.close()


class JobWorker:
    """One warm process that runs ``python -m`` job commands in forked children.

    Parameters
    ----------
    cwd
        The folder the worker starts in (the checkout, for ``containers.*``).
    preload
        The modules to import before forking.
    """

    def __init__(self, cwd: Path, preload: Sequence[str]) -> None:
        self._cwd = cwd
        self._preload = tuple(preload)
        self._folder = Path()
        self._process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._settled = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker in the background (once)."""
        with self._lock:
            if self._process is not None:
                return
            self._folder = Path(tempfile.mkdtemp(prefix="maas-jobs-"))
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "maas.local.jobworker",
                    str(self._folder / "worker.sock"),
                    ",".join(self._preload),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=self._cwd,
                text=True,
                # A process group of its own: closing it ends every job it started, and
                # nothing else.
                start_new_session=True,
            )
        threading.Thread(target=self._wait_ready, name="job-worker-ready", daemon=True).start()

    def _wait_ready(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        if self._process.stdout.readline().strip() == _READY:
            self._ready.set()
        self._settled.set()

    def run(
        self, command: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float | None
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``python -m`` ``command`` in a child of the worker (started, and waited
        for, on the first job); as a subprocess where the worker cannot take it.

        Raises
        ------
        subprocess.TimeoutExpired
            The job ran past ``timeout`` seconds (it is killed).
        OSError
            The command could not be started.
        """
        module = _module_of(command)
        if module is not None:
            self.start()
            # The job would import the same modules itself: waiting for them costs nothing.
            self._settled.wait(READY_SECONDS)
        if module is not None and self._ready.is_set():
            try:
                return self._run_forked(command, module, env=env, cwd=cwd, timeout=timeout)
            except _WorkerGone:
                self._ready.clear()
        return _run_process(command, env=env, cwd=cwd, timeout=timeout)

    def _run_forked(
        self,
        command: list[str],
        module: str,
        *,
        env: Mapping[str, str],
        cwd: Path,
        timeout: float | None,
    ) -> subprocess.CompletedProcess[str]:
        with tempfile.NamedTemporaryFile(dir=self._folder, suffix=".log", delete=False) as log:
            output = Path(log.name)
        request = {
            "module": module,
            "argv": command[3:],
            "env": dict(env),
            "cwd": str(cwd),
            "output": str(output),
        }
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                try:
                    connection.connect(str(self._folder / "worker.sock"))
                    connection.sendall(json.dumps(request).encode() + b"\n")
                    answers = connection.makefile("r", encoding="utf-8")
                    pid = int(json.loads(answers.readline())["pid"])
                except (OSError, ValueError) as exc:
                    raise _WorkerGone from exc
                connection.settimeout(timeout)
                try:
                    line = answers.readline()
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    raise subprocess.TimeoutExpired(command, timeout or 0) from None
            # A child that died without saying (killed, crashed) reads as killed.
            code = int(json.loads(line)["returncode"]) if line else -signal.SIGKILL
            text = output.read_text(encoding="utf-8", errors="replace")
        finally:
            output.unlink(missing_ok=True)
        return subprocess.CompletedProcess(command, code, stdout=text, stderr="")

    def close(self) -> None:
        """Stop the worker and the jobs it runs."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._ready.clear()
        self._settled.set()
        shutil.rmtree(self._folder, ignore_errors=True)


def _run_process(
    command: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _module_of(command: Sequence[str]) -> str | None:
    """The module of ``[python, "-m", module, ...]`` when ``python`` is this interpreter.

    Examples
    --------
    >>> _module_of([sys.executable, "-m", "containers.evaluator.entrypoint"])
    'containers.evaluator.entrypoint'
    >>> _module_of(["/bin/echo", "-m", "x"]) is None
    True
    """
    if len(command) >= 3 and command[0] == sys.executable and command[1] == "-m":
        return command[2]
    return None


# The worker's side: ``python -m maas.local.jobworker SOCKET MODULES``.


def _serve(socket_path: str, modules: Sequence[str]) -> None:
    """Import ``modules``, then fork a child per request until standard input closes."""
    for name in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    torch = sys.modules.get("torch")
    if torch is not None:
        # Before any work, so no thread pool exists yet to be lost in a fork.
        torch.set_num_threads(JOB_THREADS)
    # Children are reaped by the kernel: the runtime learns each one's end from the child.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(16)
    print(_READY, flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, data="job")
    selector.register(sys.stdin, selectors.EVENT_READ, data="stdin")
    try:
        while True:
            for key, _ in selector.select():
                if key.data == "stdin":
                    if not sys.stdin.readline():
                        return
                    continue
                connection, _ = listener.accept()
                request = json.loads(connection.makefile("r", encoding="utf-8").readline())
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    _run_child(connection, request)
                connection.close()
    finally:
        listener.close()
        # The jobs still running are this group's other members (the worker is its leader).
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.killpg(os.getpgid(0), signal.SIGTERM)


def _run_child(connection: socket.socket, request: dict[str, Any]) -> None:
    """In the forked child: become the job, run its entrypoint, say its exit code, exit."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 1
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        sys.argv = [request["module"], *request["argv"]]
        try:
            runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exit_:
            code = _exit_code(exit_.code)
    except BaseException:  # the job's own failure, as a fresh interpreter would print it
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"returncode": code}).encode() + b"\n")
        os._exit(code)


def _exit_code(code: object) -> int:
    """``sys.exit``'s argument as the process's exit code (a message is code 1, printed)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    _serve(sys.argv[1], [name for name in sys.argv[2].split(",") if name])


__all__ = ["JOB_THREADS", "PRELOADS", "JobWorker", "JobWorkers"]
