"""Speculative decoding with a draft model: which families have one, its cost, its gain.

A small model of the same family proposes ``k`` tokens; the served model checks them in one
step and keeps those it agrees with, so one step of the large model yields more than one token
when the draft guesses well. The output is the large model's own (the check is exact); only
the speed changes, and only where decoding is bound by memory bandwidth: at a low batch.

How LMI serves it (LMI's vLLM user guide, "Mapping Configuration":
https://docs.djl.ai/master/docs/serving/serving/docs/lmi/user_guides/vllm_user_guide.html):
vLLM's engine arguments pass through as ``option.<name>``, and a mapping as JSON:
``option.speculative_config={"model": "<draft>", "num_speculative_tokens": k}``. The named
``option.speculative_draft_model``, ``option.speculative_length`` and
``option.draft_model_tp_size`` were the lmi-dist engine's (LMI 0.27.0 to 0.32.0, its user guide:
https://docs.djl.ai/master/docs/serving/serving/docs/lmi/user_guides/lmi-dist_user_guide.html),
removed with lmi-dist in LMI v15, 0.33.0 (LMI "Breaking Changes":
https://docs.djl.ai/master/docs/serving/serving/docs/lmi/announcements/breaking_changes.html);
the image this platform pins (djl-lmi 0.38.0, :mod:`maas.packaging.images`) serves vLLM, so the
mapping is what is written. TensorRT-LLM builds its draft into the engine and LMI NeuronX is
not given one here: speculation is proposed for the vLLM engine only.

The draft's weights and its KV cache live beside the served model's on every GPU (vLLM splits
the draft over the same tensor-parallel degree by default), so they are counted in the sizing:
a draft that leaves too little room for the requested sequences is not proposed.

The gain is an **estimate, never a measurement**: Leviathan, Kalman and Matias, "Fast
Inference from Transformers via Speculative Decoding", ICML 2023 (https://arxiv.org/abs/
2211.17192), Theorem 3.8: with an acceptance rate ``a`` and a draft step costing ``c`` of a
target step, ``k`` drafted tokens speed decoding up by ``(1 - a**(k+1)) / ((1 - a)(k*c + 1))``.
``a`` is assumed (:data:`ASSUMED_ACCEPTANCE_RATE`); ``c`` is the ratio of the two models'
decode steps at the bandwidth bound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from maas.advisor.architecture import ModelArchitecture
from maas.advisor.sizing import parameter_count

if TYPE_CHECKING:
    from maas.advisor.architecture import Family

#: Acceptance rate assumed for a same-family draft: the share of drafted tokens the target
#: keeps. An assumption, not a measurement: Leviathan et al. (Table 3) measured between
#: roughly 0.5 and 0.9 for their pairs, and it depends on the task and the sampling.
ASSUMED_ACCEPTANCE_RATE = 0.6
#: Drafted tokens per step tried; the one with the best estimated gain is chosen.
SPECULATIVE_LENGTHS = range(1, 9)
#: Largest batch per model worker speculation is proposed for. vLLM's documentation presents
#: it for "medium-to-low QPS, memory-bound workloads"
#: (https://docs.vllm.ai/en/latest/features/spec_decode.html): at larger batches each step is
#: bound by compute, and verifying k + 1 tokens per sequence costs more than it saves. The
#: figure is this advisor's threshold, not vLLM's.
MAX_SPECULATIVE_BATCH = 8
#: Least estimated gain worth running a second model for.
MIN_ESTIMATED_SPEEDUP = 1.2
#: A draft must be this many times smaller than the model it drafts for, in parameters.
MIN_TARGET_TO_DRAFT_RATIO = 5
#: Where the estimate comes from, as the report states it.
ESTIMATE_SOURCE = (
    "estimate, not a measurement: Leviathan et al., Fast Inference from Transformers via "
    "Speculative Decoding (ICML 2023, https://arxiv.org/abs/2211.17192), Theorem 3.8, with an "
    f"assumed acceptance rate of {ASSUMED_ACCEPTANCE_RATE} and the draft's decode step "
    "relative to the target's at the bandwidth bound"
)
#: The LMI page that documents how the option is written.
LMI_DOCUMENTATION = (
    "https://docs.djl.ai/master/docs/serving/serving/docs/lmi/user_guides/vllm_user_guide.html"
)


@dataclass(frozen=True, slots=True)
class DraftModel:
    """A published small model of a family, usable as the draft for its larger siblings.

    ``config`` holds the fields of its ``config.json`` the advisor reads (copied from the
    Hub; a test checks them against the bundled copies in tests/unit/advisor/configs).
    """

    family: Family
    model_id: str
    card: str
    licence: str
    gated: bool
    config: dict[str, Any]

    @property
    def architecture(self) -> ModelArchitecture:
        """The draft's shape, for its weights and KV cache."""
        return _architecture(json.dumps(self.config, sort_keys=True))


