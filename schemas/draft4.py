"""JSON Schema draft 2020-12 (what pydantic writes) as draft 4, for the EventBridge Schema Registry.

The registry (``AWS::EventSchemas::Schema``) takes a schema of type ``JSONSchemaDraft4`` or
``OpenApi3``, not 2020-12. The event details' schemas use little that draft 4 lacks, and
each such keyword has a draft 4 form:

- ``$defs`` are ``definitions`` (and each ``$ref`` follows), ``$id`` is ``id``;
- ``const: x`` is ``enum: [x]``;
- ``exclusiveMinimum: n`` (a number) is ``minimum: n`` with ``exclusiveMinimum: true``, and
  the same for the maximum;
- ``examples`` and pydantic's OpenAPI-style ``discriminator`` have no meaning in draft 4 and
  are left out (validation is unchanged: ``oneOf`` stays).

Examples
--------
>>> to_draft4({"$defs": {"A": {"const": 1}}, "properties": {"a": {"$ref": "#/$defs/A"}}})
{'definitions': {'A': {'enum': [1]}}, 'properties': {'a': {'$ref': '#/definitions/A'}}}
"""

from __future__ import annotations

from typing import Any, Final

#: The draft 4 meta-schema.
DRAFT4_DIALECT: Final = "http://json-schema.org/draft-04/schema#"

#: Keywords whose value is a map of name -> schema.
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
#: Keywords whose value is a list of schemas.
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf")
#: Keywords whose value is one schema (``additionalProperties`` may also be a boolean).
_SCHEMAS = ("items", "additionalProperties", "not")
#: Keywords draft 4 has no use for.
_DROPPED = ("examples", "discriminator")


def to_draft4(schema: dict[str, Any]) -> dict[str, Any]:
    """The draft 4 form of a 2020-12 ``schema`` (a new dict; ``schema`` is not changed)."""
    converted: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in _DROPPED:
            continue
        if keyword == "$schema":
            converted[keyword] = DRAFT4_DIALECT
        elif keyword == "$id":
            converted["id"] = value
        elif keyword == "$ref":
            converted[keyword] = value.replace("#/$defs/", "#/definitions/")
        elif keyword == "const":
            converted["enum"] = [value]
        elif keyword in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            converted["minimum" if keyword == "exclusiveMinimum" else "maximum"] = value
            converted[keyword] = True
        elif keyword in _SCHEMA_MAPS:
            name = "definitions" if keyword == "$defs" else keyword
            converted[name] = {key: to_draft4(item) for key, item in value.items()}
        elif keyword in _SCHEMA_LISTS:
            converted[keyword] = [to_draft4(item) for item in value]
        elif keyword in _SCHEMAS and isinstance(value, dict):
            converted[keyword] = to_draft4(value)
        else:
            converted[keyword] = value
    return converted


__all__ = ["DRAFT4_DIALECT", "to_draft4"]
