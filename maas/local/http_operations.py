"""Which API operation a signed HTTP request calls, and with which parameters.

Why this exists: a process that reaches the emulation over HTTP (a Batch job, through
``AWS_ENDPOINT_URL``) is authorized from its request alone, as AWS authorizes it: the
Signature Version 4 credential scope names the access key and the signing service
(https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), and the
service's protocol says where the operation and its parameters are. botocore's service
models describe every protocol's wire format, so the request is read back through them:

- ``json`` (``X-Amz-Target: <targetPrefix>.<Operation>``, a JSON body of the API's
  parameters, as botocore serialized them);
- ``query`` (``Action=<Operation>`` and the parameters flattened in a form:
  ``Tags.member.1.Key``);
- ``rest-json`` and ``rest-xml`` (the operation is the one whose ``requestUri`` template and
  method match; its parameters are the URI labels, query string and headers the model
  binds, and for ``rest-json`` the JSON body's members);

botocore speaks JSON to a service that offers it beside CBOR or query (CloudWatch), so a
target header is read as JSON whatever protocol the model names first.

A signing name shared by several services (``sagemaker`` signs both SageMaker's API and its
runtime's) is resolved by the target prefix or the URI. What cannot be read is None, which
the caller treats as a call it cannot authorize.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

import botocore.exceptions
import botocore.session

if TYPE_CHECKING:
    from collections.abc import Mapping

    from botocore.model import OperationModel, Shape, StructureShape

#: ``Credential=<access key>/<date>/<region>/<service>/aws4_request`` in a SigV4 header.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
#: The services signed with a name that is not their own, by signing name.
_SIGNED_AS = {
    "sagemaker": ("sagemaker", "sagemaker-runtime"),
    "bedrock": ("bedrock", "bedrock-runtime"),
    "states": ("stepfunctions",),
    "monitoring": ("cloudwatch",),
}
#: A body larger than this is never read for parameters (an upload's content).
_MAX_PARAMETER_BODY = 1024 * 1024
#: The query protocol's list items (``Name.member.N``), and a flattened list's (``Name.N``).
_LIST_ITEM = "{key}.member.{index}"


@dataclass(frozen=True)
class SignedRequest:
    """What an HTTP request carries, as a WSGI server received it."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value, whatever its case."""
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass(frozen=True)
class Call:
    """An API call read from a request."""

    model: OperationModel
    params: dict[str, Any]


def signer(headers: Mapping[str, str], query: str) -> tuple[str, str] | None:
    """(access key, signing name) of a request signed with SigV4, in its ``Authorization``
    header or its query string (a presigned URL), or None when it is not so signed.

    >>> signer({"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA1/20261207/us-east-1/"
    ...         "s3/aws4_request, SignedHeaders=host, Signature=0"}, "")
    ('AKIA1', 's3')
    """
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    presigned = parse_qs(query).get("X-Amz-Credential", [""])[0]
    found = _CREDENTIAL.search(authorization) or _CREDENTIAL.search(f"Credential={presigned}")
    return None if found is None else (found.group(1), found.group(2))


def read_call(signing_name: str, request: SignedRequest) -> Call | None:
    """The operation ``request`` calls on a service signed as ``signing_name``, or None."""
    target = request.header("X-Amz-Target")
    for service in _SIGNED_AS.get(signing_name, (signing_name,)):
        model = _service_model(service)
        if model is None:
            continue
        if target is not None:
            call = _json_call(model, target, request)
        elif model.protocol == "query":
            call = _query_call(model, request)
        elif model.protocol in ("rest-json", "rest-xml"):
            call = _rest_call(model, request)
        else:
            call = None
        if call is not None:
            return call
    return None


@functools.cache
def _service_model(service: str) -> Any:
    try:
        return _session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError:
        return None


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def _json_call(model: Any, target: str, request: SignedRequest) -> Call | None:
    prefix, _, operation = target.rpartition(".")
    if prefix != model.metadata.get("targetPrefix") or operation not in model.operation_names:
        return None
    params = _json_body(request)
    return None if params is None else Call(model.operation_model(operation), params)


def _query_call(model: Any, request: SignedRequest) -> Call | None:
    form = {
        key: values[0]
        for key, values in parse_qs(
            request.body.decode() if request.body else request.query, keep_blank_values=True
        ).items()
    }
    operation = form.get("Action")
    if operation not in model.operation_names:
        return None
    operation_model = model.operation_model(operation)
    shape = operation_model.input_shape
    params = {} if shape is None else _query_structure(shape, form, "")
    return Call(operation_model, params)


def _query_structure(shape: StructureShape, form: Mapping[str, str], prefix: str) -> dict[str, Any]:
    values = {}
    for name, member in shape.members.items():
        value = _query_value(member, form, prefix + member.serialization.get("name", name))
        if value is not None:
            values[name] = value
    return values


