"""Licences: from the weights' metadata, the model card, or a LICENSE file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.packaging.licence import licence_of
from maas.packaging.series import ModelFolder

if TYPE_CHECKING:
    from pathlib import Path


def folder_with(tmp_path: Path, files: dict[str, str], licence: str | None = None) -> ModelFolder:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return ModelFolder(
        files={name: tmp_path / name for name in files}, weights=tmp_path, licence=licence
    )


def test_the_model_cards_front_matter_names_the_licence(tmp_path: Path) -> None:
    card = "---\nlicense: llama3.1\nlanguage: [en]\n---\n# Model\nlicense: not this one\n"

    assert licence_of(folder_with(tmp_path, {"README.md": card})) == "llama3.1"


def test_an_other_licence_is_named_by_its_license_name(tmp_path: Path) -> None:
    card = "---\nlicense: other\nlicense_name: glm-4\nlicense_link: LICENSE\n---\n"

    assert licence_of(folder_with(tmp_path, {"README.md": card})) == "glm-4"


def test_without_front_matter_the_licence_files_first_line_names_it(tmp_path: Path) -> None:
    files = {"README.md": "# No front matter\n", "LICENSE": "\n  MIT License\n\nCopyright ...\n"}

    assert licence_of(folder_with(tmp_path, files)) == "MIT License"


def test_a_card_whose_yaml_does_not_parse_names_no_licence(tmp_path: Path) -> None:
    assert licence_of(folder_with(tmp_path, {"README.md": "---\nlicense: : :\n---\n"})) is None


def test_the_weights_own_metadata_comes_first(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"README.md": "---\nlicense: mit\n---\n"}, "apache-2.0")

    assert licence_of(folder) == "apache-2.0"
