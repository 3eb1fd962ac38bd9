"""docs/advisor.md's code and commands, and the README's, run as written (offline).

The Python block runs from the repository's folder, as the page says; the console block's
``path/to/checkpoint/`` (the reader's own folder) is a folder holding Qwen3-8B's
``config.json``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from typing import TYPE_CHECKING

from tests.docblocks import ROOT, containing, runs
from tests.docs.support import bash

if TYPE_CHECKING:
    from pathlib import Path

(ADVISE,) = runs("docs/advisor.md", "python", containing("advise("))
(RECOMMEND,) = runs("docs/advisor.md", "console", containing("--preference latency"))
(README_RECOMMEND,) = runs("README.md", "bash", containing("maas recommend"))


def test_the_python_example_prints_what_the_page_says() -> None:
    printed = io.StringIO()
    with contextlib.chdir(ROOT), contextlib.redirect_stdout(printed):
        exec(compile(ADVISE.text, ADVISE.where, "exec"), {})  # the page's own code

    first, *properties = printed.getvalue().splitlines()
    page = (ROOT / ADVISE.page).read_text()
    assert f"It prints `{first}`" in page
    assert "option.rolling_batch=vllm" in properties
    assert "option.tensor_parallel_degree=1" in properties
    assert "option.revision=<commit>" in properties


def test_the_recommend_commands_run(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    checkpoint.mkdir()
    shutil.copy(ROOT / "docs/examples/qwen3-8b.config.json", checkpoint / "config.json")
    as_json, table = (
        bash(
            example.command.replace("path/to/checkpoint/", f"{checkpoint}/"), where=RECOMMEND.where
        )
        for example in RECOMMEND.examples
    )

    answer = json.loads(as_json)
    assert answer["request"]["concurrent_requests"] == 8
    assert answer["recommendation"]["instance_type"].startswith("ml.")
    assert "KV cache per token (bf16)" in table
    assert "ranked by latency" in table


def test_the_readme_command_prints_the_recommendation_as_json() -> None:
    answer = json.loads(bash(README_RECOMMEND.text, where=README_RECOMMEND.where))
    assert answer["family"] == "qwen3"
    assert answer["recommendation"]["instance_type"].startswith("ml.")
