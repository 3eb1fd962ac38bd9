"""The foundation stack: what the control plane keeps, and where its events go.

A KMS key; the manifest's buckets, tables and log groups; the custom event bus and its
archive. The data and the bus live here, so the lifecycle stack can be replaced (or
deleted and deployed again) without losing them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_logs as logs

from maas.manifest import EVENT_BUS, MANIFEST, Ref, RefKind
from schemas.draft4 import to_draft4
from schemas.events import EVENT_DETAIL_MODELS, EVENT_SOURCE
from schemas.export import json_schemas
from schemas.lifecycle import CLIENT_EVENT_SOURCE
from stacks import iam_policies
from stacks.constructs.encryption_key import EncryptionKey
from stacks.constructs.secure_bucket import SecureBucket

if TYPE_CHECKING:
    from aws_cdk import Environment
    from aws_cdk import aws_s3 as s3
    from constructs import Construct

    from maas.manifest import BucketSpec, LogGroupSpec, TableSpec
    from stacks.config import StageConfig
    from stacks.refs import RefResolver


class FoundationStack(Stack):
    """Key, buckets, tables, event bus with archive, and log groups of one stage.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration.
    refs
        The register of manifest refs; this stack registers its buckets, tables, bus and
        log groups in it.
    env
        The target account and region, or None for an environment-agnostic template.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        refs: RefResolver,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("foundation"),
            description="maas control plane: encryption key, artifacts, registry, event bus.",
            env=env,
        )
        self._config = config

        # --- Encryption ---------------------------------------------------------------
        self.key = EncryptionKey(
            self,
            "EncryptionKey",
            alias=f"maas/{config.name}",
            removal_policy=config.cdk_removal_policy,
        ).key

        # --- Storage --------------------------------------------------------------------
        self.buckets = {spec.id: self._bucket(spec) for spec in MANIFEST.buckets}
        self.tables = {spec.id: self._table(spec) for spec in MANIFEST.tables}

        # --- Events ---------------------------------------------------------------------
        self.event_bus = events.EventBus(
            self,
            "EventBus",
            event_bus_name=f"maas-{config.name}",
            description="The maas control plane's events: source maas, one detail-type each.",
        )
        self.event_bus.archive(
            "Archive",
            description="Every event on the maas bus, for replay.",
            # An archive needs a pattern; the account matches every event on the bus.
            event_pattern=events.EventPattern(account=[Aws.ACCOUNT_ID]),
            retention=Duration.days(config.event_archive_retention_days),
        )
        self.log_groups = {spec.id: self._log_group(spec) for spec in MANIFEST.log_groups}
        self.schema_registry = self._schema_registry(config)

        # --- What the lifecycle stack refers to ---------------------------------------
        for bucket_id, bucket in self.buckets.items():
            refs.register(Ref(kind=RefKind.BUCKET_NAME, target=bucket_id), bucket.bucket_name)
        for table_id, table in self.tables.items():
            refs.register(Ref(kind=RefKind.TABLE_NAME, target=table_id), table.table_name)
        refs.register(EVENT_BUS, self.event_bus.event_bus_name)
        for group_id, group in self.log_groups.items():
            refs.register(Ref(kind=RefKind.LOG_GROUP_ARN, target=group_id), group.log_group_arn)

        # --- Outputs --------------------------------------------------------------------
        CfnOutput(
            self,
            "EventBusName",
            value=self.event_bus.event_bus_name,
            description="The custom event bus the control plane publishes on.",
        )
        for bucket_spec in MANIFEST.buckets:
            CfnOutput(
                self,
                f"{bucket_spec.id}Name",
                value=self.buckets[bucket_spec.id].bucket_name,
                description=bucket_spec.description,
            )
        for table_spec in MANIFEST.tables:
            CfnOutput(
                self,
                f"{table_spec.id}Name",
                value=self.tables[table_spec.id].table_name,
                description=table_spec.description,
            )

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        return SecureBucket(
            self,
            spec.id,
            bucket_name=bucket_name(self._config, spec.id),
            encryption_key=self.key,
            removal_policy=self._config.cdk_removal_policy,
        ).bucket

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            spec.id,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self._config.removal_policy == "retain",
            removal_policy=self._config.cdk_removal_policy,
            time_to_live_attribute=spec.time_to_live_attribute,
        )

    def _schema_registry(self, config: StageConfig) -> eventschemas.CfnRegistry:
        """The event catalog: one schema per detail-type, the detail's, as the models say.

        The registry takes JSON Schema draft 4 (or OpenAPI 3), not the 2020-12 the models
        generate: each schema is converted (:func:`schemas.draft4.to_draft4`).
        """
        registry = eventschemas.CfnRegistry(
            self,
            "SchemaRegistry",
            registry_name=f"maas-{config.name}",
            description="The maas control plane's events: the detail of each detail-type.",
        )
        for file_name, schema in sorted(json_schemas().items()):
            if not file_name.startswith("event."):
                continue
            detail_type = schema["title"]
            # Every event the control plane publishes, and the one clients publish to it.
            source = EVENT_SOURCE if detail_type in EVENT_DETAIL_MODELS else CLIENT_EVENT_SOURCE
            eventschemas.CfnSchema(
                self,
                f"{detail_type}Schema",
                registry_name=registry.attr_registry_name,
                schema_name=f"{source}@{detail_type}",
                type="JSONSchemaDraft4",
                content=json.dumps(to_draft4(schema), sort_keys=True),
                description=f"The detail of {source} {detail_type} events."[:256],
            )
        return registry

    def _log_group(self, spec: LogGroupSpec) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            spec.id,
            log_group_name=f"/maas/{self._config.name}/{spec.name}",
            retention=self._config.retention,
            encryption_key=self.key,
            removal_policy=self._config.cdk_removal_policy,
        )


def bucket_name(config: StageConfig, bucket_id: str) -> str:
    """The name of the manifest's bucket ``bucket_id`` in a stage.

    Derived from stage, account and region: unique, and known in advance to whoever uploads
    model artifacts. ``ArtifactsBucket`` in stage ``dev`` is
    ``maas-dev-artifacts-<account>-<region>``.
    """
    concern = re.sub(r"(?<!^)(?=[A-Z])", "-", bucket_id.removesuffix("Bucket")).lower()
    return f"maas-{config.name}-{concern}-{Aws.ACCOUNT_ID}-{Aws.REGION}"


def bucket_arn(config: StageConfig, bucket_id: str) -> str:
    """The ARN of the manifest's bucket ``bucket_id`` in a stage, built from its name.

    Other stacks use it instead of a cross-stack reference: an IAM5 acknowledgment for the
    bucket's objects is written while the stack is built, when a reference to another stack
    has not yet taken its final form.
    """
    return iam_policies.arn("s3", bucket_name(config, bucket_id), region="", account="")


__all__ = ["FoundationStack", "bucket_arn", "bucket_name"]