def _query_value(shape: Shape, form: Mapping[str, str], key: str) -> Any:
    if shape.type_name == "structure":
        return _query_structure(shape, form, f"{key}.") or None  # type: ignore[arg-type]
    if shape.type_name == "list":
        member = shape.member  # type: ignore[attr-defined]
        flattened = shape.serialization.get("flattened", False)
        items = []
        index = 1
        while True:
            item_key = f"{key}.{index}" if flattened else _LIST_ITEM.format(key=key, index=index)
            item = _query_value(member, form, item_key)
            if item is None:
                break
            items.append(item)
            index += 1
        return items or None
    return form.get(key)


def _rest_call(model: Any, request: SignedRequest) -> Call | None:
    query = parse_qs(request.query, keep_blank_values=True)
    best: tuple[tuple[int, int, int], str, dict[str, str]] | None = None
    for operation in model.operation_names:
        http = model.operation_model(operation).http
        if http.get("method", "").upper() != request.method.upper():
            continue
        matched = _match_uri(http.get("requestUri", "/"), request.path, query)
        if matched is None:
            continue
        bound = _bound_members(model.operation_model(operation), request, query)
        if bound is None:
            continue
        rank = (matched[0][0], bound, matched[0][1])
        if best is None or rank > best[0]:
            best = (rank, operation, matched[1])
    if best is None:
        return None
    operation_model = model.operation_model(best[1])
    return Call(operation_model, _rest_params(operation_model, best[2], query, request))


def _bound_members(
    model: OperationModel, request: SignedRequest, query: Mapping[str, list[str]]
) -> int | None:
    """How many of the operation's required header and query members the request carries,
    or None if it lacks one (``CopyObject`` is ``PutObject``'s URI with a required
    ``x-amz-copy-source`` header)."""
    shape = model.input_shape
    if shape is None:
        return 0
    bound = 0
    for name in shape.required_members:
        member = shape.members[name]
        wire = member.serialization.get("name", name)
        location = member.serialization.get("location")
        if location == "header":
            present = request.header(wire) is not None
        elif location == "querystring":
            present = wire in query
        else:
            continue
        if not present:
            return None
        bound += 1
    return bound


def _match_uri(
    template: str, path: str, query: Mapping[str, list[str]]
) -> tuple[tuple[int, int], dict[str, str]] | None:
    """The labels of ``path`` if it matches ``template`` (a ``requestUri``) and the query holds
    what the template requires; with the match's specificity (required query keys, then the
    template's literal characters), so that ``/{Bucket}?list-type=2`` beats ``/{Bucket}``."""
    template_path, _, template_query = template.partition("?")
    pattern = _uri_pattern(template_path)
    found = pattern.fullmatch(path) or pattern.fullmatch(path.rstrip("/") or "/")
    if found is None:
        return None
    required = [part.partition("=") for part in template_query.split("&") if part]
    for key, has_value, value in required:
        if key not in query or (has_value and value not in query[key]):
            return None
    literal = len(re.sub(r"\{[^}]+\}", "", template_path))
    labels = {name: unquote(text) for name, text in found.groupdict().items()}
    return (len(required), literal), labels


@functools.cache
def _uri_pattern(template_path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template_path)
    regex = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            greedy = name.endswith("+")
            regex += f"(?P<{_group(name.rstrip('+'))}>{'.+' if greedy else '[^/]+'})"
        else:
            regex += re.escape(part)
    return re.compile(regex)


def _group(label: str) -> str:
    """A regex group name for a URI label (labels are letters and digits, some with ``-``)."""
    return re.sub(r"\W", "_", label)


def _rest_params(
    model: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    request: SignedRequest,
) -> dict[str, Any]:
    shape = model.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    body_members = []
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            value: Any = labels.get(_group(wire))
        elif location == "querystring":
            values = query.get(wire)
            value = None if values is None else values if member.type_name == "list" else values[0]
        elif location == "header":
            value = request.header(wire)
        elif location is None and not member.serialization.get("eventpayload"):
            body_members.append(name)
            continue
        else:
            continue
        if value is not None:
            params[name] = value
    payload = shape.serialization.get("payload")
    if model.service_model.protocol == "rest-json" and body_members and payload is None:
        body = _json_body(request) or {}
        params.update({name: body[name] for name in body_members if name in body})
    return params


def _json_body(request: SignedRequest) -> dict[str, Any] | None:
    if len(request.body) > _MAX_PARAMETER_BODY:
        return None
    if not request.body.strip():
        return {}
    try:
        parsed = json.loads(request.body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


__all__ = ["Call", "SignedRequest", "read_call", "signer"]
