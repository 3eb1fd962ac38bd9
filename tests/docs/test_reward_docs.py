"""docs/reward.md's commands, run as written from a folder where ``tests/`` is the repository's
(so the files they write stay out of the checkout)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.docblocks import ROOT, containing, runs
from tests.docs.support import bash

if TYPE_CHECKING:
    from pathlib import Path

(COMMANDS,) = runs("docs/reward.md", "bash", containing("maas reward pairs"))


def test_the_commands_make_pairs_and_train_a_reward_model(tmp_path: Path) -> None:
    (tmp_path / "tests").symlink_to(ROOT / "tests")

    printed = bash(COMMANDS.text, cwd=tmp_path, timeout=600, where=COMMANDS.where)

    assert "49 rankings -> 147 pairs in pairs.parquet" in printed
    assert "epoch 20/20" in printed
    assert "held-out pairwise accuracy" in printed
    assert any((tmp_path / "reward-model").glob("*.safetensors"))
