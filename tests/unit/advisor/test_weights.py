"""Weight bytes per format: the quantized layouts as the checkpoints store them."""

from __future__ import annotations

import math

import pytest

from maas.advisor.safetensors import TensorInfo, checkpoint_size
from maas.advisor.sizing import WEIGHT_FORMATS, parameter_groups, weight_bytes
from tests.unit.advisor.support import architecture, headers_of


def awq_layout(name: str) -> dict[str, tuple[str, tuple[int, ...]]]:
    """The tensors of an AWQ (GEMM) checkpoint of ``name``: int32-packed qweight and qzeros,
    fp16 scales per group of 128 inputs, and everything but the linear layers in fp16."""
    tensors: dict[str, tuple[str, tuple[int, ...]]] = {}
    for group in parameter_groups(architecture(name)):
        for index in range(group.count):
            key = f"{group.name}.{index}"
            if group.kind != "linear":
                tensors[key] = ("F16", group.shape)
                continue
            out, into = group.shape
            tensors[f"{key}.qweight"] = ("I32", (into, out // 8))
            tensors[f"{key}.qzeros"] = ("I32", (into // 128, out // 8))
            tensors[f"{key}.scales"] = ("F16", (into // 128, out))
    return tensors


def test_bf16_is_two_bytes_per_parameter() -> None:
    assert weight_bytes(architecture("mistral-7b-v0.3")) == 2 * 7_248_023_552


def test_int4_matches_the_awq_checkpoint_layout_byte_for_byte() -> None:
    tensors = {
        name: TensorInfo(
            dtype=dtype, shape=shape, nbytes=math.prod(shape) * (4 if dtype == "I32" else 2)
        )
        for name, (dtype, shape) in awq_layout("llama-3.1-8b-instruct").items()
    }
    stored = checkpoint_size(tensors, tie_word_embeddings=False).bytes
    assert weight_bytes(architecture("llama-3.1-8b-instruct"), "int4") == stored


def test_int4_keeps_embeddings_and_lm_head_at_16_bit() -> None:
    llama = architecture("llama-3.1-8b-instruct")
    embeddings = 2 * 128256 * 4096 * 2  # embed_tokens and lm_head, bf16
    linear = sum(g.parameters for g in parameter_groups(llama) if g.kind == "linear")
    norms = 65 * 4096 * 2
    # 4 bits per weight, plus an fp16 scale and a 4-bit zero per 128 weights.
    assert weight_bytes(llama, "int4") == embeddings + norms + linear // 2 + linear // 128 * 5 // 2


def test_fp8_is_one_byte_per_linear_weight_and_a_scale_per_tensor() -> None:
    qwen = architecture("qwen2.5-0.5b-instruct")
    groups = parameter_groups(qwen)
    linear = [g for g in groups if g.kind == "linear"]
    rest = sum(g.parameters for g in groups if g.kind != "linear")
    tensors = sum(g.count for g in linear)
    expected = sum(g.parameters for g in linear) + 4 * tensors + 2 * rest
    assert weight_bytes(qwen, "fp8") == expected


def test_int8_has_a_scale_per_output_channel_where_fp8_has_one_per_tensor() -> None:
    qwen = architecture("qwen2.5-0.5b-instruct")
    linear = [g for g in parameter_groups(qwen) if g.kind == "linear"]
    channels = sum(g.shape[0] * g.count for g in linear)
    tensors = sum(g.count for g in linear)
    assert weight_bytes(qwen, "int8") - weight_bytes(qwen, "fp8") == 4 * (channels - tensors)


def test_block_fp8_checkpoints_carry_a_scale_per_128_by_128_block() -> None:
    v3 = architecture("deepseek-v3")  # the checkpoint is FP8 with weight_block_size [128, 128]
    expected = 0
    for group in parameter_groups(v3):
        if group.kind == "linear":
            out, into = group.shape
            scales = math.ceil(out / 128) * math.ceil(into / 128)
            expected += (out * into + 4 * scales) * group.count
        else:
            expected += 2 * group.parameters
    assert weight_bytes(v3, "fp8") == expected
    assert weight_bytes(v3, "fp8") == pytest.approx(673e9, rel=0.01)


@pytest.mark.parametrize("name", ["glm-4-9b-chat", "gemma-2-9b", "deepseek-v2-lite"])
def test_every_format_is_smaller_than_the_one_before(name: str) -> None:
    arch = architecture(name)
    sizes = [weight_bytes(arch, fmt) for fmt in WEIGHT_FORMATS]
    assert sizes[0] > sizes[1] and sizes[2] > sizes[3]
    assert sizes[1] == pytest.approx(sizes[2], rel=0.01)


def test_a_bf16_checkpoint_read_from_headers_has_the_same_bytes() -> None:
    smol = architecture("smollm2-135m-instruct")
    size = checkpoint_size(headers_of(smol), tie_word_embeddings=True)
    assert size.bytes == weight_bytes(smol)
    assert not size.quantized
