"""Packaged models for the serving tests: a tiny random Llama with SmolLM2's tokenizer.

The model has SmolLM2's vocabulary and chat template but two layers of 64 units and random
weights: it loads and generates in a fraction of a second and writes gibberish, which is
all a contract test needs. The tokenizer comes from the demo model's GGUF file (no network);
reading it takes a while, so it is converted once and kept in pytest's cache.

The fixtures here are the root conftest's (``tests/conftest.py``), one of each per worker: a
module that imports one defines its own copy, built again for that module alone.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from maas.local import LocalRuntime
from maas.local.demo_model import demo_model_path
from tests.api.served import ServedApi, serve
from tests.workflows.conftest import FAST

#: serving.properties as the packager writes it for the tiny model.
TINY_SERVING_PROPERTIES = (
    "engine=Python\n"
    "option.rolling_batch=vllm\n"
    "option.max_rolling_batch_size=4\n"
    "option.max_model_len=256\n"
    "option.dtype=bf16\n"
    "option.tensor_parallel_degree=1\n"
)


#: Changes whenever :func:`save_tiny_llama` builds something else, so caches are rebuilt.
TINY_RECIPE = "1"


def smollm2_tokenizer(cache: Path) -> Path:
    """A folder with SmolLM2's tokenizer files, converted from the GGUF file once per cache."""
    gguf = demo_model_path()
    folder = cache / f"smollm2-tokenizer-{gguf.stat().st_size}"
    if (folder / "tokenizer.json").is_file():
        return folder
    from transformers import AutoTokenizer

    staging = Path(tempfile.mkdtemp(dir=cache))
    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(staging)
    try:
        staging.rename(folder)
    except OSError:  # another worker got there first
        shutil.rmtree(staging)
    return folder


def tiny_llama(cache: Path) -> Path:
    """A packaged tiny Llama, built once per cache (its weights are seeded: always the same).

    Workers that share the cache take turns: one builds (seconds of CPU: torch, the GGUF
    tokenizer), the others wait for it and find it built, rather than each building its own.
    """
    folder = cache / f"tiny-llama-{TINY_RECIPE}"
    if (folder / "serving.properties").is_file():
        return folder
    with (cache / f".tiny-llama-{TINY_RECIPE}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if (folder / "serving.properties").is_file():
            return folder
        staging = Path(tempfile.mkdtemp(dir=cache))
        save_tiny_llama(staging, smollm2_tokenizer(cache))
        try:
            staging.rename(folder)
        except OSError:  # another process, without the lock, got there first
            shutil.rmtree(staging)
    return folder


def save_tiny_llama(
    directory: Path, tokenizer: Path, serving_properties: str = TINY_SERVING_PROPERTIES
) -> Path:
    """Write a packaged tiny Llama into ``directory``: weights, config, tokenizer, properties."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    loaded = AutoTokenizer.from_pretrained(tokenizer)
    config = LlamaConfig(
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        vocab_size=49152,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=loaded.bos_token_id,
        eos_token_id=loaded.eos_token_id,
        pad_token_id=loaded.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(directory)
    loaded.save_pretrained(directory)
    (directory / "serving.properties").write_text(serving_properties, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A packaged tiny Llama (``max_model_len`` 256, batches of up to 4 sequences).

    Built once per pytest cache, so that a test process need not import torch to get it
    (without the cache: once per run, in the folder the run's workers share); each worker
    gets its own copy.
    """
    cache = getattr(pytestconfig, "cache", None)
    built = tiny_llama(cache.mkdir("maas-serving") if cache else _run_folder(tmp_path_factory))
    return Path(shutil.copytree(built, tmp_path_factory.mktemp("tiny") / "model"))


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run's: shared by its xdist workers (their temporary folders' parent)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "maas-serving"
    folder.mkdir(exist_ok=True)
    return folder


#: The local runtime serving the models it deploys: the workflows' quick timers, and two
#: minutes for a model server to load on a busy machine.
SERVING = FAST.model_copy(update={"serve_models": True, "model_server_startup_seconds": 120})


class _SharedServing:
    """The model-serving runtime and its API, started for the first module that asks for
    them and kept for the next ones, until :meth:`stop`.

    A process runs one :class:`LocalRuntime` at a time, so this one cannot live for the whole
    session: ``tests/conftest.py`` stops it as soon as the next test does not use it.
    """

    def __init__(self) -> None:
        self._runtime: LocalRuntime | None = None
        self._api: ServedApi | None = None

    def runtime(self) -> LocalRuntime:
        if self._runtime is None:
            self._runtime = LocalRuntime(SERVING).start()
        return self._runtime

    def api(self, state_dir: Path) -> ServedApi:
        if self._api is None:
            self._api = serve(self.runtime(), state_dir)
        return self._api

    def stop(self) -> None:
        if self._runtime is not None:
            self._runtime.stop()  # the served API with it
        self._runtime, self._api = None, None


_SHARED = _SharedServing()


def stop_serving() -> None:
    """Stop the shared model-serving runtime, if it runs (a later module starts it again)."""
    _SHARED.stop()


@pytest.fixture(scope="module")
def serving_runtime() -> LocalRuntime:
    """One local runtime that serves models, for the modules that deploy the tiny model.

    Starting a runtime, and warming what a function keeps loaded (the embedder, the guardrail
    engine), cost seconds of CPU each; the modules sharing this runtime run one after another
    on one worker (:data:`tests.conftest.SERVED_MODULES`) and keep apart by names of their
    own: their own endpoints and models, and their own tenant where a test sees all of a
    tenant's endpoints.
    """
    return _SHARED.runtime()


@pytest.fixture(scope="session")
def serving_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The state directory whose key signs the tokens :func:`serving_api` accepts."""
    return tmp_path_factory.mktemp("serving-state")


@pytest.fixture(scope="module")
def serving_api(serving_runtime: LocalRuntime, serving_state_dir: Path) -> ServedApi:
    """:func:`serving_runtime`'s API over HTTP (a runtime serves it once), with acme's token;
    :func:`tests.api.served.served_as` gives another tenant's."""
    return _SHARED.api(serving_state_dir)
