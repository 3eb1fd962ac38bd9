"""What the console answers when AWS refuses it or cannot be reached: a page that says so.

Run against AWS (``maas console``) the credentials may lack a read right, or be missing. The
first is AWS's ``AccessDeniedException``, answered 403 with AWS's message; the second is
botocore's ``NoCredentialsError`` before any request, answered 503 (nothing was reached).
Error shape: https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.stub import Stubber

from maas.console import ConsoleApp, ConsoleData

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

HOST = "127.0.0.1:8100"


def test_a_read_the_credentials_may_not_make_is_a_403_page_with_awss_message() -> None:
    stepfunctions = boto3.client(
        "stepfunctions",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(stepfunctions)
    message = (
        "User: arn:aws:iam::123456789012:user/viewer is not authorized to perform: "
        "states:ListStateMachines"
    )
    stubber.add_client_error(
        "list_state_machines",
        service_error_code="AccessDeniedException",
        service_message=message,
        http_status_code=400,
    )

    def client(service: str) -> Any:
        assert service == "stepfunctions"
        return stepfunctions

    app = ConsoleApp(ConsoleData(client, endpoints_table=None, models_table=None))
    with stubber:
        response = app.respond("GET", "/console/workflows", HOST)

    assert response.status == 403
    assert "not authorized to perform: states:ListStateMachines" in response.body.decode()


def test_no_credentials_is_a_503_page_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def client(service: str) -> Any:
        return boto3.session.Session().client(service, region_name="us-east-1")  # type: ignore[call-overload]

    app = ConsoleApp(ConsoleData(client, endpoints_table=None, models_table=None))

    response = app.respond("GET", "/console/executions", HOST)

    assert response.status == 503
    assert "AWS not reached" in response.body.decode()
    assert "Unable to locate credentials" in response.body.decode()


def test_without_the_tables_the_endpoints_and_models_pages_say_which_to_give() -> None:
    def client(service: str) -> Any:
        raise AssertionError(f"nothing to read from {service} without a table")

    app = ConsoleApp(ConsoleData(client, endpoints_table=None, models_table=None))

    endpoints = app.respond("GET", "/console/endpoints", HOST)
    models = app.respond("GET", "/console/models", HOST)
    assert endpoints.status == models.status == 200
    assert "No endpoints table given: set ENDPOINTS_TABLE_NAME" in endpoints.body.decode()
    assert "No models table given: set MODELS_TABLE_NAME" in models.body.decode()