@cache
def _architecture(config: str) -> ModelArchitecture:
    return ModelArchitecture.from_config(json.loads(config))


#: Families with a published draft: the smallest checkpoint of the family that shares the
#: larger ones' tokenizer and vocabulary size (vLLM's draft-model proposer scores the draft's
#: tokens in the target's vocabulary). A gated draft is listed but not chosen: the endpoint
#: fetches the draft from the Hub when it starts, and a gated one needs a token the endpoint
#: does not have.
PUBLISHED_DRAFTS: tuple[DraftModel, ...] = (
    DraftModel(
        # vLLM's own draft-model example pairs Qwen/Qwen3-8B with it
        # (https://docs.vllm.ai/en/latest/features/spec_decode.html).
        family="qwen3",
        model_id="Qwen/Qwen3-0.6B",
        card="https://huggingface.co/Qwen/Qwen3-0.6B",
        licence="apache-2.0",
        gated=False,
        config={
            "model_type": "qwen3",
            "hidden_size": 1024,
            "num_hidden_layers": 28,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "intermediate_size": 3072,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "max_position_embeddings": 40960,
        },
    ),
    DraftModel(
        # Shares the vocabulary (151,936) with Qwen2.5-1.5B and -3B only: the 7B and larger
        # pad theirs to 152,064.
        family="qwen2",
        model_id="Qwen/Qwen2.5-0.5B-Instruct",
        card="https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct",
        licence="apache-2.0",
        gated=False,
        config={
            "model_type": "qwen2",
            "hidden_size": 896,
            "num_hidden_layers": 24,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "intermediate_size": 4864,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "max_position_embeddings": 32768,
        },
    ),
    DraftModel(
        # LMI's vLLM guide uses it as its speculative_config example; Llama 3.1 and 3.3 share
        # its 128,256-token vocabulary.
        family="llama",
        model_id="meta-llama/Llama-3.2-1B-Instruct",
        card="https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct",
        licence="llama3.2",
        gated=True,
        config={
            "model_type": "llama",
            "hidden_size": 2048,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "head_dim": 64,
            "intermediate_size": 8192,
            "vocab_size": 128256,
            "tie_word_embeddings": True,
            "max_position_embeddings": 131072,
        },
    ),
)


class SpeculativeDecoding(BaseModel):
    """Draft-model speculation chosen for a recommendation, with its cost and expected gain."""

    model_config = ConfigDict(frozen=True)

    draft_model: str = Field(description="The draft's Hugging Face id; the endpoint fetches it.")
    draft_model_card: str = Field(description="The draft's Hugging Face model card.")
    num_speculative_tokens: int = Field(description="Tokens the draft proposes per step.")
    draft_weight_bytes_per_gpu: int = Field(
        description="The draft's bf16 weights on each GPU (split over the same TP degree)."
    )
    draft_kv_bytes_per_sequence_per_gpu: int = Field(
        description="The draft's KV cache for one sequence of max_model_len, per GPU."
    )
    assumed_acceptance_rate: float
    estimated_speedup: float = Field(
        description="Estimated decode speed-up at the requested concurrency: an estimate "
        "from a published formula and an assumed acceptance rate, never a measurement."
    )
    estimated_decode_tokens_per_s: float = Field(
        description="decode_tokens_per_s times estimated_speedup: an estimate."
    )
    estimate_source: str = ESTIMATE_SOURCE
    documentation: str = LMI_DOCUMENTATION


