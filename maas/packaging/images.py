"""The serving container's image, from the SageMaker SDK's image-URI lookup.

Image URIs are never written down here: the account that hosts an image and its tag
differ per region and per release, and the SDK's lookup knows them. What is pinned is the
image's version, so that a package built today names the image it was sized and tested for.

Examples
--------
.. code-block:: python

    image_uri("vllm", "us-east-1")
    # '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130'
"""

from __future__ import annotations

#: The image's framework name in the SDK's lookup, by the advisor's engine: TensorRT-LLM
#: has its own LMI image, vLLM and LMI-Dist share the main one.
FRAMEWORKS = {"trtllm": "djl-tensorrtllm", "vllm": "djl-lmi", "lmi-dist": "djl-lmi"}

#: The image version per framework, pinned: djl-lmi 0.38.0 is LMI 29 (vLLM, CUDA 13), the
#: newest in sagemaker-core 2.27; djl-tensorrtllm 0.33.0 is the newest TensorRT-LLM image.
#: Move them together with the advisor's assumptions about the engines.
IMAGE_VERSIONS = {"djl-lmi": "0.38.0", "djl-tensorrtllm": "0.33.0"}


def image_uri(engine: str, region: str) -> str:
    """The LMI image that serves ``engine`` in ``region``, at its pinned version.

    Raises
    ------
    ValueError
        When ``engine`` is not one the LMI images serve.
    """
    if engine not in FRAMEWORKS:
        raise ValueError(f"no LMI image serves the engine {engine!r}")
    framework = FRAMEWORKS[engine]
    # Imported here: the SDK takes seconds to import, and only this lookup needs it.
    from sagemaker.core import image_uris  # noqa: PLC0415

    uri: str = image_uris.retrieve(
        framework=framework, region=region, version=IMAGE_VERSIONS[framework]
    )
    return uri


__all__ = ["FRAMEWORKS", "IMAGE_VERSIONS", "image_uri"]
