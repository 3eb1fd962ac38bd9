"""Request bodies: how large they may be, and JSON read strictly.

Python's ``json.loads`` takes more than JSON and more than a request needs: ``NaN`` and
``Infinity``, integers of any length (past 4300 digits it raises ``ValueError``, not a decode
error), nesting until the interpreter's recursion limit (``RecursionError``). Each of those
answered a 500. :func:`parse_json_body` refuses them as a decode error, which the API answers
``400`` naming what is wrong, and every documented body is far inside the limits.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

#: The largest body the API reads: well above any request it documents (a ``config.json``
#: for the advisor is a few KB, a pipeline's template at most 16,000 characters), and below
#: what a synchronous Lambda invocation carries (6 MB) and API Gateway forwards (10 MB).
MAX_BODY_BYTES = 1024 * 1024

#: The one media type of request bodies (Powertools would read forms as well, into nonsense).
JSON_MEDIA_TYPE = "application/json"

#: How deep objects and arrays may nest: documented bodies (a config.json included) nest a
#: handful of levels.
MAX_JSON_DEPTH = 32

#: Digits an integer may have, sign aside: 64-bit integers have at most 20.
MAX_INTEGER_DIGITS = 20


_TOO_DEEP = f"it nests deeper than {MAX_JSON_DEPTH} levels"


class _Refused(ValueError):
    """A number or constant the API does not take; the message says which."""


def body_size(event: dict[str, Any]) -> int:
    """The size in bytes of the body a proxy event carries, as the client sent it."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return len(body.encode("utf-8", errors="surrogatepass"))
    try:
        return len(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError):
        # Not base64 after all: the decoder that reads it later says so; count what is there.
        return len(body)


def content_type(event: dict[str, Any]) -> str | None:
    """The request's ``Content-Type``, whatever the case of its name."""
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type":
            return str(value)
    for name, values in (event.get("multiValueHeaders") or {}).items():
        if name.lower() == "content-type" and values:
            return str(values[-1])
    return None


def is_json(media_type: str | None) -> bool:
    """Whether a body of ``media_type`` is read as JSON: ``application/json``, or none given.

    Examples
    --------
    >>> is_json("application/json; charset=utf-8"), is_json(None)
    (True, True)
    >>> is_json("application/x-www-form-urlencoded")
    False
    """
    return (media_type or JSON_MEDIA_TYPE).split(";")[0].strip().lower() == JSON_MEDIA_TYPE


def parse_json_body(text: str) -> Any:
    """``text`` as JSON, refusing what a request body must not hold.

    Raises
    ------
    json.JSONDecodeError
        When ``text`` is not JSON, nests deeper than :data:`MAX_JSON_DEPTH`, has an integer
        longer than :data:`MAX_INTEGER_DIGITS` digits, or a number JSON cannot hold
        (``NaN``, ``Infinity``, or a float that overflows).

    Examples
    --------
    >>> parse_json_body('{"version": 3}')
    {'version': 3}
    >>> try:
    ...     parse_json_body('{"version": ' + "9" * 30 + "}")
    ... except json.JSONDecodeError as refused:
    ...     print(refused.msg)
    an integer has 30 digits; at most 20 are taken
    """
    try:
        value = json.loads(
            text, parse_int=_integer, parse_float=_float, parse_constant=_no_constant
        )
    except _Refused as refused:
        raise json.JSONDecodeError(str(refused), text, 0) from None
    except RecursionError:
        raise json.JSONDecodeError(_TOO_DEEP, text, 0) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise json.JSONDecodeError(_TOO_DEEP, text, 0)
    return value


def _integer(digits: str) -> int:
    count = len(digits.lstrip("-"))
    if count > MAX_INTEGER_DIGITS:
        raise _Refused(f"an integer has {count} digits; at most {MAX_INTEGER_DIGITS} are taken")
    return int(digits)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise _Refused(f"{name} is not a JSON value")


def _depth(value: Any) -> int:
    # Iterative: the value came out of a parser that can go deeper than Python's own stack.
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


__all__ = [
    "JSON_MEDIA_TYPE",
    "MAX_BODY_BYTES",
    "MAX_INTEGER_DIGITS",
    "MAX_JSON_DEPTH",
    "body_size",
    "content_type",
    "is_json",
    "parse_json_body",
]
