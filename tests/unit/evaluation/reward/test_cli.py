"""``maas reward pairs`` writes the rows; a bad rankings file fails with the line named."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from maas.cli.main import app

if TYPE_CHECKING:
    from pathlib import Path


def test_pairs_writes_the_table_rows(tmp_path: Path) -> None:
    rankings = tmp_path / "rankings.jsonl"
    rankings.write_text(json.dumps({"prompt": "p", "completions": ["a", "b", "c"]}) + "\n")

    result = CliRunner().invoke(
        app, ["reward", "pairs", str(rankings), "--out", str(tmp_path / "pairs.parquet")]
    )

    assert result.exit_code == 0, result.output
    assert "1 rankings -> 3 pairs" in result.output
    assert (tmp_path / "pairs.parquet").is_file()


def test_pairs_names_a_bad_line(tmp_path: Path) -> None:
    rankings = tmp_path / "rankings.jsonl"
    rankings.write_text('{"prompt": "p", "completions": ["a", "b"]}\n{"prompt": "p"}\n')

    result = CliRunner().invoke(
        app, ["reward", "pairs", str(rankings), "--out", str(tmp_path / "pairs.jsonl")]
    )

    assert result.exit_code != 0
    assert "line 2: completions: Field required" in str(result.exception)
