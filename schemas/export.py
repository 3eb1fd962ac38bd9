"""Export the contract models as JSON Schema files that subscribers and clients can rely on.

``python -m schemas.export`` writes one file per exported model under ``schemas/json/``;
``python -m schemas.export --check`` writes nothing and exits non-zero when a file there
differs from what the models produce (CI runs it, and ``tests/unit/test_schema_files.py``
does the same check).

Which mode of :meth:`pydantic.BaseModel.model_json_schema` describes a document depends on
who holds the model:

- Requests are *input*: the platform validates what a client sends, so their schemas are
  generated in ``"validation"`` mode and say what the platform accepts.
- Records and event details are *output*: the platform writes them with ``model_dump_json``
  and others read them, so their schemas are generated in ``"serialization"`` mode and say
  what a reader receives. Today both modes give the same schemas; they part as soon as a
  model gains a computed field, a custom serializer, or a validator that accepts more than
  the serializer emits, and a reader must be promised the shape it is sent.

Examples
--------
>>> schemas = json_schemas()
>>> schemas["endpoint-record.schema.json"]["$id"]
'urn:maas:schema:endpoint-record'
>>> sorted(name for name in schemas if name.startswith("event."))[0]
'event.EndpointDeleted.schema.json'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from schemas.deployment import DeploymentRequest, TeardownRequest
from schemas.endpoint import EndpointRecord
from schemas.events import EVENT_DETAIL_MODELS
from schemas.lifecycle import LifecycleRequest
from schemas.packaging import ModelVersionRecord, PackageManifest, PackagingRequest
from schemas.scaling import ScaleRequest
from schemas.update import UpdateRequest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode

#: The dialect pydantic generates: JSON Schema draft 2020-12.
JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
#: Where the exported files live (shipped as package data of ``schemas``).
JSON_SCHEMA_DIR: Final = Path(__file__).resolve().parent / "json"
#: Every exported file's name ends so; the part before it names the schema (``$id``).
SCHEMA_SUFFIX: Final = ".schema.json"


class ExportedModel(NamedTuple):
    """A model exported as one JSON Schema file."""

    #: Names the file (``<name>.schema.json``) and the ``$id`` (``urn:maas:schema:<name>``).
    name: str
    #: The schema's ``title``: the model's name, or the event's detail-type.
    title: str
    model: type[BaseModel]
    #: ``"validation"`` for what the platform accepts, ``"serialization"`` for what it emits.
    mode: JsonSchemaMode


def exported_models() -> list[ExportedModel]:
    """List the models that are exported, with the name and mode of each schema.

    Returns
    -------
    list of ExportedModel
        The requests, the endpoint record, then one event detail per detail-type.

    Examples
    --------
    >>> [(entry.name, entry.mode) for entry in exported_models()][:2]
    [('deployment-request', 'validation'), ('teardown-request', 'validation')]
    """
    return [
        ExportedModel("deployment-request", "DeploymentRequest", DeploymentRequest, "validation"),
        ExportedModel("teardown-request", "TeardownRequest", TeardownRequest, "validation"),
        ExportedModel("packaging-request", "PackagingRequest", PackagingRequest, "validation"),
        ExportedModel("scale-request", "ScaleRequest", ScaleRequest, "validation"),
        ExportedModel("update-request", "UpdateRequest", UpdateRequest, "validation"),
        ExportedModel("lifecycle-request", "LifecycleRequest", LifecycleRequest, "validation"),
        ExportedModel("endpoint-record", "EndpointRecord", EndpointRecord, "serialization"),
        ExportedModel(
            "model-version-record", "ModelVersionRecord", ModelVersionRecord, "serialization"
        ),
        ExportedModel("package-manifest", "PackageManifest", PackageManifest, "serialization"),
        # The one event clients publish (source maas.client): the platform validates it.
        ExportedModel(
            "event.LifecycleRequested", "LifecycleRequested", LifecycleRequest, "validation"
        ),
        *(
            ExportedModel(f"event.{detail_type}", detail_type, model, "serialization")
            for detail_type, model in EVENT_DETAIL_MODELS.items()
        ),
    ]


def json_schemas() -> dict[str, dict[str, Any]]:
    """Generate the JSON Schema of every exported model.

    Returns
    -------
    dict
        File name (``<name>.schema.json``) -> JSON Schema, with ``$schema``, ``$id`` and
        ``title`` set.

    Examples
    --------
    >>> schema = json_schemas()["deployment-request.schema.json"]
    >>> schema["$schema"], schema["title"]
    ('https://json-schema.org/draft/2020-12/schema', 'DeploymentRequest')
    >>> "endpoint_name" in schema["required"]
    True
    """
    schemas: dict[str, dict[str, Any]] = {}
    for entry in exported_models():
        schema = entry.model.model_json_schema(mode=entry.mode)
        schema["$schema"] = JSON_SCHEMA_DIALECT
        schema["$id"] = f"urn:maas:schema:{entry.name}"
        schema["title"] = entry.title
        schemas[f"{entry.name}{SCHEMA_SUFFIX}"] = schema
    return schemas


def render(schema: dict[str, Any]) -> str:
    """Format a schema as its file holds it.

    Sorted keys, a two-space indent and a trailing newline keep a regenerated file
    byte-identical when nothing changed, and its diff small when something did.

    Parameters
    ----------
    schema
        A JSON Schema.

    Returns
    -------
    str
        The file's text.

    Examples
    --------
    >>> print(render({"type": "object", "title": "T"}), end="")
    {
      "title": "T",
      "type": "object"
    }
    """
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path = JSON_SCHEMA_DIR) -> list[Path]:
    """Write every exported schema under ``directory`` and remove schema files of no model.

    Parameters
    ----------
    directory
        Where the files go; created if missing.

    Returns
    -------
    list of Path
        The files written or removed because they differed, sorted; empty when the
        directory was already up to date.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     written = write(Path(folder))
    >>> sorted(path.name for path in written)[0]
    'deployment-request.schema.json'
    """
    directory.mkdir(parents=True, exist_ok=True)
    expected = {name: render(schema) for name, schema in json_schemas().items()}
    changed: list[Path] = []
    for name, text in expected.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    # A file left behind by a renamed or deleted model would still be shipped and trusted.
    for path in directory.glob("*.json"):
        if path.name not in expected:
            path.unlink()
            changed.append(path)
    return sorted(changed)


def check(directory: Path = JSON_SCHEMA_DIR) -> list[str]:
    """Compare ``directory`` with what the models produce, without writing anything.

    Parameters
    ----------
    directory
        The directory of exported schemas.

    Returns
    -------
    list of str
        One line per file that is out of date, missing, or produced by no model, sorted by
        file name; empty when the directory matches the models.

    Examples
    --------
    >>> check()
    []
    """
    expected = {name: render(schema) for name, schema in json_schemas().items()}
    present = {path.name: path for path in directory.iterdir()} if directory.is_dir() else {}
    problems: list[str] = []
    for name in sorted(expected.keys() | present.keys()):
        if name not in present:
            problems.append(f"{name}: missing")
        elif name not in expected:
            problems.append(f"{name}: produced by no model")
        elif present[name].read_text(encoding="utf-8") != expected[name]:
            problems.append(f"{name}: differs from its model")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema files, or with ``--check`` report the ones that differ.

    Parameters
    ----------
    argv
        Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns
    -------
    int
        The exit status: 1 when ``--check`` found a difference, else 0.

    Examples
    --------
    >>> main(["--check"])
    0
    """
    parser = argparse.ArgumentParser(
        prog="python -m schemas.export",
        description="Write the JSON Schema files of the contract models.",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list the files that differ from the models and exit 1 if any do",
    )
    parser.add_argument(
        "--directory",
        type=Path,
        default=JSON_SCHEMA_DIR,
        help="the directory of schema files (default: %(default)s)",
    )
    arguments = parser.parse_args(argv)
    directory: Path = arguments.directory
    if arguments.check:
        problems = check(directory)
        for problem in problems:
            print(f"{directory}/{problem}", file=sys.stderr)
        if problems:
            print("Run `make schemas` to regenerate them.", file=sys.stderr)
            return 1
        return 0
    for path in write(directory):
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
