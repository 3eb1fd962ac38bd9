"""A causal language model loaded from a packaged folder, generating on the CPU.

The folder is what the packager uploads and SageMaker downloads to ``/opt/ml/model``:
``config.json``, the weights (``model.safetensors``), the tokenizer files with the chat
template, and ``serving.properties``. Nothing is downloaded: a folder without weights does
not load, as a container without network access would not.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.generation.streamers import BaseStreamer

from maas.serving.exceptions import BadRequest, ModelLoadError
from maas.serving.properties import ServingProperties, read_serving_properties
from maas.serving.protocol import Completion, FinishReason, SamplingParams

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

logger = logging.getLogger(__name__)

_DTYPES: dict[str, torch.dtype | str] = {
    "auto": "auto",
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
    "fp32": torch.float32,
}


class ServedModel:
    """A tokenizer and a causal LM with the limits ``serving.properties`` puts on them.

    Use :meth:`load`; :meth:`generate` is not thread-safe (the batcher serializes it).
    """

    def __init__(
        self, *, tokenizer: Any, model: Any, properties: ServingProperties, max_model_len: int
    ) -> None:
        self.tokenizer = tokenizer
        self.model = model
        self.properties = properties
        self.max_model_len = max_model_len
        self.name = properties.model_id or "lmi"
        configured = model.generation_config.eos_token_id
        ends = [*(configured if isinstance(configured, list) else [configured])]
        self.eos_token_ids = frozenset(
            token for token in [*ends, tokenizer.eos_token_id] if token is not None
        )
        pad = tokenizer.pad_token_id
        self.pad_token_id: int = pad if pad is not None else min(self.eos_token_ids, default=0)

    @classmethod
    def load(cls, model_dir: Path) -> ServedModel:
        """Load the tokenizer and weights of ``model_dir`` as ``serving.properties`` says.

        Raises
        ------
        ModelLoadError
            The folder holds no model, or ``serving.properties`` asks for what it cannot be.
        """
        properties = read_serving_properties(model_dir)
        if not (model_dir / "config.json").is_file():
            download = (
                f"; option.model_id={properties.model_id} names weights to download, and this "
                "server downloads nothing: package them into the artifact"
                if properties.model_id
                else ""
            )
            raise ModelLoadError(f"no config.json in {model_dir}: not a packaged model{download}")
        logger.info(
            "loading %s (engine=%s, rolling_batch=%s, batch size %d, dtype %s, "
            "tensor_parallel_degree %s ignored on CPU)",
            model_dir,
            properties.engine,
            properties.rolling_batch,
            properties.batch_size,
            properties.dtype,
            properties.tensor_parallel_degree,
        )
        tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        model: Any = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=_DTYPES[properties.dtype], local_files_only=True
        )
        model.eval()
        positions = getattr(model.config, "max_position_embeddings", None)
        if properties.max_model_len and positions and properties.max_model_len > positions:
            raise ModelLoadError(
                f"option.max_model_len ({properties.max_model_len}) is greater than the "
                f"model's max_position_embeddings ({positions})"
            )
        max_model_len = properties.max_model_len or positions
        if not max_model_len:
            raise ModelLoadError("set option.max_model_len: the model's config has no length")
        return cls(
            tokenizer=tokenizer, model=model, properties=properties, max_model_len=max_model_len
        )

    def encode(self, text: str, *, special_tokens: bool = True) -> list[int]:
        """The token ids of ``text``."""
        ids: list[int] = self.tokenizer(text, add_special_tokens=special_tokens)["input_ids"]
        return ids

    def chat_prompt(self, conversation: list[dict[str, str]]) -> str:
        """The conversation rendered by the tokenizer's chat template, ready for a reply.

        Raises
        ------
        BadRequest
            The model has no chat template.
        """
        if not self.tokenizer.chat_template:
            raise BadRequest("messages: this model has no chat template; send 'inputs' instead")
        prompt: str = self.tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=False
        )
        return prompt

    def generate(
        self,
        prompts: list[list[int]],
        params: SamplingParams,
        on_tokens: Callable[[list[int]], None] | None = None,
    ) -> list[Completion]:
        """Generate a completion for each prompt (token ids), as one left-padded batch.

        ``on_tokens`` (for a batch of one) is called with each step's new token ids as they
        are generated; an exception it raises ends the generation.
        """
        width = max(len(prompt) for prompt in prompts)
        input_ids = torch.tensor(
            [[self.pad_token_id] * (width - len(prompt)) + prompt for prompt in prompts]
        )
        attention_mask = torch.tensor(
            [[0] * (width - len(prompt)) + [1] * len(prompt) for prompt in prompts]
        )
        sampling: dict[str, Any] = (
            {"temperature": params.temperature, "top_p": params.top_p, "top_k": params.top_k}
            if params.do_sample
            else {}
        )
        stopping = StoppingCriteriaList(
            [_StopSequences(self.tokenizer, params.stop, width)] if params.stop else []
        )
        if params.seed is not None:
            torch.manual_seed(params.seed)
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=params.max_new_tokens,
                do_sample=params.do_sample,
                repetition_penalty=params.repetition_penalty,
                pad_token_id=self.pad_token_id,
                eos_token_id=sorted(self.eos_token_ids),
                stopping_criteria=stopping,
                streamer=_TokenStreamer(on_tokens) if on_tokens is not None else None,
                **sampling,
            )
        return [
            self._completion(output[row, width:].tolist(), len(prompt), params.stop)
            for row, prompt in enumerate(prompts)
        ]

    def _completion(
        self, tokens: list[int], prompt_tokens: int, stop: tuple[str, ...]
    ) -> Completion:
        finish: FinishReason = "length"
        generated = len(tokens)
        for index, token in enumerate(tokens):
            if token in self.eos_token_ids:
                # Rows that finish early are padded (often with the end token) to the longest.
                tokens, generated, finish = tokens[:index], index + 1, "eos_token"
                break
        text: str = self.tokenizer.decode(tokens, skip_special_tokens=True)
        found = [index for index in (text.find(sequence) for sequence in stop) if index >= 0]
        if found:
            text, finish = text[: min(found)], "stop_sequence"
        return Completion(
            text=text, finish_reason=finish, prompt_tokens=prompt_tokens, generated_tokens=generated
        )


class _TokenStreamer(BaseStreamer):
    """Hands each generation step's new tokens on; the prompt, put first, is skipped."""

    def __init__(self, on_tokens: Callable[[list[int]], None]) -> None:
        self._on_tokens = on_tokens
        self._prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        self._on_tokens([int(token) for token in value.reshape(-1).tolist()])

    def end(self) -> None:
        """Nothing to flush: every token was handed on as it came."""


class _StopSequences(StoppingCriteria):
    """Ends a row once its generated text contains one of the stop sequences."""

    def __init__(self, tokenizer: Any, stop: tuple[str, ...], prompt_width: int) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.prompt_width = prompt_width
        # Enough tokens to hold the longest sequence, as most tokens are a character or more;
        # the final text is cut at the first stop sequence whether or not this saw it.
        self.window = max(len(sequence) for sequence in stop) + 1

    def __call__(
        self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any
    ) -> torch.Tensor:
        tails = self.tokenizer.batch_decode(
            input_ids[:, self.prompt_width :][:, -self.window :], skip_special_tokens=True
        )
        return torch.tensor(
            [any(sequence in tail for sequence in self.stop) for tail in tails],
            dtype=torch.bool,
            device=input_ids.device,
        )


__all__ = ["ServedModel"]
