"""Each local state machine calls services with a session of its own execution role, as on AWS.

Why this exists: Step Functions makes a state machine's service calls (``aws-sdk:*`` and the
optimised integrations: ``lambda:invoke``, ``states:startExecution.sync:2``,
``batch:submitJob.sync``, ``events:putEvents``, ``dynamodb:*``) with the credentials of the
state machine's execution role, or of the role a Task state names in its ``Credentials``
field ("Step Functions execution role",
https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html;
"Task state: Credentials",
https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html#task-state-fields).
moto's interpreter makes them through ``boto_client_for(region, service, state_credentials)``
with fixed fake keys, so none was checked.

Which role: moto already carries it. Each execution's environment holds its role
(``Environment.aws_execution_details.role_arn``, set from the state machine when
``StartExecution`` builds the execution's worker), every Task state turns it, or its own
``Credentials.RoleArn``, into the ``state_credentials`` it hands ``boto_client_for``, and the
Map and Parallel branches' threads inherit their parent's environment. So no thread needs to
know its execution: :func:`install` replaces ``boto_client_for`` (in its module and in every
module that imported it by name) with one that signs with a session of
``state_credentials.role_arn``, assumed through the emulated STS and renewed by
:class:`maas.local.function_credentials.FunctionCredentials`, in a boto3 session of its own
(:class:`maas.local.function_credentials.CredentialSessions`: one created while the
enforcement is installed, so that its calls are evaluated). :mod:`maas.local.iam_enforcement`
then evaluates each call against that role's synthesized statements, and a call they do not
allow fails in the workflow as on AWS, as a Task error named by the service's AccessDenied
code (``Lambda.AccessDeniedException`` for ``lambda:invoke``, ``SageMaker.AccessDeniedException``
for ``aws-sdk:sagemaker``, ...), which a ``Catch`` may handle.

A call with no ``state_credentials`` (moto 5.2.5 passes them on every call) would keep moto's
fake keys, unchecked.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

import boto3
from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

# Imports every interpreter module that imports ``boto_client_for``, so each is replaced.
from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: F401

from maas.local.function_credentials import CredentialSessions
from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

    from botocore.client import BaseClient

#: The package whose modules import ``boto_client_for`` by name.
_INTERPRETER = "moto.stepfunctions.parser"


def install(stack: ExitStack, credentials: Callable[[str, str], Mapping[str, str]]) -> None:
    """Sign the interpreter's calls with role sessions until ``stack`` closes.

    ``credentials(session_name, role_arn)`` returns the variables of a session of the role
    (:meth:`maas.local.function_credentials.FunctionCredentials.environment`).
    """
    original: Callable[..., BaseClient] = boto_client_module.boto_client_for
    sessions = CredentialSessions(boto3._get_default_session)
    # One client per role session, Region and service: clients are thread-safe, and each
    # state's call would otherwise build two (moto's, then the session's).
    clients: dict[tuple[str, str, str], BaseClient] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> BaseClient:
        role_arn = getattr(state_credentials, "role_arn", None)
        if not role_arn:
            return original(region, service, state_credentials)
        # The role's name is a valid session name (IAM allows [\w+=,.@-]{1,64} for both).
        variables = credentials(str(role_arn).rsplit("/", 1)[-1], str(role_arn))
        key = (variables["AWS_ACCESS_KEY_ID"], region, service)
        with lock:
            if key not in clients:
                # moto's client, for its configuration and endpoint (no retries, the states'
                # timeouts).
                model = original(region, service, state_credentials)
                clients[key] = sessions.session(variables).client(
                    service,  # type: ignore[call-overload]  # known only when the state runs
                    region_name=region,
                    endpoint_url=model.meta.endpoint_url,
                    config=model.meta.config,
                )
            return clients[key]

    for name, module in list(sys.modules.items()):
        if (name == _INTERPRETER or name.startswith(f"{_INTERPRETER}.")) and getattr(
            module, "boto_client_for", None
        ) is original:
            stack.enter_context(replace(module, "boto_client_for", boto_client_for))


__all__ = ["install"]
