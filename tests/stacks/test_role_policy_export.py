"""The statements the local runtime enforces are the ones the stacks synthesize."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from stacks.policy_export import EXPORT_PATH, export

if TYPE_CHECKING:
    from tests.stacks.synthesis import Synthesized


def test_the_committed_export_is_what_the_templates_hold(synthesized: Synthesized) -> None:
    """Fails when a statement changed in stacks/ but maas/data/role_policies.json did not:
    run ``make schemas`` (``python -m stacks.policy_export``) and commit the file."""
    exported = export(synthesized.plane, synthesized.template_dict)

    assert json.loads(EXPORT_PATH.read_text()) == exported


def test_the_tenant_access_role_is_exported_with_its_conditions(
    synthesized: Synthesized,
) -> None:
    documents = export(synthesized.plane, synthesized.template_dict)["Roles"]["TenantAccessRole"]
    conditions = json.dumps(documents["PolicyDocuments"])

    assert "dynamodb:LeadingKeys" in conditions
    assert "aws:ResourceTag/maas:tenant" in conditions
