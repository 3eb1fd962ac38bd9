"""The API stack: every operation behind the user pool, a traced and logged stage, tenants kept
from changing their own tenant."""

from __future__ import annotations

import json
from typing import Any

from schemas.api import OPENAPI_FILE, PUBLIC_PATHS
from stacks.api_definition import API_KEY_SCHEME, SECURITY_SCHEME, gateway_definition


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == kind
    ]


def definition(api_json: dict[str, Any]) -> dict[str, Any]:
    (api,) = resources(api_json, "AWS::ApiGateway::RestApi")
    body: dict[str, Any] = api["Body"]
    return body


def test_every_operation_of_the_document_is_an_authorized_proxy_of_the_api_function(
    api_json: dict[str, Any],
) -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    body = definition(api_json)

    assert set(document["paths"]) | set(PUBLIC_PATHS) == set(body["paths"])
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (method, path)
            assert "ApiFunction" in json.dumps(integration["uri"]), (method, path)
            if path in PUBLIC_PATHS:
                assert operation["security"] == []
            else:
                assert operation["security"] == [{SECURITY_SCHEME: []}], (method, path)
    scheme = body["components"]["securitySchemes"][SECURITY_SCHEME]
    assert scheme["x-amazon-apigateway-authorizer"]["type"] == "cognito_user_pools"
    assert body["x-amazon-apigateway-request-validator"] == "params"


def test_required_parameters_are_validated_at_the_edge(api_json: dict[str, Any]) -> None:
    metrics = definition(api_json)["paths"]["/metrics"]["get"]

    assert {(item["name"], item["required"]) for item in metrics["parameters"]} == {
        ("instanceName", True),
        ("metricName", True),
    }


def test_the_stage_is_traced_logged_and_throttled(api_json: dict[str, Any]) -> None:
    (stage,) = resources(api_json, "AWS::ApiGateway::Stage")

    assert stage["TracingEnabled"] is True
    assert "AccessLogs" in json.dumps(stage["AccessLogSetting"]["DestinationArn"])
    assert "$context.requestId" in stage["AccessLogSetting"]["Format"]
    (settings,) = stage["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] == 50
    assert settings["ThrottlingBurstLimit"] == 100


def test_only_api_gateway_may_invoke_the_function_from_this_api(api_json: dict[str, Any]) -> None:
    (permission,) = resources(api_json, "AWS::Lambda::Permission")

    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert "RestApi" in json.dumps(permission["SourceArn"])


def test_users_cannot_change_their_own_tenant(api_json: dict[str, Any]) -> None:
    (pool,) = resources(api_json, "AWS::Cognito::UserPool")
    (client,) = resources(api_json, "AWS::Cognito::UserPoolClient")

    (tenant,) = [item for item in pool["Schema"] if item["Name"] == "tenant_id"]
    assert tenant["Mutable"] is False
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert "custom:tenant_id" in client["ReadAttributes"]
    assert "custom:tenant_id" not in client["WriteAttributes"]
    assert client["GenerateSecret"] is False


def test_usage_plans_require_api_keys_on_every_authorized_operation() -> None:
    document = json.loads(OPENAPI_FILE.read_text())

    body = gateway_definition(
        document,
        function_arn="arn:fn",
        user_pool_arn="arn:pool",
        partition_region="aws:apigateway:eu-west-1",
        require_api_key=True,
    )

    for path, operations in body["paths"].items():
        for operation in operations.values():
            expected: list[dict[str, list[str]]] = (
                [] if path in PUBLIC_PATHS else [{SECURITY_SCHEME: [], API_KEY_SCHEME: []}]
            )
            assert operation["security"] == expected
    assert body["x-amazon-apigateway-api-key-source"] == "HEADER"


def role_named(template: dict[str, Any], fragment: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, resource)
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and logical_id.startswith(fragment)
    ]
    return found


def role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": role_id} in resource["Properties"]["Roles"]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_api_acts_only_as_its_callers_tenant(lifecycle_json: dict[str, Any]) -> None:
    role_id, role = role_named(lifecycle_json, "TenantAccessRole")
    statements = role_statements(lifecycle_json, role_id)
    by_action = {action: statement for statement in statements for action in _actions(statement)}

    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert all("aws:RequestTag/maas:tenant" in json.dumps(item["Condition"]) for item in trust)
    assert {"sts:AssumeRole", "sts:TagSession"} <= {a for item in trust for a in _actions(item)}
    leading_keys = by_action["dynamodb:Query"]["Condition"]["ForAllValues:StringEquals"]
    assert leading_keys == {"dynamodb:LeadingKeys": ["TENANT#${aws:PrincipalTag/maas:tenant}"]}
    assert by_action["sagemaker:DescribeEndpoint"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/maas:tenant": "${aws:PrincipalTag/maas:tenant}"}
    }
    executions = json.dumps(by_action["states:DescribeExecution"]["Resource"])
    assert ":${aws:PrincipalTag/maas:tenant}_*" in executions
    # A review's grades go on the tenant's evaluation record: a put, in its partition only;
    # the usage counters (maas.usage) are ADDed to with an update, in the same partition;
    # a dataset's records are deleted (maas.datasets.store), in the same partition too.
    put = by_action["dynamodb:PutItem"]
    assert by_action["dynamodb:UpdateItem"] is put
    assert by_action["dynamodb:DeleteItem"] is put
    assert sorted(_actions(put)) == [
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert put["Condition"]["ForAllValues:StringEquals"] == leading_keys
    assert "ModelsTable" in json.dumps(put["Resource"])
    assert "EndpointsTable" not in json.dumps(put["Resource"])
    assert "dynamodb:Scan" not in by_action
    # Datasets (maas.datasets.store): objects written and deleted in the tenant's datasets
    # folder only, and the bucket listed only under the tenant's folder.
    written = by_action["s3:PutObject"]
    assert by_action["s3:DeleteObject"] is written
    assert json.dumps(written["Resource"]).endswith(
        '/${aws:PrincipalTag/maas:tenant}/_datasets/*"]]}'
    )
    assert by_action["s3:ListBucket"]["Condition"] == {
        "StringLike": {"s3:prefix": "${aws:PrincipalTag/maas:tenant}/*"}
    }


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)
