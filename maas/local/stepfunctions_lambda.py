"""The ``arn:aws:states:::lambda:invoke`` integration's output, as Step Functions gives it.

https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html: the task's result
is Lambda's ``Invoke`` response as the AWS SDK for Java sees it, ``ExecutedVersion``,
``Payload`` (the function's result, parsed), ``SdkHttpMetadata`` (the HTTP headers and
status), ``SdkResponseMetadata`` (the request id) and ``StatusCode``, plus ``LogResult``
when the task asks for ``LogType: Tail``. moto 5.2 keeps ``StatusCode`` and ``Payload`` and
drops the rest, so a ``ResultSelector`` reading ``$.SdkResponseMetadata.RequestId`` or
``$.ExecutedVersion`` fails locally and not on AWS. This builds the output from the
``Invoke`` response the way AWS lays it out; errors are moto's (a function error is the
error document as the cause, named by its ``errorType``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import ExitStack

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import (
        StateCredentials,
    )
    from moto.stepfunctions.parser.asl.eval.environment import Environment


def integration_output(response: dict[str, Any], payload: Any) -> dict[str, Any]:
    """The task result for Lambda's ``Invoke`` ``response`` whose payload parsed to ``payload``."""
    metadata = response["ResponseMetadata"]
    received = metadata.get("HTTPHeaders", {})
    request_id = metadata["RequestId"]
    version = response.get("ExecutedVersion", "$LATEST")
    # The headers Lambda answers Invoke with, in the casing Step Functions reports them.
    headers = {
        "Connection": "keep-alive",
        "Content-Length": received.get("content-length"),
        "Content-Type": received.get("content-type"),
        "Date": received.get("date"),
        "X-Amz-Executed-Version": version,
        "x-amzn-Remapped-Content-Length": "0",
        "x-amzn-RequestId": request_id,
        "X-Amzn-Trace-Id": received.get("x-amzn-trace-id"),
    }
    headers = {name: value for name, value in headers.items() if value is not None}
    output: dict[str, Any] = {"ExecutedVersion": version}
    if "LogResult" in response:
        output["LogResult"] = response["LogResult"]
    output.update(
        {
            "Payload": payload,
            "SdkHttpMetadata": {
                "AllHttpHeaders": {name: [value] for name, value in headers.items()},
                "HttpHeaders": headers,
                "HttpStatusCode": metadata["HTTPStatusCode"],
            },
            "SdkResponseMetadata": {"RequestId": request_id},
            "StatusCode": response["StatusCode"],
        }
    )
    return output


def install(stack: ExitStack) -> None:
    """Give ``lambda:invoke`` tasks AWS's output until ``stack`` closes."""
    original: Callable[..., None] = lambda_eval_utils.execute_lambda_function_integration

    def execute(
        env: Environment,
        parameters: dict[str, Any],
        region: str,
        state_credentials: StateCredentials,
    ) -> None:
        if env.is_mocked_mode():
            original(env, parameters, region, state_credentials)  # a test's mocked response
            return
        # Looked up on its module at each call: maas.local.workflow_credentials replaces it
        # there with one that signs as the state machine's role.
        client: Any = boto_client_module.boto_client_for(
            region=region, service="lambda", state_credentials=state_credentials
        )
        response = client.invoke(**parameters)
        payload = lambda_eval_utils._from_payload(response["Payload"])
        function_error = response.get("FunctionError")
        if function_error:
            # As moto raises it: the error document, compact, becomes the task's cause.
            raise lambda_eval_utils.LambdaFunctionErrorException(
                function_error, json.dumps(payload, separators=(",", ":"))
            )
        env.stack.append(integration_output(response, payload))

    stack.enter_context(replace(lambda_eval_utils, "execute_lambda_function_integration", execute))


__all__ = ["install", "integration_output"]
