"""The foundation stack: encryption, artifacts bucket, registry table, bus, event schemas."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match
from jsonschema import Draft4Validator

from maas.manifest import MANIFEST
from schemas.draft4 import to_draft4
from schemas.events import EVENT_DETAIL_MODELS
from schemas.export import json_schemas
from tests.stacks.cfn_template import logical_id_of, resources

if TYPE_CHECKING:
    from aws_cdk.assertions import Template

    from stacks.control_plane import ControlPlane

pytestmark = pytest.mark.stacks

KEY_ARN = {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]}


def test_key_rotates_and_lets_cloudwatch_logs_encrypt(foundation: Template) -> None:
    foundation.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": Match.any_value()},
                                "Condition": {
                                    "ArnLike": {
                                        "kms:EncryptionContext:aws:logs:arn": Match.any_value()
                                    }
                                },
                            }
                        )
                    ]
                )
            },
        },
    )


def test_artifacts_bucket_is_private_versioned_and_kms_encrypted(foundation: Template) -> None:
    foundation.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": Match.any_value(),
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "BucketKeyEnabled": True,
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": KEY_ARN,
                        },
                    }
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": {"DestinationBucketName": {"Ref": Match.any_value()}},
        },
    )


def test_every_bucket_blocks_public_access_and_refuses_plain_http(
    foundation_json: dict[str, Any], foundation: Template
) -> None:
    buckets = resources(foundation_json, "AWS::S3::Bucket")
    assert len(buckets) == 2  # the artifacts and their access logs
    for properties in buckets.values():
        assert all(properties["PublicAccessBlockConfiguration"].values())
    policies = resources(foundation_json, "AWS::S3::BucketPolicy")
    assert {policy["Bucket"]["Ref"] for policy in policies.values()} == set(buckets)
    for policy in policies.values():
        deny_http = {
            "Effect": "Deny",
            "Action": "s3:*",
            "Principal": {"AWS": "*"},
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        assert any(
            deny_http.items() <= statement.items()
            for statement in policy["PolicyDocument"]["Statement"]
        )


def test_bucket_name_is_derived_from_stage_account_and_region(
    foundation_json: dict[str, Any], plane: ControlPlane
) -> None:
    bucket = plane.foundation.buckets["ArtifactsBucket"]
    properties = foundation_json["Resources"][logical_id_of(bucket)]
    assert properties["Properties"]["BucketName"] == {
        "Fn::Join": [
            "",
            [
                f"maas-{plane.config.name}-artifacts-",
                {"Ref": "AWS::AccountId"},
                "-",
                {"Ref": "AWS::Region"},
            ],
        ]
    }


def test_tables_have_string_keys_pitr_and_the_customer_managed_key(foundation: Template) -> None:
    foundation.resource_count_is("AWS::DynamoDB::Table", len(MANIFEST.tables))
    foundation.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": KEY_ARN},
        },
    )


def test_every_manifest_table_is_built_alike(
    foundation_json: dict[str, Any], plane: ControlPlane
) -> None:
    built = {
        spec.id: foundation_json["Resources"][logical_id_of(plane.foundation.tables[spec.id])]
        for spec in MANIFEST.tables
    }
    assert {"EndpointsTable", "ModelsTable", "IdempotencyTable"} <= set(built)
    # Alike but for the time to live a table's spec asks for.
    first, *others = (
        {
            **table,
            "Properties": {
                key: value
                for key, value in table["Properties"].items()
                if key != "TimeToLiveSpecification"
            },
        }
        for table in built.values()
    )
    for table in others:
        assert table == first


def test_a_table_with_a_time_to_live_attribute_expires_items_by_it(
    foundation_json: dict[str, Any], plane: ControlPlane
) -> None:
    for spec in MANIFEST.tables:
        table = foundation_json["Resources"][logical_id_of(plane.foundation.tables[spec.id])]
        expected = (
            {"AttributeName": spec.time_to_live_attribute, "Enabled": True}
            if spec.time_to_live_attribute
            else None
        )
        assert table["Properties"].get("TimeToLiveSpecification") == expected
    idempotency = next(spec for spec in MANIFEST.tables if spec.id == "IdempotencyTable")
    assert idempotency.time_to_live_attribute == "expiration"


def test_bus_is_archived_for_replay(foundation: Template, plane: ControlPlane) -> None:
    foundation.has_resource_properties(
        "AWS::Events::EventBus", {"Name": f"maas-{plane.config.name}"}
    )
    foundation.has_resource_properties(
        "AWS::Events::Archive",
        {
            "SourceArn": {"Fn::GetAtt": [Match.string_like_regexp("^EventBus"), "Arn"]},
            "EventPattern": {"account": [{"Ref": "AWS::AccountId"}]},
            "RetentionDays": plane.config.event_archive_retention_days,
        },
    )


def test_every_event_schema_is_registered_as_draft4_under_its_source(
    foundation: Template, plane: ControlPlane
) -> None:
    foundation.has_resource_properties(
        "AWS::EventSchemas::Registry", {"RegistryName": f"maas-{plane.config.name}"}
    )
    registered = {
        properties["SchemaName"]: properties
        for properties in resources(foundation.to_json(), "AWS::EventSchemas::Schema").values()
    }
    events = {
        schema["title"]: schema
        for name, schema in json_schemas().items()
        if name.startswith("event.")
    }
    assert set(registered) == {
        f"{'maas' if detail_type in EVENT_DETAIL_MODELS else 'maas.client'}@{detail_type}"
        for detail_type in events
    }
    for name, properties in registered.items():
        assert properties["Type"] == "JSONSchemaDraft4"
        content = json.loads(properties["Content"])
        Draft4Validator.check_schema(content)
        assert content == to_draft4(events[name.split("@")[1]])


def test_manifest_log_groups_are_named_per_stage_and_encrypted(
    foundation: Template, plane: ControlPlane
) -> None:
    for spec in MANIFEST.log_groups:
        foundation.has_resource_properties(
            "AWS::Logs::LogGroup",
            {
                "LogGroupName": f"/maas/{plane.config.name}/{spec.name}",
                "RetentionInDays": Match.any_value(),
                "KmsKeyId": KEY_ARN,
            },
        )


def test_every_log_group_keeps_events_for_the_stage_retention(
    foundation_json: dict[str, Any],
    packaging_json: dict[str, Any],
    lifecycle_json: dict[str, Any],
    plane: ControlPlane,
) -> None:
    assert plane.config.log_retention == "ONE_MONTH"  # the default stage of cdk.json
    for template in (foundation_json, packaging_json, lifecycle_json):
        for properties in resources(template, "AWS::Logs::LogGroup").values():
            assert properties["RetentionInDays"] == 30


def test_outputs_name_the_bus_bucket_and_table_with_descriptions(
    foundation_json: dict[str, Any],
) -> None:
    outputs = foundation_json["Outputs"]
    names = ("EventBusName", "ArtifactsBucketName", *(f"{t.id}Name" for t in MANIFEST.tables))
    for name in names:
        assert outputs[name]["Description"], name
