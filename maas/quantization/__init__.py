"""Quantization: a registered version made into a smaller one, measured, as a new version.

The ``quantize_model`` workflow (``state_machines/quantize_model.json``) opens the model's
next version with its lineage (:mod:`~maas.quantization.steps`, what the API and the Lambda
functions import: nothing heavy) and runs the packaging job on the parent's package; the job
quantizes it weight-only with compressed-tensors (:mod:`~maas.quantization.quantize`),
measures the size and the perplexity change on a bundled text
(:mod:`~maas.quantization.perplexity`) and packages the result
(:mod:`~maas.quantization.package`). Those three need torch and run in the packaging job
only. See ``docs/optimization.md``.
"""

from __future__ import annotations

from maas.quantization.steps import LIBRARY, check_parent, plan_quantization

__all__ = ["LIBRARY", "check_parent", "plan_quantization"]
