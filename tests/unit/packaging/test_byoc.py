"""BYOC: a build context from the LMI image, with the handler and its requirements."""

from __future__ import annotations

import json
import tarfile
from typing import TYPE_CHECKING

import pytest

from maas.exceptions import ValidationError
from maas.packaging.byoc import ecr_credentials, kaniko_command, render_build_context
from maas.packaging.images import image_uri

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = "def handle(inputs):\n    return inputs\n"


def dockerfile_copies(context: Path) -> list[str]:
    """The sources of the Dockerfile's COPY instructions."""
    lines = (context / "Dockerfile").read_text().splitlines()
    return [line.split()[1] for line in lines if line.startswith("COPY ")]


def test_the_context_builds_from_the_sdks_lmi_image_and_installs_the_handler(
    tmp_path: Path,
) -> None:
    context = render_build_context(
        tmp_path / "context", handler=HANDLER, requirements=["nltk==3.9.1"], region="eu-west-1"
    )

    dockerfile = (tmp_path / "context" / "Dockerfile").read_text()
    assert dockerfile.splitlines()[1] == f"FROM {image_uri('vllm', 'eu-west-1')}"
    assert "RUN pip install --no-cache-dir -r /opt/maas/requirements.txt" in dockerfile
    assert "OPTION_ENTRYPOINT=maas_handler" in dockerfile
    assert sorted(dockerfile_copies(context.directory)) == ["maas_handler.py", "requirements.txt"]
    assert set(dockerfile_copies(context.directory)) <= set(context.files)
    assert (context.directory / "maas_handler.py").read_text() == HANDLER


def test_tensorrt_llm_handlers_build_from_the_tensorrt_llm_image(tmp_path: Path) -> None:
    context = render_build_context(tmp_path, handler=HANDLER, engine="trtllm", region="us-east-1")

    assert "djl-inference:0.33.0-tensorrtllm" in context.base_image
    assert "requirements.txt" not in context.files


def test_a_handler_that_does_not_compile_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="handler: line 1: "):
        render_build_context(tmp_path, handler="def handle(:\n", region="us-east-1")


def test_the_archive_holds_the_whole_context_for_kaniko(tmp_path: Path) -> None:
    context = render_build_context(
        tmp_path / "context", handler=HANDLER, requirements=["nltk"], region="us-east-1"
    )

    with tarfile.open(context.archive(tmp_path / "context.tar.gz")) as archive:
        assert sorted(archive.getnames()) == ["Dockerfile", "maas_handler.py", "requirements.txt"]


def test_kaniko_reads_the_context_from_s3_and_signs_in_to_both_registries() -> None:
    base = image_uri("vllm", "us-east-1")
    destination = "123456789012.dkr.ecr.us-east-1.amazonaws.com/maas/acme-chat:3"

    command = kaniko_command(
        context_uri="s3://artifacts/acme/chat/3/ctx.tar.gz", destination=destination
    )
    helpers = json.loads(ecr_credentials([base, destination]))["credHelpers"]

    assert f"--destination={destination}" in command
    assert helpers == {
        "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com": "ecr-login",
    }
