"""Grading sessions in the models table, for the API: under the tenant's partition.

Keys, ``pk = TENANT#<tenant>`` and a sort key per record:

- ``EVALGEN#<session>#SESSION``: what the session grades for (:class:`SessionInfo`);
- ``EVALGEN#<session>#OUTPUT#<output id>``: one output each, written once (a conditional
  put, so two requests adding the same id at once cannot both win);
- ``EVALGEN#<session>#GRADE#<graded at>#<nonce>``: one grade each, append-only, in order;
- ``EVALGEN#<session>#CRITERIA`` and ``EVALGEN#<session>#SELECTION``: replaced whole.

Listing model versions (``MODEL#``), evaluations (``EVALUATION#``), assertion sets
(``ASSERTIONS#``) or pipelines (``PIPELINE#``) never meets these keys. The tenant access
role may ``GetItem``, ``Query`` and ``PutItem`` on its own partition only
(``dynamodb:LeadingKeys``), which is every call made here; the same rules as for files
hold, being :class:`~maas.evaluation.evalgen.grading.GradingSession`'s.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from maas.aws import error_code
from maas.dynamodb import from_item, key, to_item
from maas.evaluation.evalgen.criteria import Candidates
from maas.evaluation.evalgen.grading import GradingSession, SessionInfo, check_session_name
from maas.evaluation.evalgen.records import EvalOutput, Grade
from maas.evaluation.evalgen.selection import SelectionReport
from maas.exceptions import Conflict, NotFound, ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_PREFIX = "EVALGEN#"
#: An attribute only a session's own item carries, so that listing can filter on it (a
#: filter may not name the sort key); the records ignore it when read.
_SESSION_MARK = "evalgen_session"

ModelT = TypeVar("ModelT", bound=BaseModel)


def _partition(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


class _StoredOutput(BaseModel):
    # Query order is by output id; the order added is kept beside the output.
    model_config = ConfigDict(frozen=True)

    output: EvalOutput
    added_at: datetime
    index: int = Field(ge=0)


class _StoredCriteria(BaseModel):
    model_config = ConfigDict(frozen=True)

    criteria: list[Candidates]


class TableSessionStorage:
    """One tenant's session in a DynamoDB table (``pk``/``sk`` strings).

    Parameters
    ----------
    table_name
        The models table.
    dynamodb
        A boto3 DynamoDB client (the tenant's, in the API).
    tenant_id
        Whose session it is.
    name
        The session's name.
    """

    def __init__(self, table_name: str, dynamodb: Any, tenant_id: str, name: str) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb
        self._name = check_session_name(name)
        self._pk = _partition(tenant_id)
        self._sk = f"{_PREFIX}{name}#"

    @property
    def name(self) -> str:
        """The session's name."""
        return self._name

    def keep_info(self, info: SessionInfo) -> SessionInfo:
        try:
            self._put(info, "SESSION", extra={_SESSION_MARK: "1"}, new=True)
        except Conflict:
            held = self.read_info()
            assert held is not None
            return held
        return info

    def read_info(self) -> SessionInfo | None:
        return self._get("SESSION", SessionInfo)

    def read_outputs(self) -> list[EvalOutput]:
        stored = [from_item(item, _StoredOutput) for item in self._query("OUTPUT#")]
        return [entry.output for entry in sorted(stored, key=lambda e: (e.added_at, e.index))]

    def append_outputs(self, outputs: Sequence[EvalOutput]) -> None:
        added_at = datetime.now(UTC)
        for index, output in enumerate(outputs):
            record = _StoredOutput(output=output, added_at=added_at, index=index)
            try:
                self._put(record, f"OUTPUT#{output.id}", new=True)
            except Conflict:
                # Another request added this id meanwhile: the same output is no change.
                held = self._get(f"OUTPUT#{output.id}", _StoredOutput)
                if held is None or held.output != output:
                    raise Conflict(
                        f"session {self._name!r}: output {output.id!r} is already held with "
                        "other text"
                    ) from None

    def read_grades(self) -> list[Grade]:
        return [from_item(item, Grade) for item in self._query("GRADE#")]

    def append_grade(self, grade: Grade) -> None:
        # The time first, so a query reads the grades in the order given; the nonce keeps two
        # grades given in the same microsecond apart.
        self._put(grade, f"GRADE#{grade.graded_at.isoformat()}#{uuid.uuid4().hex[:8]}")

    def read_criteria(self) -> list[Candidates]:
        stored = self._get("CRITERIA", _StoredCriteria)
        return [] if stored is None else stored.criteria

    def write_criteria(self, criteria: Sequence[Candidates]) -> None:
        self._put(_StoredCriteria(criteria=list(criteria)), "CRITERIA")

    def read_selection(self) -> SelectionReport | None:
        return self._get("SELECTION", SelectionReport)

    def write_selection(self, report: SelectionReport) -> None:
        self._put(report, "SELECTION")

    # -- plumbing ------------------------------------------------------------------------

    def _put(
        self,
        document: BaseModel,
        suffix: str,
        *,
        extra: dict[str, str] | None = None,
        new: bool = False,
    ) -> None:
        """Put one record; with ``new``, :class:`Conflict` when its key is taken."""
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_item(document, {"pk": self._pk, "sk": self._sk + suffix, **(extra or {})}),
        }
        if new:
            arguments["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self._dynamodb.put_item(**arguments)
        except ClientError as exc:
            code = error_code(exc)
            if code == "ConditionalCheckFailedException":
                raise Conflict(f"session {self._name!r}: {suffix} is held already") from None
            if code == "ValidationException" and "size" in str(exc).lower():
                raise ValidationError(
                    f"session {self._name!r}: {suffix} is too large to keep (a DynamoDB item "
                    "holds at most 400 KB)"
                ) from None
            raise

    def _get(self, suffix: str, model: type[ModelT]) -> ModelT | None:
        response = self._dynamodb.get_item(
            TableName=self.table_name, Key=key(self._pk, self._sk + suffix), ConsistentRead=True
        )
        return from_item(response["Item"], model) if "Item" in response else None

    def _query(self, suffix: str) -> Iterator[dict[str, Any]]:
        yield from _query(
            self._dynamodb,
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": self._pk},
                    ":prefix": {"S": self._sk + suffix},
                },
                "ConsistentRead": True,
            },
        )


