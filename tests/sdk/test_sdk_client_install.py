"""The client alone: ``sdk/python`` builds a wheel that installs and works without the server.

Why a fresh virtual environment rather than blocking imports in this one: a blocked import
proves only what one run of the code touched, in an environment that has every dependency
anyway. Here the wheel is what a user installs: its declared dependencies are resolved by
pip into an environment with nothing else, so a module missing from the wheel, a dependency
missing from its metadata, or a server package imported anywhere (at import or in a command)
fails the test; and the environment is checked to hold none of the server's distributions.
Then every module of the wheel is imported, and the SDK and the client's ``maas`` command
call the served API as a user would. The install is docs/sdk.md's own command, run as
written in the checkout (pip builds ``sdk/python``'s wheel with build isolation, as a user's
pip would).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.docblocks import containing, runs
from tests.workflows.versions import register_version

if TYPE_CHECKING:
    from tests.sdk.conftest import ServedApi

ROOT = Path(__file__).resolve().parents[2]
(INSTALL,) = runs("docs/sdk.md", "console", containing("pip install ./sdk/python"))

#: Distributions of the server a client install must not carry.
SERVER_DISTRIBUTIONS = {
    "boto3",
    "botocore",
    "aws-lambda-powertools",
    "moto",
    "joserfc",
    "torch",
    "transformers",
    "ragas",
    "aws-cdk-lib",
}

_SDK_SCRIPT = """
import importlib, json, pkgutil, sys
import maas, schemas
modules = [
    m.name for p in (maas, schemas) for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")
]
for name in modules:
    importlib.import_module(name)
from maas.sdk import MaasClient, NotFound, resolve_connection
connection = resolve_connection()
with MaasClient(connection.api_url, connection.token) as client:
    endpoints = [e.endpoint_name for e in client.iter_endpoints()]
    models = client.list_models().items
    try:
        client.get_endpoint("no-such-endpoint")
        found = True
    except NotFound:
        found = False
print(json.dumps({"modules": modules, "endpoints": endpoints, "found": found}))
"""


#: The answers the SDK parses into types of the evaluation and advisor modules: the advisor's
#: report, EvalGen's session, selection and stored set, and an evaluation's summary (asked of
#: one that does not exist: the type is imported before the request).
_ANSWERS_SCRIPT = """
import json, sys
from maas.sdk import MaasClient, NotFound, resolve_connection
from maas.evaluation.evalgen.sessions import CriteriaSpec, GradeSpec, SessionSpec
model, version, config = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
outputs = [
    {"id": "o1", "input": "Returns?", "output": "Within 30 days."},
    {"id": "o2", "input": "Gift cards?", "output": "I cannot help with that, sorry."},
]
criteria = {"criteria": [{"name": "answers", "description": "No refusal.",
                          "assertions": [{"kind": "no_refusal"}]}]}
connection = resolve_connection()
with MaasClient(connection.api_url, connection.token) as client:
    report = client.recommend(config)
    session = client.create_evalgen_session(
        SessionSpec.model_validate({"name": "client", "task": "Answer.", "outputs": outputs})
    )
    for output_id, grade in (("o1", "up"), ("o2", "down")):
        spec = GradeSpec.model_validate({"output_id": output_id, "grade": grade})
        client.grade_evalgen_output("client", spec)
    client.set_evalgen_criteria("client", CriteriaSpec.model_validate(criteria))
    selection = client.select_evalgen_assertions("client")
    stored = client.put_assertion_set(model, version, session="client")
    read = client.get_assertion_set(model, version)
    try:
        client.get_evaluation_summary("acme_0123456789abcdef01234567")
        summary = "found"
    except NotFound:
        summary = "not found"
print(json.dumps({
    "instance_type": report.recommendation.instance_type,
    "outputs": session.outputs,
    "chosen": len(selection.assertion_set.assertions),
    "stored": stored.model_name,
    "same": read.assertion_set == selection.assertion_set,
    "summary": summary,
}))
"""


@pytest.fixture(scope="module")
def client_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv where docs/sdk.md's client install ran, as the page shows it."""
    (install,) = [e.command for e in INSTALL.examples if "./sdk/python" in e.command]
    venv = tmp_path_factory.mktemp("client") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        ["bash", "-c", f"{install} --quiet --disable-pip-version-check"],
        cwd=ROOT,  # the page's path is the checkout's
        env={**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"},
        check=True,
        capture_output=True,
        timeout=600,
    )
    return venv


def _run(venv: Path, arguments: list[str], served: ServedApi, tmp_path: Path) -> str:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "MAAS_"))
    }
    environment |= {
        "MAAS_API_URL": served.url,
        "MAAS_TOKEN": served.token,
        "MAAS_CONFIG": str(tmp_path / "profiles.toml"),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
    }
    ran = subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,  # not the checkout: its maas/ would be importable from there
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


def test_the_client_install_carries_no_server_distribution(client_env: Path) -> None:
    listed = subprocess.run(
        [str(client_env / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {item["name"].lower() for item in json.loads(listed.stdout)}

    assert "maas-client" in installed
    assert {"httpx", "pydantic", "typer", "rich"} <= installed
    assert installed & SERVER_DISTRIBUTIONS == set()


def test_every_module_imports_and_the_sdk_calls_the_api(
    client_env: Path, served: ServedApi, tmp_path: Path
) -> None:
    printed = _run(
        client_env, [str(client_env / "bin" / "python"), "-c", _SDK_SCRIPT], served, tmp_path
    )
    answer = json.loads(printed)

    assert "maas.sdk.client" in answer["modules"]
    assert "maas.cli.client" in answer["modules"]
    assert "maas.local" not in {name.rsplit(".", 1)[0] for name in answer["modules"]}
    assert isinstance(answer["endpoints"], list)
    assert answer["found"] is False


def test_the_sdks_evalgen_evaluation_and_advisor_answers_parse(
    client_env: Path, served: ServedApi, tmp_path: Path
) -> None:
    version = register_version(served.runtime, "client-install")
    config = (ROOT / "docs" / "examples" / "qwen3-8b.config.json").read_text()
    python = str(client_env / "bin" / "python")
    arguments = [python, "-c", _ANSWERS_SCRIPT, "client-install", str(version.version), config]

    answer = json.loads(_run(client_env, arguments, served, tmp_path))

    assert answer["instance_type"].startswith("ml.")
    assert answer["outputs"] == 2
    assert answer["chosen"] == 1
    assert answer["stored"] == "client-install"
    assert answer["same"] is True
    assert answer["summary"] == "not found"


def test_the_client_command_lists_and_signs_in(
    client_env: Path, served: ServedApi, tmp_path: Path
) -> None:
    maas = str(client_env / "bin" / "maas")

    listed = _run(client_env, [maas, "endpoints", "list", "--json"], served, tmp_path)
    usage = _run(client_env, [maas, "usage", "--json"], served, tmp_path)
    helped = _run(client_env, [maas, "--help"], served, tmp_path)

    assert isinstance(json.loads(listed), list)
    assert "totals" in json.loads(usage)
    assert "login" in helped
    assert "local" not in helped.split()  # the server's commands are not the client's
