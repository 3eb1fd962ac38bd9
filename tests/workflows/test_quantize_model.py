"""quantize_model on the local runtime, started through the API: a packaged model quantized
W8A16 into a new version with its lineage and measured size and perplexity, served by the
local engine; refusals at the door for another tenant's version, bad settings and a version
that is itself quantized; a job failure leaves a FAILED version and nothing in S3.

The model is the tiny random Llama with SmolLM2's tokenizer (``tests/serving_models``): the
whole path in seconds. What quantization does to SmolLM2 itself (its size, its perplexity,
its answers) is measured in ``tests/unit/quantization`` and ``benchmarks/quantization.py``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.executions import ExecutionSnapshot, wait_for_execution
from maas.registry import ModelRegistry
from schemas.events import ModelQuantizationFailed, ModelQuantized
from schemas.packaging import MANIFEST_FILE, PackageManifest, VersionStatus
from tests.api.caller import ApiCaller, deploy_in_service
from tests.serving_models import tiny_model_dir
from tests.workflows.conftest import FAST, events_of
from tests.workflows.conftest import run as run_workflow
from tests.workflows.test_package_model import objects_under
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from maas.local import LocalRuntime
    from schemas.packaging import ModelVersionRecord

__all__ = ["tiny_model_dir"]

MODEL = "tiny-quantized"
#: The job imports torch and loads the model three times (quantize, two perplexities).
QUANTIZATION_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    from maas.local import LocalRuntime

    settings = FAST.model_copy(update={"serve_models": True, "model_server_startup_seconds": 180})
    with LocalRuntime(settings) as local:
        yield local


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> ApiCaller:
    return ApiCaller(runtime)


@pytest.fixture(scope="module")
def parent(runtime: LocalRuntime, tiny_model_dir: Path) -> ModelVersionRecord:
    """Version 1 of acme's model: the tiny Llama's bf16 package, registered."""
    version: ModelVersionRecord = register_served_version(runtime, MODEL, tiny_model_dir)
    return version


def registry(runtime: LocalRuntime) -> ModelRegistry:
    return ModelRegistry(runtime.resources.tables["ModelsTable"], runtime.client("dynamodb"))


def quantize(
    runtime: LocalRuntime, api: ApiCaller, version: int, body: dict[str, Any]
) -> ExecutionSnapshot:
    started = api("POST", f"/v1/models/{MODEL}/versions/{version}/quantizations", body=body)
    assert started.status == 202, started.body
    assert started.body["workflow"] == "quantize-model"
    return wait_for_execution(
        runtime.client("stepfunctions"),
        started.body["execution_arn"],
        timeout_seconds=QUANTIZATION_TIMEOUT_SECONDS,
    )


@pytest.fixture(scope="module")
def quantized(
    runtime: LocalRuntime, api: ApiCaller, parent: ModelVersionRecord
) -> ExecutionSnapshot:
    return quantize(
        runtime,
        api,
        parent.version,
        {
            "settings": {"scheme": "W8A16"},
            # The tiny model holds 2048 positions; its parent was registered for the default.
            "serving": {"context_tokens": 2048},
            "approval_status": "Approved",
        },
    )


def test_one_call_makes_a_registered_version_with_its_lineage_and_measurements(
    runtime: LocalRuntime, parent: ModelVersionRecord, quantized: ExecutionSnapshot
) -> None:
    assert quantized.status == "SUCCEEDED", quantized.cause
    record = registry(runtime).get("acme", MODEL, quantized.output["version"])
    assert record.status is VersionStatus.REGISTERED
    assert record.version == parent.version + 1
    lineage = record.lineage
    assert lineage is not None and lineage.measurements is not None
    assert lineage.parent_version == parent.version
    assert lineage.settings.scheme == "W8A16"
    assert lineage.library.startswith("compressed-tensors 0.")
    measured = lineage.measurements
    # The tiny model is mostly its 16-bit embedding (49152 x 64), which stays 16-bit: only
    # the linear layers' half of their bytes goes.
    assert measured.weight_bytes < measured.parent_weight_bytes
    assert measured.size_ratio == round(measured.weight_bytes / measured.parent_weight_bytes, 4)
    assert measured.perplexity == pytest.approx(
        measured.parent_perplexity * (1 + measured.perplexity_change), rel=1e-3
    )
    # Random weights: a perplexity near the vocabulary's size, moved little by int8.
    assert abs(measured.perplexity_change) < 0.05
    assert measured.text == "alice-chapter-1.txt"
    assert measured.tokens > 500
    assert quantized.path[-2:] == ["Announce the version", "Version registered"]
    assert record.serving.context_tokens == 2048


def test_the_package_is_the_quantized_checkpoint_with_properties_that_match_it(
    runtime: LocalRuntime, quantized: ExecutionSnapshot
) -> None:
    stored = objects_under(runtime, quantized.output["artifact_uri"])
    manifest = PackageManifest.model_validate_json(stored.pop(MANIFEST_FILE))
    assert {entry.path for entry in manifest.files} == set(stored)
    config = json.loads(stored["config.json"])
    settings = config["quantization_config"]
    assert settings["quant_method"] == "compressed-tensors"
    assert settings["config_groups"]["group_0"]["weights"]["num_bits"] == 8
    # vLLM reads the scheme from config.json: an option.quantize would name another format.
    properties = stored["serving.properties"].decode()
    assert "option.quantize" not in properties
    assert "option.rolling_batch=vllm" in properties
    assert {"tokenizer.json", "chat_template.jinja"} <= set(stored)
    assert manifest.lineage is not None and manifest.lineage.measurements is not None


def test_the_quantized_version_is_announced_with_its_measurements(
    runtime: LocalRuntime, quantized: ExecutionSnapshot
) -> None:
    [detail] = events_of(runtime, "ModelQuantized", quantized.name)
    announced = ModelQuantized.model_validate(detail)
    record = registry(runtime).get("acme", MODEL, announced.version)
    assert record.lineage is not None and record.lineage.measurements is not None
    assert announced.parent_version == record.lineage.parent_version
    assert announced.size_ratio == record.lineage.measurements.size_ratio
    assert announced.scheme == "W8A16"


def test_the_local_engine_serves_the_quantized_version(
    runtime: LocalRuntime, api: ApiCaller, quantized: ExecutionSnapshot
) -> None:
    deploy_in_service(api, "quantized", MODEL, quantized.output["version"], lambda: None)
    endpoint = api("GET", "/v1/endpoints/quantized").body["sagemaker_endpoint_name"]
    answer = runtime.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint,
        ContentType="application/json",
        Body=json.dumps(
            {"inputs": "The capital of France is", "parameters": {"max_new_tokens": 4}}
        ),
    )
    completion = json.loads(answer["Body"].read())
    # Random weights write gibberish: what matters is that the quantized checkpoint loads
    # and generates (SmolLM2's own answer is tests/unit/quantization's).
    assert isinstance(completion["generated_text"], str)


def test_another_tenants_version_is_refused_as_a_missing_one(
    api: ApiCaller, parent: ModelVersionRecord
) -> None:
    path = f"/v1/models/{MODEL}/versions/{parent.version}/quantizations"
    stolen = api("POST", path, tenant="globex", body={})
    missing = api("POST", f"/v1/models/{MODEL}/versions/99/quantizations", body={})
    assert stolen.status == missing.status == 404
    assert stolen.body["detail"] == missing.body["detail"].replace("99", str(parent.version))


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"scheme": "W8A16", "group_size": 64}, "settings"),
        ({"scheme": "W4A16", "group_size": 48}, "settings.group_size"),
        ({"scheme": "W3A16"}, "settings.scheme"),
    ],
)
def test_settings_that_do_not_apply_are_refused_naming_the_field(
    api: ApiCaller, parent: ModelVersionRecord, settings: dict[str, Any], field: str
) -> None:
    answer = api(
        "POST",
        f"/v1/models/{MODEL}/versions/{parent.version}/quantizations",
        body={"settings": settings},
    )
    assert answer.status == 422, answer.body
    assert field in answer.problem_fields


def test_a_quantized_version_is_not_quantized_again(
    api: ApiCaller, quantized: ExecutionSnapshot
) -> None:
    path = f"/v1/models/{MODEL}/versions/{quantized.output['version']}/quantizations"
    answer = api("POST", path, body={"settings": {"scheme": "W4A16"}})
    assert answer.status == 422, answer.body
    assert "already a W8A16 quantization of version 1" in answer.body["detail"]


def test_a_group_size_the_model_does_not_fit_fails_the_version_and_keeps_nothing(
    runtime: LocalRuntime, api: ApiCaller, parent: ModelVersionRecord
) -> None:
    # The tiny model's hidden size, 64, is not a multiple of 128: the job finds it out.
    body = {"settings": {"scheme": "W4A16", "group_size": 128}, "serving": {"context_tokens": 512}}
    failed = quantize(runtime, api, parent.version, body)
    assert failed.status == "FAILED"
    assert failed.error == "Maas.ValidationError"
    assert "settings.group_size: 128 does not divide the model's hidden_size (64)" in (
        failed.cause or ""
    )
    [detail] = events_of(runtime, "ModelQuantizationFailed", failed.name)
    announced = ModelQuantizationFailed.model_validate(detail)
    record = registry(runtime).get("acme", MODEL, announced.version)
    assert record.status is VersionStatus.FAILED
    assert announced.parent_version == parent.version
    assert objects_under(runtime, record.artifact_uri) == {}


def test_a_failed_registration_keeps_the_quantized_package_and_is_registered_again(
    runtime: LocalRuntime, api: ApiCaller, parent: ModelVersionRecord
) -> None:
    # As in package_model: the package is finished (quantized, measured, uploaded) when the
    # registration fails, so only the registration fails and it can be tried again.
    fault = runtime.faults.inject("sagemaker", "CreateModelPackage", "ResourceLimitExceeded")
    body = {"settings": {"scheme": "W8A16"}, "serving": {"context_tokens": 2048}}
    failed = quantize(runtime, api, parent.version, body)

    assert fault.fired == 1
    assert failed.status == "FAILED"
    assert "Mark the registration failed" in failed.path
    assert "Mark the version failed" not in failed.path
    [detail] = events_of(runtime, "ModelQuantizationFailed", failed.name)
    announced = ModelQuantizationFailed.model_validate(detail)
    record = registry(runtime).get("acme", MODEL, announced.version)
    assert record.status is VersionStatus.REGISTRATION_FAILED
    assert "ResourceLimitExceeded" in (record.cause or "")
    stored = objects_under(runtime, record.artifact_uri)
    assert MANIFEST_FILE in stored
    assert any(name.endswith(".safetensors") for name in stored)

    retry = {"tenant_id": "acme", "model_name": MODEL, "version": record.version}
    again = run_workflow(runtime, "PackageModel", retry)

    assert again.status == "SUCCEEDED", again.cause
    assert "Package the model" not in again.path
    registered = registry(runtime).get("acme", MODEL, record.version)
    assert registered.status is VersionStatus.REGISTERED
    # The retry reads the same manifest: the lineage and the job's measurements are the version's.
    assert registered.lineage is not None and record.lineage is not None
    assert registered.lineage.parent_version == parent.version
    assert registered.lineage.settings == record.lineage.settings
    assert registered.lineage.measurements is not None
    assert objects_under(runtime, record.artifact_uri) == stored
