"""The packaging job: fetch, prepare, size, upload; and the entrypoint the Batch job runs.

:func:`package_model` does the work for one :class:`~schemas.packaging.PackagingJob`;
:func:`main` is the container's entrypoint: it reads the job from ``MAAS_PACKAGING_JOB``,
reports to the version's registry record when ``MODELS_TABLE_NAME`` is set (else to the
log), and exits non-zero after reporting the failure, with its ``Maas.*`` error name.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pydantic
from huggingface_hub.utils.tqdm import disable_progress_bars

from maas.aws import client, split_s3_uri
from maas.exceptions import MaasError, PackagingFailed, ValidationError
from maas.packaging.licence import licence_of
from maas.packaging.manifest import packaged_files
from maas.packaging.reporting import LogReporter, Progress, Reporter, Stage
from maas.packaging.series import series_of
from maas.packaging.sizing import check_servable, plan_serving
from maas.packaging.sources import fetch_source
from maas.packaging.upload import upload_package
from maas.registry.packaging_steps import JOB_ENVIRONMENT_VARIABLE, check_source
from maas.registry.reporter import RegistryReporter
from schemas.packaging import HuggingFaceSource, PackageManifest, PackagingJob

if TYPE_CHECKING:
    from types import FrameType

    from maas.packaging.transfers import TransferSettings

logger = logging.getLogger(__name__)

#: The LMI container's configuration file, next to the model's files.
SERVING_PROPERTIES = "serving.properties"
#: The job definition's environment: the registry table and the artifacts bucket.
TABLE_VARIABLE = "MODELS_TABLE_NAME"
BUCKET_VARIABLE = "ARTIFACTS_BUCKET_NAME"


def check_destination(job: PackagingJob, bucket: str | None) -> None:
    """Refuse a job whose artifact URI is not a prefix of the tenant's in ``bucket``.

    Examples
    --------
    >>> from schemas.packaging import LocalSource, ServingPreferences
    >>> job = PackagingJob(tenant_id="acme", model_name="m", version=1, correlation_id="c",
    ...                    source=LocalSource(path="/m.gguf"), serving=ServingPreferences(),
    ...                    artifact_uri="s3://artifacts/globex/m/1/")
    >>> check_destination(job, "artifacts")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    maas.exceptions.ValidationError: artifact_uri: s3://artifacts/globex/m/1/ is outside ...
    """
    uri_bucket, prefix = split_s3_uri(job.artifact_uri)
    expected = f"s3://{bucket or uri_bucket}/{job.tenant_id}/"
    if not job.artifact_uri.startswith(expected) or not prefix.endswith("/"):
        raise ValidationError(
            f"artifact_uri: {job.artifact_uri} is outside {expected}, the tenant's prefix"
        )


def package_model(
    job: PackagingJob,
    *,
    workdir: Path,
    progress: Progress,
    region: str,
    transfer: TransferSettings | None = None,
) -> PackageManifest:
    """Package ``job``'s model and upload it under its artifact URI; return the manifest.

    Downloads and converted files go under ``workdir``; a local source is read in place.

    Raises
    ------
    MaasError
        Its subclasses name what went wrong: the source (``SourceNotFound``,
        ``SourceAccessDenied``, ``SourceUnavailable``, ``IntegrityError``), the disk
        (``InsufficientStorage``), the model (``UnsupportedArchitecture``, ``NoInstanceFits``,
        ``ValidationError``).
    """
    fetched = fetch_source(
        job.source,
        workdir,
        progress,
        tenant_id=job.tenant_id,
        before_weights=lambda folder: check_servable(folder, job.serving),
    )
    series = series_of(fetched.path)
    folder = series.prepare(fetched, workdir / "model", progress)
    lineage = job.lineage
    if lineage is not None:
        # A version made from a parent version's package (quantize_model). Imported here:
        # maas.quantization builds on this package.
        from maas.quantization.package import make_quantized_version  # noqa: PLC0415

        made = make_quantized_version(folder, lineage, workdir, progress)
        folder, lineage = made.folder, made.lineage
    source = job.source
    model = source.model_id if isinstance(source, HuggingFaceSource) else job.model_name
    progress.stage(Stage.SIZING, message=f"{model} ({series.name})")
    plan = plan_serving(folder, job.serving, model=model, revision=fetched.revision, region=region)
    properties = workdir / SERVING_PROPERTIES
    properties.write_text(plan.serving_properties)
    files = {**folder.files, SERVING_PROPERTIES: properties}
    packaged = packaged_files(files, folder.sha256)
    manifest = PackageManifest(
        tenant_id=job.tenant_id,
        model_name=job.model_name,
        version=job.version,
        correlation_id=job.correlation_id,
        source=job.source,
        resolved_revision=fetched.revision,
        architecture=str(folder.config().get("model_type", "unknown")),
        licence=licence_of(folder),
        artifact_uri=job.artifact_uri,
        files=packaged,
        total_bytes=sum(item.size for item in packaged),
        image_uri=plan.image_uri,
        instance_type=plan.report.recommendation.instance_type,
        environment=plan.environment,
        serving_properties=plan.serving_properties,
        advisor_report=plan.report.model_dump(mode="json"),
        lineage=lineage,
        created_at=datetime.now(UTC),
    )
    upload_package(files, manifest, progress, settings=transfer)
    progress.stage(Stage.DONE, message=f"{len(packaged)} files in {job.artifact_uri}")
    return manifest


def _reporter(job: PackagingJob) -> Reporter:
    table = os.environ.get(TABLE_VARIABLE)
    if not table:
        return LogReporter()
    return RegistryReporter(
        table, tenant_id=job.tenant_id, model_name=job.model_name, version=job.version
    )


def run(job: PackagingJob, progress: Progress) -> int:
    """Run ``job``, report its failure if it fails; return the process's exit code."""
    try:
        bucket = os.environ.get(BUCKET_VARIABLE)
        check_destination(job, bucket)
        if bucket:
            check_source(job.source, job.tenant_id, bucket)
        region = client("s3").meta.region_name
        if region is None:
            raise PackagingFailed("no AWS region: set AWS_REGION in the job's environment")
        with tempfile.TemporaryDirectory(prefix="maas-packaging-") as workdir:
            package_model(job, workdir=Path(workdir), progress=progress, region=region)
    except MaasError as exc:
        progress.failed(exc.error_name, exc.message)
        return 1
    except Exception as exc:
        logger.exception("packaging failed")
        progress.failed(PackagingFailed.error_name, f"{type(exc).__name__}: {exc}")
        return 1
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    # Batch stops a job (cancelled, timed out) with SIGTERM: raised as an error, it deletes
    # what the upload wrote and is reported, like any other failure.
    raise PackagingFailed(f"the job was stopped ({signal.Signals(signum).name})")


def main() -> int:
    """The packaging container's entrypoint; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Progress bars redraw on every chunk, which fills a log stream; the job prints its own
    # progress lines. transformers follows huggingface_hub's setting.
    disable_progress_bars()
    # compressed-tensors (maas.quantization) draws tqdm bars of its own, per layer.
    os.environ.setdefault("TQDM_DISABLE", "1")
    signal.signal(signal.SIGTERM, _stopped)
    try:
        job = PackagingJob.model_validate_json(os.environ.get(JOB_ENVIRONMENT_VARIABLE, ""))
    except pydantic.ValidationError as exc:
        # No job, no version to report to: the exit code and this line are all there is.
        print(f"failed  {ValidationError.error_name}: {JOB_ENVIRONMENT_VARIABLE}: {exc}")
        return 2
    return run(job, Progress(_reporter(job)))


__all__ = [
    "BUCKET_VARIABLE",
    "SERVING_PROPERTIES",
    "TABLE_VARIABLE",
    "check_destination",
    "main",
    "package_model",
    "run",
]
