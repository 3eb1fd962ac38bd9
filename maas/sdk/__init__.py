"""The Python SDK of the control plane's REST API: a typed client, waiters, pages, profiles.

Examples
--------
.. code-block:: python

    from maas.sdk import MaasClient, resolve_connection

    connection = resolve_connection()  # MAAS_API_URL / MAAS_TOKEN, or a profile
    with MaasClient(connection.api_url, connection.token) as maas:
        for endpoint in maas.iter_endpoints():
            print(endpoint.endpoint_name, endpoint.status)
"""

from maas.sdk.client import MaasClient, UnexpectedResponse
from maas.sdk.errors import (
    Conflict,
    EndpointFailed,
    ExecutionFailed,
    GatewayTimeout,
    InvalidRequest,
    MaasApiError,
    MaasSdkError,
    NotFound,
    QuotaExceeded,
    ServiceUnavailable,
    Unauthorized,
    WaiterTimeout,
)
from maas.sdk.profiles import Connection, Profile, ProfileError, resolve_connection
from maas.sdk.retry import RetryPolicy
from maas.sdk.waiters import wait_for_execution, wait_until_in_service

__all__ = [
    "Conflict",
    "Connection",
    "EndpointFailed",
    "ExecutionFailed",
    "GatewayTimeout",
    "InvalidRequest",
    "MaasApiError",
    "MaasClient",
    "MaasSdkError",
    "NotFound",
    "Profile",
    "ProfileError",
    "QuotaExceeded",
    "RetryPolicy",
    "ServiceUnavailable",
    "Unauthorized",
    "UnexpectedResponse",
    "WaiterTimeout",
    "resolve_connection",
    "wait_for_execution",
    "wait_until_in_service",
]
