"""serving.properties: the options LMI reads, with its defaults, and a clear error when wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.serving import (
    ModelLoadError,
    ServingProperties,
    parse_serving_properties,
    read_serving_properties,
)

if TYPE_CHECKING:
    from pathlib import Path

PACKAGED = """\
# written by the packager
engine=Python
option.rolling_batch=lmi-dist
option.max_rolling_batch_size=16
option.max_model_len=4096
option.dtype=bf16
option.tensor_parallel_degree=max
option.revision=abc123

option.enable_prefix_caching=true
"""


def test_the_packagers_options_are_read() -> None:
    properties = parse_serving_properties(PACKAGED)

    assert properties.engine == "Python"
    assert properties.rolling_batch == "lmi-dist"
    assert properties.max_rolling_batch_size == 16
    assert properties.max_model_len == 4096
    assert properties.dtype == "bf16"
    assert properties.tensor_parallel_degree == "max"
    assert properties.revision == "abc123"


def test_options_this_server_does_not_use_are_kept() -> None:
    properties = parse_serving_properties(PACKAGED)

    assert properties.options["option.enable_prefix_caching"] == "true"


def test_a_folder_without_the_file_gets_lmis_defaults(tmp_path: Path) -> None:
    assert read_serving_properties(tmp_path) == ServingProperties()
    assert ServingProperties().batch_size == 32


def test_a_disabled_rolling_batch_generates_one_sequence_at_a_time() -> None:
    properties = parse_serving_properties("option.rolling_batch=disable\n")

    assert properties.batch_size == 1


def test_a_value_lmi_would_refuse_names_the_option() -> None:
    with pytest.raises(ModelLoadError) as raised:
        parse_serving_properties("option.max_rolling_batch_size=many\n")

    assert "option.max_rolling_batch_size" in raised.value.message


def test_a_line_that_is_not_key_value_names_its_line() -> None:
    with pytest.raises(ModelLoadError) as raised:
        parse_serving_properties("engine=Python\nrolling batch\n")

    assert raised.value.message == "serving.properties line 2: expected key=value"