def _query(dynamodb: Any, arguments: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a query finds, across pages."""
    while True:
        page = dynamodb.query(**arguments)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        arguments = {**arguments, "ExclusiveStartKey": page["LastEvaluatedKey"]}


class SessionTable:
    """Every tenant's grading sessions in the models table.

    Parameters
    ----------
    table_name
        The models table.
    dynamodb
        A boto3 DynamoDB client.
    """

    def __init__(self, table_name: str, dynamodb: Any) -> None:
        self.table_name = table_name
        self._dynamodb = dynamodb

    def session(self, tenant_id: str, name: str) -> GradingSession:
        """The tenant's session ``name``, whether or not it was begun."""
        return GradingSession(TableSessionStorage(self.table_name, self._dynamodb, tenant_id, name))

    def get(self, tenant_id: str, name: str) -> GradingSession:
        """The tenant's session ``name``, or :class:`NotFound` unless it was begun."""
        session = self.session(tenant_id, name)
        if session.info() is None:
            raise NotFound(f"session: no grading session {name!r} for this tenant")
        return session

    def list(self, tenant_id: str) -> list[SessionInfo]:
        """The tenant's sessions, by name.

        One query over the tenant's EvalGen items, returning only the sessions' own: the
        reads are the same as for the outputs and grades, which is fine for the few
        sessions people grade by hand.
        """
        items = _query(
            self._dynamodb,
            {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "FilterExpression": "attribute_exists(#mark)",
                "ExpressionAttributeNames": {"#mark": _SESSION_MARK},
                "ExpressionAttributeValues": {
                    ":pk": {"S": _partition(tenant_id)},
                    ":prefix": {"S": _PREFIX},
                },
            },
        )
        return sorted((from_item(item, SessionInfo) for item in items), key=lambda i: i.name)


__all__ = ["SessionTable", "TableSessionStorage"]