def published_draft(arch: ModelArchitecture) -> tuple[DraftModel | None, str]:
    """The published draft for ``arch``, or None, and why.

    Examples
    --------
    >>> qwen3_8b = ModelArchitecture.from_config({
    ...     "model_type": "qwen3", "hidden_size": 4096, "num_hidden_layers": 36,
    ...     "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
    ...     "intermediate_size": 12288, "vocab_size": 151936,
    ... })
    >>> draft, why = published_draft(qwen3_8b)
    >>> draft.model_id if draft else why
    'Qwen/Qwen3-0.6B'
    """
    drafts = [draft for draft in PUBLISHED_DRAFTS if draft.family == arch.family]
    if not drafts:
        return None, f"no published draft model for the {arch.family} family"
    draft = drafts[0]
    if draft.architecture.vocab_size != arch.vocab_size:
        return None, (
            f"{draft.model_id}'s vocabulary ({draft.architecture.vocab_size:,}) is not this "
            f"model's ({arch.vocab_size:,}): it cannot draft for it"
        )
    ratio = parameter_count(arch) / parameter_count(draft.architecture)
    if ratio < MIN_TARGET_TO_DRAFT_RATIO:
        return None, (
            f"{draft.model_id} is only {ratio:.1f} times smaller than this model (at least "
            f"{MIN_TARGET_TO_DRAFT_RATIO} is worth a second model)"
        )
    if draft.gated:
        return None, (
            f"{draft.model_id} ({draft.card}) would draft for it, but it is gated: the endpoint "
            "fetches the draft from the Hub at start-up without a token, so it is not chosen"
        )
    return draft, f"{draft.model_id} ({draft.card}) drafts for it"


def estimated_speedup(acceptance: float, length: int, cost_ratio: float) -> float:
    """Leviathan et al.'s Theorem 3.8: the expected walltime improvement factor.

    Examples
    --------
    >>> round(estimated_speedup(0.6, 3, 0.1), 3)
    1.674
    """
    expected_tokens = (1 - acceptance ** (length + 1)) / (1 - acceptance)
    return expected_tokens / (length * cost_ratio + 1)


def best_length(cost_ratio: float) -> tuple[int, float]:
    """The drafted-token count with the best estimated gain, and that gain."""
    return max(
        (
            (length, estimated_speedup(ASSUMED_ACCEPTANCE_RATE, length, cost_ratio))
            for length in SPECULATIVE_LENGTHS
        ),
        key=lambda pair: pair[1],
    )


def speculative_config(speculation: SpeculativeDecoding) -> str:
    """The value of LMI's ``option.speculative_config`` for ``speculation``.

    Examples
    --------
    >>> speculative_config(SpeculativeDecoding(
    ...     draft_model="Qwen/Qwen3-0.6B", draft_model_card="", num_speculative_tokens=4,
    ...     draft_weight_bytes_per_gpu=0, draft_kv_bytes_per_sequence_per_gpu=0,
    ...     assumed_acceptance_rate=0.6, estimated_speedup=1.5,
    ...     estimated_decode_tokens_per_s=0.0,
    ... ))
    '{"model": "Qwen/Qwen3-0.6B", "num_speculative_tokens": 4}'
    """
    return json.dumps(
        {
            "model": speculation.draft_model,
            "num_speculative_tokens": speculation.num_speculative_tokens,
        }
    )


__all__ = [
    "ASSUMED_ACCEPTANCE_RATE",
    "ESTIMATE_SOURCE",
    "LMI_DOCUMENTATION",
    "MAX_SPECULATIVE_BATCH",
    "MIN_ESTIMATED_SPEEDUP",
    "MIN_TARGET_TO_DRAFT_RATIO",
    "PUBLISHED_DRAFTS",
    "DraftModel",
    "SpeculativeDecoding",
    "best_length",
    "estimated_speedup",
    "published_draft",
    "speculative_config",
]
