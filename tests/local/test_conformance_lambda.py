"""Lambda on the local runtime as AWS's Python runtime and the Lambda API document it.

- Error document and marshalling: "AWS Lambda function errors in Python",
  https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html (``errorMessage``,
  ``errorType``, ``requestId``, ``stackTrace``), as awslambdaric writes it
  (``bootstrap.make_error``, ``lambda_runtime_marshaller.LambdaMarshaller``,
  https://github.com/aws/aws-lambda-python-runtime-interface-client); the function's code
  is in /var/task ("Defining Lambda function handlers in Python",
  https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html).
- Invoke's response: https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
  (``X-Amz-Executed-Version``; ``X-Amz-Log-Result``, "the last 4 KB of the execution log,
  which is base64-encoded", only with ``LogType: Tail``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING, Any

from tests.local import conformance_support

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime
    from maas.local.awslambda import LocalFunction

#: The fixture that deploys this module's functions.
deploy = conformance_support.deploy


def _invoke(runtime: LocalRuntime, function: LocalFunction, **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = runtime.client("lambda").invoke(
        FunctionName=function.name, Payload=b"{}", **kwargs
    )
    response["Payload"] = response["Payload"].read()
    return response


# What a handler returns


def test_bytes_a_handler_returns_are_the_response_as_they_are(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    function = deploy("return_bytes")

    response = runtime.client("lambda").invoke(
        FunctionName=function.name, Payload=json.dumps({"text": "plain text, not JSON"})
    )

    assert "FunctionError" not in response
    assert response["Payload"].read() == b"plain text, not JSON"


def test_decimals_are_written_as_their_own_digits(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    response = _invoke(runtime, deploy("return_decimals"))

    assert "FunctionError" not in response
    assert response["Payload"] == b'{"price": 1.10, "count": 3}'


def test_a_named_tuple_is_written_as_an_object(
    runtime: LocalRuntime, deploy: Callable[[str], LocalFunction]
) -> None:
    response = _invoke(runtime, deploy("return_named_tuple"))

    assert json.loads(response["Payload"]) == {
        "point": {"x": 1, "y": 2},
        "path": [{"x": 0, "y": 0}],
        "pair": [1, 2],
    }


def test_text_is_not_ascii_escaped_on_python_3_12(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    response = _invoke(runtime, deploy("return_text"))

    assert response["Payload"] == '{"name": "café ☕"}'.encode()


# The error document


def test_an_error_document_has_awslambdaric_keys_and_the_handler_frames_under_var_task(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    function = deploy("raise_from_a_helper")

    response = _invoke(runtime, function)
    document = json.loads(response["Payload"])
    frames: list[str] = document["stackTrace"]

    assert response["FunctionError"] == "Unhandled"
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document["errorType"] == "JSONDecodeError"
    assert document["errorMessage"] == "Expecting value: line 1 column 1 (char 0)"
    # The first frame is the handler's (none of the runtime's), then its helper's, then
    # the standard library's, at the runtime's own path.
    assert frames[0].startswith('  File "/var/task/tests/local/conformance_handlers.py", line ')
    assert frames[0].split("\n")[0].endswith(", in raise_from_a_helper")
    assert frames[0].split("\n")[1] == '    return _parse("not json")'
    assert frames[1].split("\n")[0].endswith(", in _parse")
    assert all(re.match(r'  File "/var/(task|lang/lib/python3\.12)/', frame) for frame in frames)
    assert any('File "/var/lang/lib/python3.12/json/' in frame for frame in frames)
    # awslambdaric formats (file, line, name, text) tuples: no column carets.
    assert not any("^" in frame for frame in frames)


def test_the_error_document_carries_the_invocation_request_id(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
    log_messages: Callable[[str], list[str]],
) -> None:
    function = deploy("raise_from_a_helper")

    document = json.loads(_invoke(runtime, function)["Payload"])

    assert f"START RequestId: {document['requestId']} Version: $LATEST" in log_messages(
        function.log_group
    )


def test_a_fault_of_the_runtime_has_an_empty_stack_trace(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    document = json.loads(_invoke(runtime, deploy("no_such_handler"))["Payload"])

    assert document["errorType"] == "Runtime.HandlerNotFound"
    assert document["stackTrace"] == []


def test_a_handler_in_a_package_that_does_not_exist_is_runtime_import_module_error(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    function = deploy("no_such_package.module.handler")

    document = json.loads(_invoke(runtime, function)["Payload"])

    assert document["errorType"] == "Runtime.ImportModuleError"
    assert document["errorMessage"] == (
        "Unable to import module 'no_such_package.module': No module named 'no_such_package'"
    )
    assert document["stackTrace"] == []


# Invoke's response


def test_invoke_answers_the_executed_version(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    assert _invoke(runtime, deploy("return_text"))["ExecutedVersion"] == "$LATEST"


def test_log_type_tail_answers_the_invocation_log_base64_encoded(
    runtime: LocalRuntime,
    deploy: Callable[[str], LocalFunction],
) -> None:
    function = deploy("request_id")

    tailed = _invoke(runtime, function, LogType="Tail")
    plain = _invoke(runtime, function)

    request_id = json.loads(tailed["Payload"])
    log = base64.b64decode(tailed["LogResult"]).decode()
    assert log.splitlines() == [
        f"START RequestId: {request_id} Version: $LATEST",
        "the handler ran",
        f"END RequestId: {request_id}",
    ]
    assert "LogResult" not in plain
