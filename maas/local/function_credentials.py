"""Each local function runs with temporary credentials of its own execution role, as on AWS.

Why this exists: Lambda gives a function its execution role's credentials in
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` and ``AWS_SESSION_TOKEN``, and every call
the function makes is authorized as that role ("Lambda execution role",
https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html; the
variables: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
Locally every handler runs in one process, so the same is done per invocation:

- :class:`FunctionCredentials` assumes a function's role through the emulated STS when the
  function first needs it, keeps the session, and assumes it again shortly before it expires
  (as :class:`maas.tenancy.TenantSessions` does). The credentials join the function's
  environment (:mod:`maas.local.awslambda`), so a session of the role signs the calls, and
  :mod:`maas.local.iam_enforcement` evaluates them against the role's statements.
- boto3's default session reads the environment's credentials once per process and keeps
  them: :func:`install` makes ``boto3.client()`` (and :func:`maas.aws.client`) use, where the
  environment names credentials other than the process's, a session of those credentials,
  one per access key. Elsewhere (the runtime's own calls, the workflows') the process's
  default session stays as it was.

A thread a handler starts without copying its context sees the process's environment, and so
acts with the process's credentials, unchecked.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session

from maas.local.patching import replace

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import ExitStack

#: How long a function's role session lasts (a role's default maximum session duration).
SESSION_SECONDS = 3600
#: How long before its expiry a session is assumed again.
RENEW_BEFORE_SECONDS = 300

_ACCESS_KEY = "AWS_ACCESS_KEY_ID"


class FunctionCredentials:
    """The environment variables of each function's role session, assumed on first use.

    Parameters
    ----------
    sts
        An STS client of the emulated account (the runtime's own).
    clock
        Epoch seconds now (a test's clock).
    """

    def __init__(self, sts: Any, *, clock: Callable[[], float] = time.time) -> None:
        self._sts = sts
        self._clock = clock
        self._sessions: dict[str, tuple[dict[str, str], float]] = {}
        self._lock = threading.Lock()

    def environment(self, session_name: str, role_arn: str) -> dict[str, str]:
        """``AWS_ACCESS_KEY_ID`` and friends of the session ``session_name`` of ``role_arn``.

        Lambda names a function's session after the function (the ARN CloudTrail shows); a
        state machine's sessions (:mod:`maas.local.workflow_credentials`) are named after
        their role.
        """
        with self._lock:
            kept = self._sessions.get(session_name)
            if kept is not None and kept[1] - RENEW_BEFORE_SECONDS > self._clock():
                return kept[0]
            credentials = self._sts.assume_role(
                RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=SESSION_SECONDS
            )["Credentials"]
            variables = {
                _ACCESS_KEY: credentials["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
                "AWS_SESSION_TOKEN": credentials["SessionToken"],
            }
            self._sessions[session_name] = (variables, credentials["Expiration"].timestamp())
            return variables


class CredentialSessions:
    """boto3 sessions of role-session credentials, one per access key, created on first use.

    A session created while :mod:`maas.local.iam_enforcement` is installed has its handlers,
    so its clients' calls are evaluated (boto3's default session, created before, has not).
    Each shares ``default()``'s model loader (loading the service models again per session
    would cost each cold start).
    """

    def __init__(self, default: Callable[[], boto3.Session]) -> None:
        self._default = default
        self._sessions: dict[str, boto3.Session] = {}
        self._lock = threading.Lock()

    def session(self, environment: Mapping[str, str]) -> boto3.Session:
        """The session of the credentials ``environment`` names (``AWS_ACCESS_KEY_ID``...)."""
        with self._lock:
            session = self._sessions.get(environment[_ACCESS_KEY])
            if session is None:
                default = self._default()
                core = botocore.session.Session()
                core.register_component(
                    "data_loader", default._session.get_component("data_loader")
                )
                core.set_credentials(
                    environment[_ACCESS_KEY],
                    environment["AWS_SECRET_ACCESS_KEY"],
                    environment.get("AWS_SESSION_TOKEN"),
                )
                session = boto3.Session(botocore_session=core, region_name=default.region_name)
                self._sessions[environment[_ACCESS_KEY]] = session
            return session


def install(stack: ExitStack) -> None:
    """Give ``boto3.client()`` the environment's credentials per context, until ``stack`` closes."""
    original: Callable[[], boto3.Session] = boto3._get_default_session
    process_key = os.environ.get(_ACCESS_KEY)
    sessions = CredentialSessions(original)

    def default_session() -> boto3.Session:
        key = os.environ.get(_ACCESS_KEY)
        if key is None or key == process_key:
            return original()
        return sessions.session(os.environ)

    stack.enter_context(replace(boto3, "_get_default_session", default_session))


__all__ = [
    "RENEW_BEFORE_SECONDS",
    "SESSION_SECONDS",
    "CredentialSessions",
    "FunctionCredentials",
    "install",
]
