"""Bring your own container: a Docker build context for an LMI image with a custom handler.

A model that needs its own inference code (pre- or post-processing, a custom ``handle``
function) and Python packages the LMI image lacks gets an image of its own, built from the
LMI image the SDK names for its engine: the handler is copied in as a module on the
``PYTHONPATH`` and named as the LMI ``entryPoint``, and the requirements are installed.

The packaging job has no Docker daemon: on AWS it archives the context to S3 and Kaniko
builds and pushes the image (see ``docs/packaging.md``); :func:`kaniko_command` and
:func:`ecr_credentials` give what the Kaniko job needs.

Examples
--------
>>> kaniko_command(
...     context_uri="s3://artifacts/acme/chat/3/build-context.tar.gz",
...     destination="123456789012.dkr.ecr.us-east-1.amazonaws.com/maas/acme-chat:3",
... )[:2]
['/kaniko/executor', '--context=s3://artifacts/acme/chat/3/build-context.tar.gz']
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maas.exceptions import ValidationError
from maas.packaging.images import image_uri

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

#: The module the handler becomes in the image, and where it lies.
HANDLER_MODULE = "maas_handler"
HANDLER_DIRECTORY = "/opt/maas"

_DOCKERFILE = """\
# Built by maas.packaging.byoc: the LMI image for {engine}, with a custom handler.
FROM {base_image}
{install}COPY {module}.py {directory}/{module}.py
ENV PYTHONPATH={directory}:${{PYTHONPATH}} \\
    OPTION_ENTRYPOINT={module}
"""

_INSTALL = """\
COPY requirements.txt {directory}/requirements.txt
RUN pip install --no-cache-dir -r {directory}/requirements.txt
"""


@dataclass(frozen=True)
class BuildContext:
    """A Docker build context on disk: a folder with a ``Dockerfile`` and what it copies."""

    directory: Path
    base_image: str
    files: tuple[str, ...]

    def archive(self, target: Path) -> Path:
        """Write the context as the ``.tar.gz`` that Kaniko reads from S3."""
        with tarfile.open(target, "w:gz") as archive:
            for name in self.files:
                archive.add(self.directory / name, arcname=name)
        return target


def render_build_context(
    directory: Path,
    *,
    handler: str,
    requirements: Sequence[str] = (),
    engine: str = "vllm",
    region: str,
) -> BuildContext:
    """Write a build context into ``directory``: the handler's source, requirements, Dockerfile.

    ``handler`` is the Python source of an LMI handler module (a ``handle(inputs)``
    function); ``requirements`` are pip requirement lines.

    Raises
    ------
    ValidationError
        When the handler does not compile.
    """
    try:
        compile(handler, f"{HANDLER_MODULE}.py", "exec")
    except SyntaxError as exc:
        raise ValidationError(f"handler: line {exc.lineno}: {exc.msg}") from None
    base_image = image_uri(engine, region)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{HANDLER_MODULE}.py").write_text(handler)
    files = [f"{HANDLER_MODULE}.py"]
    install = ""
    if requirements:
        (directory / "requirements.txt").write_text("\n".join(requirements) + "\n")
        files.append("requirements.txt")
        install = _INSTALL.format(directory=HANDLER_DIRECTORY)
    dockerfile = _DOCKERFILE.format(
        engine=engine,
        base_image=base_image,
        install=install,
        module=HANDLER_MODULE,
        directory=HANDLER_DIRECTORY,
    )
    (directory / "Dockerfile").write_text(dockerfile)
    return BuildContext(directory=directory, base_image=base_image, files=("Dockerfile", *files))


def kaniko_command(*, context_uri: str, destination: str) -> list[str]:
    """The Kaniko executor's command line: build the archived context, push to ECR."""
    return [
        "/kaniko/executor",
        f"--context={context_uri}",
        "--dockerfile=Dockerfile",
        f"--destination={destination}",
    ]


def ecr_credentials(images: Iterable[str]) -> str:
    """Kaniko's ``/kaniko/.docker/config.json``: ECR's credential helper for each registry.

    Kaniko pulls the LMI base image from AWS's registry and pushes to the account's; with
    ``ecr-login`` it signs in to each with the job's IAM role.

    Examples
    --------
    >>> print(ecr_credentials(["763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:1"]))
    {"credHelpers": {"763104351884.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"}}
    """
    registries = sorted({image.split("/", 1)[0] for image in images})
    return json.dumps({"credHelpers": dict.fromkeys(registries, "ecr-login")})


__all__ = [
    "HANDLER_DIRECTORY",
    "HANDLER_MODULE",
    "BuildContext",
    "ecr_credentials",
    "kaniko_command",
    "render_build_context",
]
