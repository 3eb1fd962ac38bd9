"""EvalGen assertion sets stored with the model version they were chosen for.

A version record is immutable once registered, so the set is an item of its own beside it:
``pk = TENANT#<tenant>``, ``sk = ASSERTIONS#MODEL#<model>#VERSION#<0000000001>``. Its sort key
does not start with ``MODEL#``, so listing a model's versions never meets it. Storing again
replaces the set (people grade more, selection changes its mind); each write says when.
"""

from __future__ import annotations

from typing import Any

from maas.dynamodb import from_item, key, to_item
from maas.evaluation.evalgen.selection import AssertionSet, StoredAssertionSet
from maas.exceptions import NotFound
from maas.registry.versions import ModelRegistry, _partition


def _sort_key(model_name: str, version: int) -> str:
    return f"ASSERTIONS#MODEL#{model_name}#VERSION#{version:010d}"


class AssertionSetRegistry:
    """Assertion sets of model versions, in the registry's table.

    Parameters
    ----------
    table_name
        The model registry's DynamoDB table, where the versions are.
    dynamodb
        A boto3 DynamoDB client.
    """

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._versions = ModelRegistry(table_name, dynamodb)

    def store(
        self, tenant_id: str, model_name: str, version: int, assertion_set: AssertionSet
    ) -> StoredAssertionSet:
        """Keep ``assertion_set`` with the version; :class:`NotFound` when it does not exist."""
        self._versions.get(tenant_id, model_name, version)
        record = StoredAssertionSet(
            tenant_id=tenant_id, model_name=model_name, version=version, assertion_set=assertion_set
        )
        self._dynamodb.put_item(
            TableName=self.table_name,
            Item=to_item(
                record, {"pk": _partition(tenant_id), "sk": _sort_key(model_name, version)}
            ),
        )
        return record

    def get(self, tenant_id: str, model_name: str, version: int) -> StoredAssertionSet:
        """The set stored with the version, or :class:`NotFound`."""
        response = self._dynamodb.get_item(
            TableName=self.table_name,
            Key=key(_partition(tenant_id), _sort_key(model_name, version)),
            ConsistentRead=True,
        )
        if "Item" not in response:
            raise NotFound(
                f"assertions: no assertion set stored with version {version} of {model_name!r}"
            )
        return from_item(response["Item"], StoredAssertionSet)


__all__ = ["AssertionSetRegistry", "StoredAssertionSet"]
