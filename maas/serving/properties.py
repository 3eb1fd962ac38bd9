"""``serving.properties``: the model's serving configuration, as the LMI container reads it.

The packager writes the file next to the weights; the LMI container on SageMaker reads it
when it starts. This server reads the same file and honours what applies to one CPU
process: how many sequences are generated together (``option.max_rolling_batch_size``, or
one at a time when ``option.rolling_batch=disable``), the longest prompt plus completion
(``option.max_model_len``) and the weights' precision (``option.dtype``). Options for GPUs
(``option.tensor_parallel_degree``) and for the LMI engines are kept and logged, not used.

Examples
--------
>>> properties = parse_serving_properties(
...     "engine=Python\\noption.rolling_batch=vllm\\noption.max_rolling_batch_size=8\\n"
... )
>>> properties.max_rolling_batch_size, properties.batch_size, properties.max_model_len
(8, 8, None)
>>> parse_serving_properties("option.rolling_batch=disable").batch_size
1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from maas.serving.exceptions import ModelLoadError

if TYPE_CHECKING:
    from pathlib import Path

SERVING_PROPERTIES = "serving.properties"
_OPTION = "option."


class ServingProperties(BaseModel):
    """The options of ``serving.properties`` this server knows, with LMI's defaults."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    engine: str = "Python"
    rolling_batch: str = "auto"
    max_rolling_batch_size: int = Field(default=32, ge=1)
    max_model_len: int | None = Field(default=None, ge=1)
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = "auto"
    tensor_parallel_degree: int | Literal["max"] = 1
    model_id: str | None = None
    revision: str | None = None
    options: dict[str, str] = Field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        """How many sequences one generation step may carry."""
        return 1 if self.rolling_batch == "disable" else self.max_rolling_batch_size


def parse_serving_properties(text: str) -> ServingProperties:
    """Parse the text of a ``serving.properties`` file (``key=value`` lines, ``#`` comments).

    Raises
    ------
    ModelLoadError
        A line is not ``key=value`` or a known option has a value LMI would refuse.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, separator, value = line.partition("=")
        if not separator:
            raise ModelLoadError(f"{SERVING_PROPERTIES} line {number}: expected key=value")
        values[key.strip()] = value.strip()
    fields = {
        key.removeprefix(_OPTION): value
        for key, value in values.items()
        if key.startswith(_OPTION) or key == "engine"
    }
    try:
        return ServingProperties.model_validate({**fields, "options": values})
    except ValidationError as error:
        problems = "; ".join(
            f"option.{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
        raise ModelLoadError(f"{SERVING_PROPERTIES}: {problems}") from None


def read_serving_properties(model_dir: Path) -> ServingProperties:
    """The model directory's ``serving.properties``; LMI's defaults when there is none."""
    path = model_dir / SERVING_PROPERTIES
    if not path.is_file():
        return ServingProperties()
    return parse_serving_properties(path.read_text(encoding="utf-8"))


__all__ = [
    "SERVING_PROPERTIES",
    "ServingProperties",
    "parse_serving_properties",
    "read_serving_properties",
]
