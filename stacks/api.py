"""The API stack: the REST API in front of the API function, and the users it admits.

What gets built:

- a Cognito user pool whose users carry their tenant in ``custom:tenant_id``, set by an
  administrator and never writable by the user, and an app client for the SDK and CLI;
- an API Gateway REST API whose definition is derived from the generated OpenAPI document
  (:mod:`stacks.api_definition`): every operation a Lambda proxy integration of the API
  function behind the user pool's authorizer, parameters validated at the edge;
- a stage with X-Ray tracing, JSON access logs, execution logs for errors, metrics, the
  stage's throttle, per-tenant usage plans and API keys when configured, and a WAF web ACL
  when one is named.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from schemas.api import OPENAPI_FILE
from stacks.api_definition import gateway_definition
from stacks.nag import acknowledge

if TYPE_CHECKING:
    from aws_cdk import Environment
    from constructs import Construct

    from stacks.config import StageConfig
    from stacks.foundation import FoundationStack
    from stacks.lifecycle import LifecycleStack

#: The user attribute that names a user's tenant (``custom:tenant_id`` in tokens).
TENANT_ATTRIBUTE = "tenant_id"


class ApiStack(Stack):
    """The REST API of one stage, and its user pool.

    Parameters
    ----------
    scope, id
        Where the stack lives.
    config
        The stage configuration (throttles, plans and WAF under ``api``).
    foundation
        The stage's foundation: the key the access logs are encrypted with.
    lifecycle
        The stage's lifecycle stack: the API function.
    env
        The target account and region, or None for an environment-agnostic template.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StageConfig,
        foundation: FoundationStack,
        lifecycle: LifecycleStack,
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=config.stack_name("api"),
            description="maas control plane: the REST API, its user pool and usage plans.",
            env=env,
        )
        self._config = config
        function = lifecycle.functions["Api"].function

        # --- Who may call -----------------------------------------------------------------
        self.user_pool = self._user_pool()
        self.client = self.user_pool.add_client(
            "SdkClient",
            user_pool_client_name=f"maas-{config.name}-sdk",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            prevent_user_existence_errors=True,
            read_attributes=cognito.ClientAttributes()
            .with_standard_attributes(email=True, email_verified=True)
            .with_custom_attributes(TENANT_ATTRIBUTE),
            # The tenant is not among what a user may write: an administrator sets it.
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )

        # --- The API ----------------------------------------------------------------------
        document = json.loads(OPENAPI_FILE.read_text())
        require_api_key = bool(config.api.tenant_plans)
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=config.retention,
            encryption_key=foundation.key,
            removal_policy=config.cdk_removal_policy,
        )
        self.api = apigateway.SpecRestApi(
            self,
            "RestApi",
            rest_api_name=f"maas-{config.name}",
            description="maas control plane REST API",
            api_definition=apigateway.ApiDefinition.from_inline(
                gateway_definition(
                    document,
                    function_arn=function.function_arn,
                    user_pool_arn=self.user_pool.user_pool_arn,
                    partition_region=f"{Aws.PARTITION}:apigateway:{Aws.REGION}",
                    require_api_key=require_api_key,
                )
            ),
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=True,
            deploy_options=apigateway.StageOptions(
                stage_name=config.name,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                throttling_rate_limit=config.api.rate_limit,
                throttling_burst_limit=config.api.burst_limit,
            ),
        )
        # In this stack, not the function's: the lifecycle stack cannot refer to the API.
        lambda_.CfnPermission(
            self,
            "InvokedByApi",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="apigateway.amazonaws.com",
            source_arn=self.api.arn_for_execute_api(),
        )
        self._usage_plans()
        self._web_acl()
        self._acknowledge()

        CfnOutput(self, "ApiUrl", value=self.api.url, description="The REST API's base URL.")
        CfnOutput(self, "StageArn", value=self.api.deployment_stage.stage_arn)
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=self.client.user_pool_client_id)

    def _user_pool(self) -> cognito.UserPool:
        return cognito.UserPool(
            self,
            "Users",
            user_pool_name=f"maas-{self._config.name}",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            custom_attributes={
                TENANT_ATTRIBUTE: cognito.StringAttribute(min_len=1, max_len=32, mutable=False)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=self._config.cdk_removal_policy,
        )

    def _usage_plans(self) -> None:
        """One usage plan and API key per configured tenant."""
        for tenant, plan in sorted(self._config.api.tenant_plans.items()):
            key = self.api.add_api_key(f"ApiKey-{tenant}", api_key_name=f"maas-{tenant}")
            usage = self.api.add_usage_plan(
                f"UsagePlan-{tenant}",
                name=f"maas-{self._config.name}-{tenant}",
                throttle=apigateway.ThrottleSettings(
                    rate_limit=plan.rate_limit, burst_limit=plan.burst_limit
                ),
                quota=(
                    apigateway.QuotaSettings(
                        limit=plan.requests_per_day, period=apigateway.Period.DAY
                    )
                    if plan.requests_per_day
                    else None
                ),
            )
            usage.add_api_key(key)
            usage.add_api_stage(stage=self.api.deployment_stage)

    def _web_acl(self) -> None:
        if self._config.api.web_acl_arn:
            wafv2.CfnWebACLAssociation(
                self,
                "WebAcl",
                resource_arn=self.api.deployment_stage.stage_arn,
                web_acl_arn=self._config.api.web_acl_arn,
            )
        else:
            acknowledge(
                self.api.deployment_stage,
                "AwsSolutions-APIG3",
                "No web ACL is named in the stage configuration (api.web_acl_arn); the API "
                "is behind the Cognito authorizer and the stage's throttle, and the StageArn "
                "output is where a web ACL is associated.",
            )

    def _acknowledge(self) -> None:
        acknowledge(
            self.api,
            "AwsSolutions-APIG2",
            "Request parameters are validated by API Gateway (the 'params' validator of the "
            "definition); bodies are validated by the API function against the same pydantic "
            "models, which names each bad field in a 422 problem.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-wide role API Gateway writes execution logs with; AWS's managed "
            "policy is the one the service documents for it.",
        )


__all__ = ["TENANT_ATTRIBUTE", "ApiStack"]
