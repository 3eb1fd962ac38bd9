"""The licence a model is published under, as its own files state it.

In order: the weights' own metadata (a GGUF file's ``general.license``), the model card's
YAML front matter (``license:``, or ``license_name:`` when that says ``other``), then the
first line of a ``LICENSE`` file. None when nothing says.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from huggingface_hub import ModelCard

if TYPE_CHECKING:
    from maas.packaging.series import ModelFolder

logger = logging.getLogger(__name__)

_LICENCE_FILE = re.compile(r"(?i)^licen[cs]e(\.(md|txt))?$")


def card_licence(text: str) -> str | None:
    """The licence a model card's front matter names.

    Examples
    --------
    >>> card_licence("---\\nlicense: apache-2.0\\n---\\n# SmolLM2")
    'apache-2.0'
    >>> card_licence("---\\nlicense: other\\nlicense_name: glm-4\\n---\\n")
    'glm-4'
    >>> card_licence("---\\nlicense: [mit, apache-2.0]\\n---\\n")
    'mit, apache-2.0'
    >>> card_licence("# A card without front matter") is None
    True
    """
    try:
        data = ModelCard(text, ignore_metadata_errors=True).data
    except Exception:
        # A card whose YAML does not parse names no licence; it must not fail the packaging.
        logger.warning("the model card's front matter does not parse", exc_info=True)
        return None
    licence = data.get("license")
    if licence == "other" and data.get("license_name"):
        licence = data.get("license_name")
    if isinstance(licence, list):
        return ", ".join(str(item) for item in licence) or None
    return str(licence) if licence else None


def licence_of(folder: ModelFolder) -> str | None:
    """The model's licence, from the first of its files that names one."""
    if folder.licence:
        return folder.licence
    card = next((path for name, path in folder.files.items() if name.lower() == "readme.md"), None)
    if card is not None and (licence := card_licence(card.read_text(errors="replace"))):
        return licence
    for name, path in sorted(folder.files.items()):
        if _LICENCE_FILE.match(name):
            with path.open(errors="replace") as stream:
                first = next((line.strip() for line in stream if line.strip()), "")
            return first[:200] or None
    return None


__all__ = ["card_licence", "licence_of"]
