"""How fast the packaging job uploads a package to the local runtime's S3, against ``cp``.

The path measured is the one a local Batch job takes: a separate process (this script run
with ``--upload``) calls :func:`maas.packaging.upload.upload_package` (multipart, SHA-256
checksums, checks of what landed, the manifest last) against moto's threaded HTTP server,
the server :meth:`maas.local.LocalRuntime.endpoint_url` starts for other processes. The
upload is timed inside that process, from the call to its return.

Prints, each the median of several rounds:

- ``cp``: copying the same files on the same disk, the physical limit of this machine;
- ``upload``: the packaging job's upload, and its ratio to ``cp`` (target 0.7);
- ``moto's ceiling``: one plain HTTP PUT of the largest file with no client work at all
  (no signing, no checksum, no multipart), what the emulated S3 itself can take in.

``--sweep`` also prints the upload's rate for several part sizes and concurrencies.

Run: ``make bench`` (or ``python benchmarks/packaging_upload.py``).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from moto.server import ThreadedMotoServer

from maas.packaging import LogReporter, Progress, TransferSettings
from maas.packaging.manifest import packaged_files
from maas.packaging.transfers import MIB
from maas.packaging.upload import upload_package
from schemas.packaging import LocalSource, PackageManifest

ROUNDS = 3
TARGET_RATIO = 0.7
BUCKET = "benchmark-artifacts"
PREFIX = "bench/model/1/"
#: A package's shape: one large weights file and the small files beside it.
FILES = {
    "model.safetensors": 288 * MIB,
    "tokenizer.json": 3 * MIB,
    "config.json": 1024,
    "generation_config.json": 256,
}
SWEEP = [(16 * MIB, 8), (64 * MIB, 4), (64 * MIB, 8), (128 * MIB, 4)]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def write_files(folder: Path) -> dict[str, Path]:
    """Incompressible files of :data:`FILES`' sizes."""
    paths = {}
    for name, size in FILES.items():
        path = folder / name
        with path.open("wb") as stream:
            for offset in range(0, size, 8 * MIB):
                stream.write(os.urandom(min(8 * MIB, size - offset)))
        paths[name] = path
    return paths


def upload_in_this_process(folder: Path, part_size: int, concurrency: int) -> None:
    """The child's side: upload the folder as a package and print the seconds it took."""
    logging.disable(logging.INFO)
    files = {path.name: path for path in sorted(folder.iterdir())}
    packaged = packaged_files(files, {})
    manifest = PackageManifest(
        tenant_id="bench",
        model_name="model",
        version=1,
        correlation_id="benchmark",
        source=LocalSource(path=str(folder)),
        architecture="llama",
        artifact_uri=f"s3://{BUCKET}/{PREFIX}",
        files=packaged,
        total_bytes=sum(item.size for item in packaged),
        image_uri="benchmark",
        instance_type="ml.g5.xlarge",
        serving_properties="engine=Python\n",
        advisor_report={},
        created_at=datetime.now(UTC),
    )
    settings = TransferSettings(part_size=part_size, concurrency=concurrency)
    progress = Progress(LogReporter(), interval=3600.0)
    started = time.perf_counter()
    upload_package(files, manifest, progress, settings=settings)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def upload_seconds(folder: Path, endpoint: str, settings: TransferSettings) -> float:
    command = [
        sys.executable,
        __file__,
        "--upload",
        str(folder),
        str(settings.part_size),
        str(settings.concurrency),
    ]
    environment = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    seconds: float = json.loads(completed.stdout.splitlines()[-1])["seconds"]
    return seconds


def cp_seconds(folder: Path, target: Path) -> float:
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(folder), str(target)], check=True)
    # cp returns once the bytes are in the page cache; so does moto's store.
    return time.perf_counter() - started


def ceiling_seconds(path: Path, host: str, port: int) -> float:
    connection = http.client.HTTPConnection(host, port)
    started = time.perf_counter()
    with path.open("rb") as body:
        connection.request(
            "PUT",
            f"/{BUCKET}/ceiling",
            body=body,
            headers={"Content-Length": str(path.stat().st_size)},
        )
        response = connection.getresponse()
        response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"PUT answered {response.status}")
    return elapsed


def empty_bucket(s3: Any) -> None:
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def rate(megabytes: float, seconds: list[float]) -> float:
    return megabytes / statistics.median(seconds)


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=BUCKET)
    try:
        with tempfile.TemporaryDirectory(prefix="maas-bench-") as scratch:
            folder = Path(scratch, "package")
            folder.mkdir()
            files = write_files(folder)
            megabytes = sum(path.stat().st_size for path in files.values()) / 1e6
            copies, uploads, ceilings = [], [], []
            for _ in range(ROUNDS):
                copies.append(cp_seconds(folder, Path(scratch, "copy")))
                empty_bucket(s3)
                uploads.append(upload_seconds(folder, endpoint, TransferSettings()))
                empty_bucket(s3)
                ceilings.append(ceiling_seconds(files["model.safetensors"], host, port))
            cp_rate, upload_rate = rate(megabytes, copies), rate(megabytes, uploads)
            largest = files["model.safetensors"].stat().st_size / 1e6
            ceiling_rate = rate(largest, ceilings)
            defaults = TransferSettings()
            print(f"package: {len(files)} files, {megabytes:.0f} MB; median of {ROUNDS} rounds")
            print(f"  cp (same disk)                   {cp_rate:8.0f} MB/s")
            print(
                f"  upload ({defaults.part_size // MIB} MiB parts, {defaults.concurrency} at once)"
                f"    {upload_rate:8.0f} MB/s   {upload_rate / cp_rate:.2f} of cp "
                f"(target {TARGET_RATIO})"
            )
            print(
                f"  moto's ceiling (one bare PUT)    {ceiling_rate:8.0f} MB/s   "
                f"the upload reaches {upload_rate / ceiling_rate:.2f} of it"
            )
            if "--sweep" in sys.argv:
                for part_size, concurrency in SWEEP:
                    empty_bucket(s3)
                    settings = TransferSettings(part_size=part_size, concurrency=concurrency)
                    seconds = upload_seconds(folder, endpoint, settings)
                    print(
                        f"  sweep: {part_size // MIB:4d} MiB parts, {concurrency:2d} at once  "
                        f"{megabytes / seconds:8.0f} MB/s"
                    )
    finally:
        server.stop()
    missed = upload_rate / cp_rate < TARGET_RATIO
    return 1 if missed and "--strict" in sys.argv else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--upload"]:
        upload_in_this_process(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        raise SystemExit(0)
    raise SystemExit(main())
