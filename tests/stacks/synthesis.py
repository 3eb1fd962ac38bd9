"""What synthesizing the app produced: the app, its stage, the assembly or the failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    import aws_cdk as cdk
    from aws_cdk.cx_api import CloudAssembly

    from stacks.control_plane import ControlPlane


@dataclass(frozen=True)
class Synthesized:
    """The app, its stage, and what synthesis produced (or why it failed)."""

    app: cdk.App
    plane: ControlPlane
    outdir: Path
    assembly: CloudAssembly | None
    error: str | None

    def template_dict(self, stack: cdk.Stack) -> dict[str, Any]:
        """The synthesized template of ``stack`` as a dict."""
        if self.assembly is None:
            pytest.fail(f"synthesis failed: {self.error}")
        template: dict[str, Any] = self.assembly.get_stack_by_name(stack.stack_name).template
        return template
